package dev.amb.core;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.PublishInterceptor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * A publish interceptor (tracing, for example) learns how every publish it saw ended, including
 * one that failed before anything was sent, so that nothing it opened stays open.
 */
class PublishInterceptorTests {

	private final List<String> events = new CopyOnWriteArrayList<>();

	private final PublishInterceptor interceptor = (topic, headers) -> {
		this.events.add("before " + topic);
		headers.put("trace", "t-1");
		return (failure) -> this.events.add("after " + topic + " "
				+ ((failure != null) ? failure.getClass().getSimpleName() : "ok"));
	};

	private final DefaultMessageBus bus = DefaultMessageBus.builder()
		.adapter(InMemoryBroker.builder().build())
		.maxPayloadBytes(16)
		.publishInterceptor(this.interceptor)
		.drainTimeout(Duration.ofSeconds(5))
		.build();

	@AfterEach
	void close() {
		this.bus.close();
	}

	@Test
	void interceptorAddsHeadersAndSeesTheOutcome() {
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		this.bus.subscribe("traced.t", String.class, received::add);
		this.bus.publish("traced.t", "small").join();
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
		assertThat(received.get(0).getHeaders()).containsEntry("trace", "t-1");
		assertThat(this.events).containsExactly("before traced.t", "after traced.t ok");
	}

	@Test
	void interceptorLearnsOfAPublishThatFailedBeforeSending() {
		assertThatExceptionOfType(MessageTooLargeException.class)
			.isThrownBy(() -> this.bus.publish("traced.t", "far too large for sixteen bytes"));
		assertThatExceptionOfType(InvalidMessageException.class)
			.isThrownBy(() -> this.bus.publish("traced.t", new Unwritable()));
		assertThat(this.events).containsExactly("before traced.t", "after traced.t MessageTooLargeException",
				"before traced.t", "after traced.t InvalidMessageException");
	}

	/** A payload Jackson cannot write: its only property fails. */
	public static final class Unwritable {

		public String getValue() {
			throw new IllegalStateException("not today");
		}

	}

}
