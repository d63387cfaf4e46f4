package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.Backpressure;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.BusCounters;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.TopicPattern;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker takes several envelopes of one lane per lock acquisition; these tests pin down that
 * nobody can tell: depth and capacity stay exact while a batched envelope is in the handler, a
 * higher lane still overtakes, pause stops at once, and a requeued envelope keeps its place.
 */
class InMemoryBatchTests {

	private static final String TOPIC = "batch.tasks";

	private final List<String> received = new CopyOnWriteArrayList<>();

	private final CountDownLatch stalled = new CountDownLatch(1);

	private final CountDownLatch release = new CountDownLatch(1);

	private DefaultMessageBus bus;

	private Subscription subscription;

	@AfterEach
	void close() {
		this.release.countDown();
		if (this.bus != null) {
			this.bus.close();
		}
	}

	@Test
	void aBatchedEnvelopeInTheHandlerNoLongerCountsAsQueued() throws Exception {
		int capacity = 5;
		subscribe(new Backpressure(capacity, 1.0, BackpressurePolicy.REJECT, Duration.ZERO), "m2");
		this.subscription.pause();
		for (int i = 0; i < capacity; i++) {
			this.bus.publish(TOPIC, "m" + i).join();
		}
		this.subscription.resume();
		assertThat(this.stalled.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(state().depth()).as("m3 and m4 wait; m2 is in the handler").isEqualTo(2);
		int refused = 0;
		for (int i = 0; i < 10; i++) {
			if (this.bus.publish(TOPIC, "extra" + i).isCompletedExceptionally()) {
				refused++;
			}
		}
		assertThat(refused).as("exactly the room left is accepted").isEqualTo(10 - (capacity - 2));
		assertThat(state().depth()).isEqualTo(capacity);
		this.release.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.received.size() == 2 * capacity - 2);
		assertThat(this.received).containsExactly("m0", "m1", "m2", "m3", "m4", "extra0", "extra1", "extra2");
		await().atMost(Duration.ofSeconds(5)).until(() -> state().depth() == 0);
	}

	@Test
	void aHigherLaneOvertakesTheRestOfABatch() throws Exception {
		subscribe(Backpressure.DEFAULTS, "n1");
		this.subscription.pause();
		for (int i = 0; i < 10; i++) {
			this.bus.publish(TOPIC, "n" + i).join();
		}
		this.subscription.resume();
		assertThat(this.stalled.await(10, TimeUnit.SECONDS)).isTrue();
		this.bus.publish(TOPIC, "high", PublishOptions.priority(Priority.HIGH)).join();
		this.release.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.received.size() == 11);
		assertThat(this.received).containsExactly("n0", "n1", "high", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9");
	}

	@Test
	void pauseStopsInTheMiddleOfABatch() throws Exception {
		subscribe(Backpressure.DEFAULTS, "m1");
		this.subscription.pause();
		for (int i = 0; i < 6; i++) {
			this.bus.publish(TOPIC, "m" + i).join();
		}
		this.subscription.resume();
		assertThat(this.stalled.await(10, TimeUnit.SECONDS)).isTrue();
		this.subscription.pause();
		this.release.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.received.size() == 2);
		await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> this.received.size() == 2);
		assertThat(state().depth()).isEqualTo(4);
		this.subscription.resume();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.received.size() == 6);
		assertThat(this.received).containsExactly("m0", "m1", "m2", "m3", "m4", "m5");
	}

	@Test
	void aRequeuedEnvelopeInABatchIsDeliveredAgainBeforeTheRest() throws Exception {
		InMemoryBroker broker = InMemoryBroker.builder().build();
		broker.start(new AdapterContext(new BusCounters()));
		List<String> deliveries = new CopyOnWriteArrayList<>();
		AtomicBoolean requeued = new AtomicBoolean();
		CountDownLatch go = new CountDownLatch(1);
		ConsumerSpec spec = new ConsumerSpec("requeue-" + UUID.randomUUID(), TopicPattern.compile(TOPIC), null, 1,
				EnumSet.allOf(Priority.class), null);
		BrokerConsumer consumer = broker.subscribe(spec, (envelope) -> {
			String body = new String(envelope.payload());
			if (body.equals("m0")) {
				awaitQuietly(go);
			}
			deliveries.add(body);
			return (body.equals("m2") && requeued.compareAndSet(false, true)) ? Disposition.REQUEUE
					: Disposition.ACK;
		});
		try {
			List<Envelope> envelopes = new ArrayList<>();
			for (int i = 0; i < 5; i++) {
				envelopes.add(envelope("m" + i));
			}
			for (Envelope envelope : envelopes) {
				broker.send(envelope).join();
			}
			go.countDown();
			await().atMost(Duration.ofSeconds(10)).until(() -> deliveries.size() == 6);
			assertThat(deliveries).containsExactly("m0", "m1", "m2", "m2", "m3", "m4");
			ConsumerState state = consumer.state();
			assertThat(state.depth()).isZero();
		}
		finally {
			consumer.close(Duration.ofSeconds(5));
			broker.close(Duration.ofSeconds(5));
		}
	}

	private void subscribe(Backpressure backpressure, String stallOn) {
		this.bus = DefaultMessageBus.builder().adapter(InMemoryBroker.builder().build()).build();
		this.subscription = this.bus.subscribe(TOPIC, String.class, (Message<String> message) -> {
			this.received.add(message.getPayload());
			if (message.getPayload().equals(stallOn)) {
				this.stalled.countDown();
				this.release.await(60, TimeUnit.SECONDS);
			}
		}, SubscribeOptions.builder().backpressure(backpressure).build());
	}

	private ConsumerState state() {
		for (SubscriptionInfo info : this.bus.subscriptions()) {
			if (info.id().equals(this.subscription.id())) {
				return info.state();
			}
		}
		throw new IllegalStateException("no subscription " + this.subscription.id());
	}

	private static Envelope envelope(String body) {
		long now = System.currentTimeMillis();
		return new Envelope(MessageIds.next(now), TOPIC, null, Priority.NORMAL, now, "/test", "text/plain", null, null,
				0, Map.of(), body.getBytes());
	}

	private static void awaitQuietly(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
