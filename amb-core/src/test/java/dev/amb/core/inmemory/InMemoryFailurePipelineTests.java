package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.Backoff;
import dev.amb.core.Backpressure;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.codec.WireHeaders;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The failure pipeline when the dead-letter topic itself refuses: nothing is dropped, the message
 * stays unacknowledged and is delivered again until its dead letter goes through.
 */
class InMemoryFailurePipelineTests {

	private final CountDownLatch release = new CountDownLatch(1);

	private final DefaultMessageBus bus = DefaultMessageBus.builder()
		.adapter(InMemoryBroker.builder().build())
		.drainTimeout(Duration.ofSeconds(5))
		.build();

	@AfterEach
	void close() {
		this.release.countDown();
		this.bus.close();
	}

	@Test
	void refusedDeadLetterIsRetriedUntilItGoesThrough() throws Exception {
		String topic = "pipeline.poison";
		String deadLetterTopic = topic + ".dlq";
		List<Message<String>> deadLetters = new CopyOnWriteArrayList<>();
		CountDownLatch deadLetterWorkerBusy = new CountDownLatch(1);
		this.bus.subscribe(deadLetterTopic, String.class, (message) -> {
			deadLetterWorkerBusy.countDown();
			this.release.await(30, TimeUnit.SECONDS);
			deadLetters.add(message);
		}, SubscribeOptions.builder()
			.backpressure(new Backpressure(1, 1.0, BackpressurePolicy.REJECT, Duration.ZERO))
			.build());
		// Fill the dead-letter subscription: one filler in its handler, one waiting, so it refuses more.
		this.bus.publish(deadLetterTopic, "filler-1").join();
		assertThat(deadLetterWorkerBusy.await(10, TimeUnit.SECONDS)).isTrue();
		this.bus.publish(deadLetterTopic, "filler-2").join();

		List<Integer> attempts = new CopyOnWriteArrayList<>();
		this.bus.subscribe(topic, String.class, (message) -> {
			attempts.add(message.getDeliveryAttempt());
			throw new IllegalStateException("poison");
		}, SubscribeOptions.builder().maxAttempts(2).backoff(Backoff.NONE).build());
		this.bus.publish(topic, "poison").join();

		// Each round makes both attempts, then the dead letter is refused and the message goes back.
		// Wait for the third refusal, not the sixth attempt: the refusal comes just after it.
		await().atMost(Duration.ofSeconds(10)).until(() -> this.bus.counters().rejected() >= 3);
		assertThat(attempts.subList(0, 6)).containsExactly(1, 2, 1, 2, 1, 2);
		assertThat(this.bus.counters().deadLettered()).isZero();

		this.release.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.size() == 3);
		Message<String> deadLetter = deadLetters.get(2);
		assertThat(deadLetter.getPayload()).isEqualTo("poison");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("2");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).contains("poison");
		assertThat(this.bus.counters().deadLettered()).isEqualTo(1);
		int attemptsAtDeadLetter = attempts.size();
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
			.until(() -> attempts.size() == attemptsAtDeadLetter);
	}

	@Test
	void failingDeadLetterHandlerIsCountedNotLooped() {
		String topic = "pipeline.loop";
		List<Integer> deadLetterAttempts = new CopyOnWriteArrayList<>();
		this.bus.subscribe(topic, String.class, (message) -> {
			throw new IllegalStateException("first failure");
		}, SubscribeOptions.builder().maxAttempts(1).build());
		this.bus.subscribe(topic + ".dlq", String.class, (message) -> {
			deadLetterAttempts.add(message.getDeliveryAttempt());
			throw new IllegalStateException("the dead-letter handler fails too");
		}, SubscribeOptions.builder().maxAttempts(2).backoff(Backoff.NONE).build());
		this.bus.publish(topic, "doomed").join();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.bus.deadLetterLosses() == 1);
		assertThat(deadLetterAttempts).containsExactly(1, 2);
		assertThat(this.bus.counters().deadLettered()).isEqualTo(1);
		assertThat(this.bus.publishedByTopic()).doesNotContainKey(topic + ".dlq.dlq");
	}

}
