package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.spi.ConsumerState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Memory stays bounded (issue 2): a stalled subscriber receives many times its queue's capacity,
 * the queue never holds more than its capacity, and the policy's outcome is exactly what was
 * configured, counted message by message.
 */
class InMemoryBoundedMemoryTests {

	private static final int CAPACITY = 10;

	private static final String TOPIC = "bounded.tasks";

	private final List<String> received = new CopyOnWriteArrayList<>();

	private final CountDownLatch blockerEntered = new CountDownLatch(1);

	private final CountDownLatch release = new CountDownLatch(1);

	private DefaultMessageBus bus;

	private Subscription subscription;

	private DepthSampler sampler;

	@AfterEach
	void close() {
		this.release.countDown();
		if (this.sampler != null) {
			this.sampler.stop();
		}
		if (this.bus != null) {
			this.bus.close();
		}
	}

	@Test
	void rejectRefusesEverythingAboveCapacity() throws Exception {
		stall(new Backpressure(CAPACITY, 0.5, BackpressurePolicy.REJECT, Duration.ofSeconds(5)));
		int total = 10 * CAPACITY;
		int refused = 0;
		for (int i = 0; i < total; i++) {
			CompletableFuture<UUID> sent = this.bus.publish(TOPIC, "m" + i);
			assertThat(sent).as("reject never waits").isDone();
			if (sent.isCompletedExceptionally()) {
				assertThat(causeOf(sent)).isInstanceOf(BackpressureException.class);
				refused++;
			}
			assertThat(depth()).isLessThanOrEqualTo(CAPACITY);
		}
		assertThat(refused).isEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().rejected()).isEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().dropped()).isZero();
		assertThat(this.bus.counters().published()).isEqualTo(1 + CAPACITY);
		assertThat(this.bus.counters().throttled()).as("publishes between the threshold and capacity were slowed")
			.isGreaterThanOrEqualTo(CAPACITY - CAPACITY / 2);
		ConsumerState state = state();
		assertThat(state.depth()).isEqualTo(CAPACITY);
		assertThat(state.capacity()).isEqualTo(CAPACITY);
		assertThat(state.thresholdDepth()).isEqualTo(CAPACITY / 2);
		assertThat(state.isAboveThreshold()).isTrue();
		assertThat(state.fillRatio()).isEqualTo(1.0);
		releaseAndAwait(1 + CAPACITY);
		assertThat(this.received.subList(1, this.received.size())).containsExactlyElementsOf(range(0, CAPACITY));
		assertThat(this.sampler.max()).isLessThanOrEqualTo(CAPACITY);
	}

	@Test
	void dropOldestKeepsTheNewestAndCountsEveryDrop() throws Exception {
		stall(new Backpressure(CAPACITY, 0.5, BackpressurePolicy.DROP_OLDEST, Duration.ofSeconds(5)));
		int total = 10 * CAPACITY;
		for (int i = 0; i < total; i++) {
			CompletableFuture<UUID> sent = this.bus.publish(TOPIC, "m" + i);
			assertThat(sent).as("drop-oldest accepts every publish").isCompleted().isNotCompletedExceptionally();
			assertThat(depth()).isLessThanOrEqualTo(CAPACITY);
		}
		assertThat(this.bus.counters().dropped()).isEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().rejected()).isZero();
		assertThat(this.bus.counters().published()).isEqualTo(1 + total);
		assertThat(depth()).isEqualTo(CAPACITY);
		releaseAndAwait(1 + CAPACITY);
		assertThat(this.received.subList(1, this.received.size()))
			.containsExactlyElementsOf(range(total - CAPACITY, total));
		assertThat(this.sampler.max()).isLessThanOrEqualTo(CAPACITY);
	}

	@Test
	void dropOldestTakesFromTheLowestWaitingLaneFirst() throws Exception {
		stall(new Backpressure(CAPACITY, 1.0, BackpressurePolicy.DROP_OLDEST, Duration.ofSeconds(5)));
		for (int i = 0; i < CAPACITY / 2; i++) {
			this.bus.publish(TOPIC, "high-" + i, PublishOptions.priority(Priority.HIGH));
			this.bus.publish(TOPIC, "low-" + i, PublishOptions.priority(Priority.LOW));
		}
		for (int i = 0; i < 3; i++) {
			this.bus.publish(TOPIC, "normal-" + i, PublishOptions.priority(Priority.NORMAL));
		}
		assertThat(this.bus.counters().dropped()).isEqualTo(3);
		assertThat(state().laneDepths()).containsExactly(CAPACITY / 2, 3, CAPACITY / 2 - 3);
		releaseAndAwait(1 + CAPACITY);
		assertThat(this.received).doesNotContain("low-0", "low-1", "low-2").contains("low-3", "low-4");
	}

	@Test
	void blockWaitsForTheTimeoutThenRefusesAndCountsEachRefusal() throws Exception {
		Duration blockTimeout = Duration.ofMillis(20);
		stall(new Backpressure(CAPACITY, 0.5, BackpressurePolicy.BLOCK, blockTimeout));
		int total = 5 * CAPACITY;
		int refused = 0;
		for (int i = 0; i < total; i++) {
			long start = System.nanoTime();
			CompletableFuture<UUID> sent = this.bus.publish(TOPIC, "m" + i);
			long waited = System.nanoTime() - start;
			if (sent.isCompletedExceptionally()) {
				assertThat(causeOf(sent)).isInstanceOf(BackpressureException.class)
					.hasMessageContaining("block timeout");
				assertThat(Duration.ofNanos(waited)).as("the publisher was blocked for the timeout")
					.isGreaterThanOrEqualTo(blockTimeout);
				refused++;
			}
			else {
				assertThat(sent).isCompleted();
			}
			assertThat(depth()).isLessThanOrEqualTo(CAPACITY);
		}
		assertThat(refused).isEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().rejected()).isEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().dropped()).isZero();
		assertThat(this.bus.counters().throttled()).as("every blocked publish is counted as slowed")
			.isGreaterThanOrEqualTo(total - CAPACITY);
		assertThat(this.bus.counters().published()).isEqualTo(1 + CAPACITY);
		releaseAndAwait(1 + CAPACITY);
		assertThat(this.received.subList(1, this.received.size())).containsExactlyElementsOf(range(0, CAPACITY));
		assertThat(this.sampler.max()).isLessThanOrEqualTo(CAPACITY);
	}

	@Test
	void blockLosesNothingWhenTheSubscriberCatchesUp() throws Exception {
		stall(new Backpressure(CAPACITY, 0.5, BackpressurePolicy.BLOCK, Duration.ofSeconds(30)));
		int publishers = 4;
		int perPublisher = 5 * CAPACITY;
		ExecutorService executor = Executors.newFixedThreadPool(publishers);
		try {
			List<Future<?>> running = new ArrayList<>();
			for (int p = 0; p < publishers; p++) {
				int publisher = p;
				running.add(executor.submit(() -> {
					for (int i = 0; i < perPublisher; i++) {
						this.bus.publish(TOPIC, "p" + publisher + "-" + i).join();
					}
					return null;
				}));
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> depth() == CAPACITY);
			Thread.sleep(200);
			assertThat(running).as("publishers wait while the queue is full").noneMatch(Future::isDone);
			assertThat(depth()).isEqualTo(CAPACITY);
			this.release.countDown();
			for (Future<?> publisher : running) {
				publisher.get(30, TimeUnit.SECONDS);
			}
		}
		finally {
			executor.shutdownNow();
		}
		int total = publishers * perPublisher;
		await().atMost(Duration.ofSeconds(30)).until(() -> this.received.size() == 1 + total);
		assertThat(this.bus.counters().rejected()).isZero();
		assertThat(this.bus.counters().dropped()).isZero();
		assertThat(this.bus.counters().published()).isEqualTo(1 + total);
		assertThat(this.bus.counters().delivered()).isEqualTo(1 + total);
		assertThat(this.received).doesNotHaveDuplicates();
		assertThat(this.sampler.max()).isLessThanOrEqualTo(CAPACITY);
	}

	@Test
	void groupQueueIsBoundedLikeASubscription() throws Exception {
		this.bus = DefaultMessageBus.builder().adapter(InMemoryBroker.builder().build()).build();
		Backpressure bounds = new Backpressure(CAPACITY, 0.5, BackpressurePolicy.REJECT, Duration.ZERO);
		SubscribeOptions options = SubscribeOptions.builder().group("bounded-group").backpressure(bounds).build();
		this.subscription = this.bus.subscribe(TOPIC, String.class, this::handle, options);
		this.bus.subscribe(TOPIC, String.class, this::handle,
				SubscribeOptions.builder().group("bounded-group").backpressure(bounds).build());
		this.sampler = new DepthSampler();
		this.bus.publish(TOPIC, "blocker").join();
		this.bus.publish(TOPIC, "blocker").join();
		assertThat(this.blockerEntered.await(10, TimeUnit.SECONDS)).isTrue();
		await().atMost(Duration.ofSeconds(10)).until(() -> state().inFlight() == 2);
		int refused = 0;
		for (int i = 0; i < 10 * CAPACITY; i++) {
			if (this.bus.publish(TOPIC, "m" + i).isCompletedExceptionally()) {
				refused++;
			}
		}
		assertThat(refused).isEqualTo(9 * CAPACITY);
		assertThat(this.bus.counters().rejected()).isEqualTo(9 * CAPACITY);
		releaseAndAwait(2 + CAPACITY);
		assertThat(this.sampler.max()).isLessThanOrEqualTo(CAPACITY);
	}

	private void stall(Backpressure backpressure) throws InterruptedException {
		this.bus = DefaultMessageBus.builder().adapter(InMemoryBroker.builder().build()).build();
		this.subscription = this.bus.subscribe(TOPIC, String.class, this::handle,
				SubscribeOptions.builder().backpressure(backpressure).build());
		this.sampler = new DepthSampler();
		this.bus.publish(TOPIC, "blocker").join();
		assertThat(this.blockerEntered.await(10, TimeUnit.SECONDS)).as("the subscriber is stalled").isTrue();
		assertThat(depth()).isZero();
	}

	private void handle(dev.amb.core.Message<String> message) throws InterruptedException {
		if (message.getPayload().equals("blocker")) {
			this.blockerEntered.countDown();
			this.release.await(60, TimeUnit.SECONDS);
		}
		this.received.add(message.getPayload());
	}

	private void releaseAndAwait(int expected) {
		this.release.countDown();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.received.size() == expected);
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5))
			.until(() -> this.received.size() == expected);
	}

	private ConsumerState state() {
		for (SubscriptionInfo info : this.bus.subscriptions()) {
			if (info.id().equals(this.subscription.id())) {
				return info.state();
			}
		}
		throw new AssertionError("subscription not found");
	}

	private long depth() {
		return state().depth();
	}

	private static List<String> range(int from, int to) {
		List<String> payloads = new ArrayList<>();
		for (int i = from; i < to; i++) {
			payloads.add("m" + i);
		}
		return payloads;
	}

	private static Throwable causeOf(CompletableFuture<?> future) {
		try {
			future.get();
			throw new AssertionError("the publish succeeded");
		}
		catch (ExecutionException ex) {
			return ex.getCause();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError(ex);
		}
	}

	/** Watches the queue depth from another thread for the whole test, as monitoring would. */
	private final class DepthSampler {

		private final AtomicLong max = new AtomicLong();

		private final AtomicBoolean running = new AtomicBoolean(true);

		private final Thread thread;

		DepthSampler() {
			this.thread = new Thread(() -> {
				while (this.running.get()) {
					this.max.accumulateAndGet(depth(), Math::max);
					LockSupport.parkNanos(200_000);
				}
			}, "depth-sampler");
			this.thread.setDaemon(true);
			this.thread.start();
		}

		long max() {
			return this.max.get();
		}

		void stop() {
			this.running.set(false);
		}

	}

}
