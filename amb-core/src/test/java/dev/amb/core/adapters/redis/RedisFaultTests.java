package dev.amb.core.adapters.redis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.persistence.FileMessageStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Faults against the real Redis: the adapters' connections killed on the server
 * ({@code CLIENT KILL}, only the connections of this test class) while publishing and consuming,
 * with and without the write-ahead log as outbox, and a group member that dies in the middle of
 * handling. Redis restarts are in {@link RedisRestartTests}.
 */
class RedisFaultTests {

	private static RedisTestSupport redis;

	private final List<DefaultMessageBus> buses = new ArrayList<>();

	@BeforeAll
	static void connect() {
		redis = new RedisTestSupport();
	}

	@AfterAll
	static void cleanUp() {
		if (redis != null) {
			redis.close();
		}
	}

	@AfterEach
	void closeBuses() {
		this.buses.forEach(DefaultMessageBus::close);
	}

	private DefaultMessageBus bus(RedisBrokerSettings settings, Duration drainTimeout) {
		DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(redis.connectionFactory(), settings))
			.drainTimeout(drainTimeout)
			.build();
		this.buses.add(bus);
		return bus;
	}

	@Test
	void everyAcknowledgedPublishIsDeliveredAcrossKilledConnections() throws Exception {
		RedisBrokerSettings settings = redis.settings().claimTimeout(Duration.ofSeconds(2)).build();
		DefaultMessageBus publisher = bus(settings, Duration.ofSeconds(5));
		DefaultMessageBus consumer = bus(settings, Duration.ofSeconds(5));
		String topic = "faults." + UUID.randomUUID().toString().substring(0, 8);
		Set<UUID> received = ConcurrentHashMap.newKeySet();
		AtomicInteger deliveries = new AtomicInteger();
		consumer.subscribe(topic, Integer.class, (m) -> {
			deliveries.incrementAndGet();
			received.add(m.getId());
		}, SubscribeOptions.builder().group("fault-group").concurrency(2).build());

		AtomicBoolean publishing = new AtomicBoolean(true);
		AtomicInteger killed = new AtomicInteger();
		Thread killer = new Thread(() -> {
			while (publishing.get()) {
				try {
					Thread.sleep(200);
				}
				catch (InterruptedException ex) {
					return;
				}
				killed.addAndGet(redis.killClients());
			}
		});
		killer.start();
		List<CompletableFuture<UUID>> futures = new ArrayList<>();
		try {
			for (int i = 0; i < 4000; i++) {
				try {
					futures.add(publisher.publish(topic, i));
				}
				catch (RuntimeException ex) {
					// A publish refused up front is not acknowledged: nothing to check for it.
				}
				if (i % 20 == 0) {
					Thread.sleep(2);
				}
			}
		}
		finally {
			publishing.set(false);
			killer.join();
		}
		Set<UUID> acknowledged = new java.util.HashSet<>();
		int failed = 0;
		for (CompletableFuture<UUID> future : futures) {
			try {
				acknowledged.add(future.get(60, TimeUnit.SECONDS));
			}
			catch (Exception ex) {
				failed++;
			}
		}
		System.out.println("Killed " + killed.get() + " connection(s); " + acknowledged.size()
				+ " publish(es) acknowledged, " + failed + " failed");
		assertThat(killed.get()).isPositive();
		assertThat(acknowledged).isNotEmpty();
		await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(received).containsAll(acknowledged));

		// Delivery resumed by itself: a publish after the last kill arrives.
		UUID after = publisher.publish(topic, -1).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> received.contains(after));
		System.out.println("Deliveries " + deliveries.get() + " for " + received.size() + " distinct message(s)");
	}

	@Test
	void withTheWriteAheadLogAsOutboxEveryPublishArrivesAcrossKilledConnections(@TempDir Path directory)
			throws Exception {
		RedisBrokerSettings settings = redis.settings().claimTimeout(Duration.ofSeconds(2)).build();
		try (DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(redis.connectionFactory(), settings))
			.store(FileMessageStore.open(directory))
			.drainTimeout(Duration.ofSeconds(5))
			.build()) {
			String topic = "outbox." + UUID.randomUUID().toString().substring(0, 8);
			Set<Integer> received = ConcurrentHashMap.newKeySet();
			AtomicInteger deliveries = new AtomicInteger();
			bus.subscribe(topic, Integer.class, (m) -> {
				deliveries.incrementAndGet();
				received.add(m.getPayload());
			}, SubscribeOptions.builder().group("outbox-" + UUID.randomUUID()).concurrency(2).build());
			AtomicBoolean publishing = new AtomicBoolean(true);
			AtomicInteger killed = new AtomicInteger();
			Thread killer = new Thread(() -> {
				while (publishing.get()) {
					try {
						Thread.sleep(150);
					}
					catch (InterruptedException ex) {
						return;
					}
					killed.addAndGet(redis.killClients());
				}
			});
			killer.start();
			int total = 5000;
			List<CompletableFuture<UUID>> logged = new ArrayList<>();
			try {
				for (int i = 0; i < total; i++) {
					// The application publishes once and does not retry: the log forwards what Redis did not take.
					logged.add(bus.publish(topic, i));
					if (i % 20 == 0) {
						Thread.sleep(2);
					}
				}
				for (CompletableFuture<UUID> future : logged) {
					// Completes once the message is in the log, whatever Redis is doing.
					future.get(30, TimeUnit.SECONDS);
				}
			}
			finally {
				publishing.set(false);
				killer.join();
			}
			assertThat(killed.get()).as("connections killed while publishing").isPositive();
			await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(received).hasSize(total));
			await().atMost(Duration.ofSeconds(30)).until(() -> bus.store().health().pending() == 0);
			System.out.println("Outbox fault test: killed " + killed.get() + " connection(s); " + total
					+ " publishes logged, all " + received.size() + " delivered (" + deliveries.get()
					+ " deliveries)");
		}
	}

	@Test
	void consumerKilledWhileIdleResumesByItself() throws Exception {
		DefaultMessageBus bus = bus(redis.settings().build(), Duration.ofSeconds(5));
		String topic = "idle." + UUID.randomUUID().toString().substring(0, 8);
		Set<Integer> received = ConcurrentHashMap.newKeySet();
		bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()));
		bus.publish(topic, 1).get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(5)).until(() -> received.contains(1));
		for (int i = 0; i < 3; i++) {
			assertThat(redis.killClients()).isPositive();
			Thread.sleep(300);
		}
		bus.publish(topic, 2).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> received.contains(2));
	}

	@Test
	void entriesOfAMemberThatDiedMidHandlingAreClaimedByAnotherMember() throws Exception {
		RedisBrokerSettings settings = redis.settings().claimTimeout(Duration.ofSeconds(1)).build();
		String topic = "claims." + UUID.randomUUID().toString().substring(0, 8);
		String group = "claimers-" + UUID.randomUUID();
		CountDownLatch entered = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Set<UUID> handledByDying = ConcurrentHashMap.newKeySet();
		DefaultMessageBus dying = bus(settings, Duration.ofMillis(300));
		dying.subscribe(topic, Integer.class, (m) -> {
			entered.countDown();
			// Stuck: the member is closed (as if it died) before this returns.
			release.await(30, TimeUnit.SECONDS);
			handledByDying.add(m.getId());
		}, SubscribeOptions.group(group));
		List<UUID> published = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			published.add(dying.publish(topic, i).get(5, TimeUnit.SECONDS));
		}
		assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
		dying.close();
		assertThat(handledByDying).isEmpty();

		Set<UUID> received = ConcurrentHashMap.newKeySet();
		DefaultMessageBus survivor = bus(settings, Duration.ofSeconds(5));
		survivor.subscribe(topic, Integer.class, (m) -> received.add(m.getId()), SubscribeOptions.group(group));
		try {
			await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(received).containsAll(published));
		}
		finally {
			release.countDown();
		}
	}

}
