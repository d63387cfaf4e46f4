package dev.amb.core;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.codec.JacksonPayloadCodec;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.inmemory.InMemoryBroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The bus's failure pipeline with an application codec that fails in its own way.
 */
class FailurePipelineTests {

	/** Jackson, except that it refuses payloads starting with "!" with a plain runtime exception (unless asked for bytes). */
	static final class PickyCodec implements PayloadCodec {

		private final JacksonPayloadCodec delegate = new JacksonPayloadCodec();

		@Override
		public String contentType(Object payload) {
			return this.delegate.contentType(payload);
		}

		@Override
		public byte[] encode(Object payload) {
			return this.delegate.encode(payload);
		}

		@Override
		public Object decode(byte[] bytes, String contentType, Type type) {
			if (type != byte[].class && new String(bytes, StandardCharsets.UTF_8).startsWith("!")) {
				throw new IllegalArgumentException("refused by the application's codec");
			}
			return this.delegate.decode(bytes, contentType, type);
		}

	}

	private final DefaultMessageBus bus = DefaultMessageBus.builder()
		.adapter(InMemoryBroker.builder().build())
		.codec(new PickyCodec())
		.maxPayloadBytes(1024)
		.drainTimeout(Duration.ofSeconds(5))
		.build();

	@AfterEach
	void close() {
		this.bus.close();
	}

	@Test
	void codecThatThrowsItsOwnExceptionDeadLettersInsteadOfLooping() {
		List<String> handled = new CopyOnWriteArrayList<>();
		List<Message<String>> deadLetters = new CopyOnWriteArrayList<>();
		this.bus.subscribe("picky.t", String.class, (message) -> handled.add(message.getPayload()));
		this.bus.subscribe("picky.t.dlq", byte[].class,
				(message) -> deadLetters.add(Message.builder(message.getTopic(),
						new String(message.getPayload(), StandardCharsets.UTF_8))
					.headers(message.getHeaders())
					.build()));
		this.bus.publish("picky.t", "!bad").join();
		this.bus.publish("picky.t", "good").join();
		await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.size() == 1 && handled.size() == 1);
		assertThat(handled).containsExactly("good");
		assertThat(deadLetters.get(0).getPayload()).isEqualTo("!bad");
		assertThat(deadLetters.get(0).getHeader(WireHeaders.DLQ_REASON)).startsWith("undecodable payload")
			.contains("refused by the application's codec");
		assertThat(deadLetters.get(0).getHeader(WireHeaders.DLQ_EXCEPTION))
			.isEqualTo(IllegalArgumentException.class.getName());
		assertThat(this.bus.counters().undecodable()).isEqualTo(1);
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
			.until(() -> deadLetters.size() == 1 && handled.size() == 1);
	}

	@Test
	void replyThatCannotBeSentDoesNotRunTheHandlerAgain() {
		List<Integer> attempts = new CopyOnWriteArrayList<>();
		this.bus.respond("picky.ask", String.class, (request) -> {
			attempts.add(request.getDeliveryAttempt());
			return "x".repeat(2048);
		}, SubscribeOptions.builder().maxAttempts(3).backoff(Backoff.NONE).build());
		List<String> deadLetters = new CopyOnWriteArrayList<>();
		this.bus.subscribe("picky.ask.dlq", String.class, (message) -> deadLetters.add(message.getPayload()));
		assertThat(this.bus.request("picky.ask", "question", String.class, Duration.ofMillis(500)))
			.failsWithin(Duration.ofSeconds(10))
			.withThrowableThat()
			.havingCause()
			.isInstanceOf(RequestTimeoutException.class);
		assertThat(attempts).containsExactly(1);
		assertThat(this.bus.counters().delivered()).isEqualTo(1);
		assertThat(this.bus.counters().failed()).isZero();
		assertThat(this.bus.counters().repliesSent()).isZero();
		assertThat(deadLetters).isEmpty();
	}

}
