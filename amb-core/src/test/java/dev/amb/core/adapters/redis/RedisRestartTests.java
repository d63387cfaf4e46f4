package dev.amb.core.adapters.redis;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.StreamInfo.XInfoGroups;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.persistence.FileMessageStore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redis itself stopped (SIGKILL, as a crash would) and started again while the bus publishes and
 * consumes, with at-least-once settings (a group subscription). Each test runs a
 * {@code redis-server} of its own on a free port ({@link PrivateRedisServer}), so the shared
 * server other tests use is never stopped. What survives a restart is what Redis persisted: with
 * {@code appendonly yes} and {@code appendfsync always}, everything it answered; without
 * persistence, nothing, and then the subscriptions re-create their groups and go on.
 */
class RedisRestartTests {

	private static final String CLIENT_NAME = "amb-restart-test";

	@Test
	void withAppendOnlyFsyncAlwaysNoPublishRedisAnsweredIsLostAndDeliveryResumesByItself() throws Exception {
		try (PrivateRedisServer server = PrivateRedisServer.start(true)) {
			LettuceConnectionFactory connectionFactory = server.connectionFactory(CLIENT_NAME);
			try (DefaultMessageBus bus = bus(connectionFactory, null)) {
				String topic = "restart." + UUID.randomUUID().toString().substring(0, 8);
				Set<UUID> received = ConcurrentHashMap.newKeySet();
				bus.subscribe(topic, Integer.class, (m) -> received.add(m.getId()),
						SubscribeOptions.builder().group("restart").concurrency(2).build());
				Publisher publisher = new Publisher(bus, topic);
				Thread thread = new Thread(publisher, "restart-publisher");
				thread.start();
				int answeredBeforeKill;
				try {
					await().atMost(Duration.ofSeconds(60)).until(() -> publisher.answered.size() >= 1000);
					server.kill();
					answeredBeforeKill = publisher.answered.size();
					Thread.sleep(1500);
				}
				finally {
					server.start();
				}
				await().atMost(Duration.ofSeconds(90))
					.until(() -> publisher.answered.size() >= answeredBeforeKill + 1000);
				publisher.stop.set(true);
				thread.join(TimeUnit.SECONDS.toMillis(90));
				assertThat(thread.isAlive()).isFalse();
				// Every publish Redis answered, before the crash, across it and after it, arrives.
				await().atMost(Duration.ofSeconds(90))
					.untilAsserted(() -> assertThat(missing(publisher.answered, received)).isZero());
				System.out.println("Restart test (appendonly, fsync always): " + publisher.answered.size()
						+ " publishes answered by Redis (" + answeredBeforeKill + " before the crash), "
						+ publisher.failed.get() + " failed; every answered one delivered, " + received.size()
						+ " distinct ids received");
			}
			finally {
				connectionFactory.destroy();
			}
		}
	}

	@Test
	void withTheLogAsOutboxWhatWasPublishedWhileRedisWasDownArrivesOnceItIsBack(@TempDir Path directory)
			throws Exception {
		try (PrivateRedisServer server = PrivateRedisServer.start(true)) {
			LettuceConnectionFactory connectionFactory = server.connectionFactory(CLIENT_NAME);
			try (DefaultMessageBus bus = bus(connectionFactory, FileMessageStore.open(directory))) {
				String topic = "outbox." + UUID.randomUUID().toString().substring(0, 8);
				Set<Integer> received = ConcurrentHashMap.newKeySet();
				bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
						SubscribeOptions.builder().group("outbox").concurrency(2).build());
				for (int i = 0; i < 300; i++) {
					bus.publish(topic, i).get(30, TimeUnit.SECONDS);
				}
				await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == 300);
				List<CompletableFuture<UUID>> logged = new ArrayList<>();
				try {
					server.kill();
					for (int i = 300; i < 600; i++) {
						// Completes once logged: Redis is down, the log keeps the message until Redis takes it.
						logged.add(bus.publish(topic, i));
					}
					for (CompletableFuture<UUID> future : logged) {
						future.get(30, TimeUnit.SECONDS);
					}
					assertThat(bus.store().health().pending()).as("publishes waiting in the log for Redis")
						.isPositive();
				}
				finally {
					server.start();
				}
				for (int i = 600; i < 900; i++) {
					bus.publish(topic, i).get(60, TimeUnit.SECONDS);
				}
				await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(received).hasSize(900));
				await().atMost(Duration.ofSeconds(30)).until(() -> bus.store().health().pending() == 0);
			}
			finally {
				connectionFactory.destroy();
			}
		}
	}

	@Test
	void withoutPersistenceARestartLosesTheStreamsAndTheSubscriptionsRecreateTheirGroups() throws Exception {
		try (PrivateRedisServer server = PrivateRedisServer.start(false)) {
			LettuceConnectionFactory connectionFactory = server.connectionFactory(CLIENT_NAME);
			try (DefaultMessageBus bus = bus(connectionFactory, null)) {
				String topic = "volatile." + UUID.randomUUID().toString().substring(0, 8);
				Set<Integer> received = ConcurrentHashMap.newKeySet();
				bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
						SubscribeOptions.group("volatile"));
				for (int i = 0; i < 10; i++) {
					bus.publish(topic, i).get(30, TimeUnit.SECONDS);
				}
				await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == 10);
				try {
					server.kill();
				}
				finally {
					server.start();
				}
				byte[] stream = (PREFIX + topic + ":normal").getBytes(StandardCharsets.UTF_8);
				try (RedisConnection connection = connectionFactory.getConnection()) {
					// The restart lost everything: the group comes back only because its member re-creates it.
					await().atMost(Duration.ofSeconds(60)).until(() -> hasGroup(connection, stream, "volatile"));
					assertThat(connection.streamCommands().xLen(stream)).as("entries left after the restart").isZero();
				}
				for (int i = 10; i < 20; i++) {
					bus.publish(topic, i).get(30, TimeUnit.SECONDS);
				}
				await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(received).hasSize(20));
			}
			finally {
				connectionFactory.destroy();
			}
		}
	}

	private static final String PREFIX = "amb-restart:";

	private static DefaultMessageBus bus(LettuceConnectionFactory connectionFactory, FileMessageStore store) {
		DefaultMessageBus.Builder builder = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(connectionFactory,
					RedisBrokerSettings.builder().streamPrefix(PREFIX).claimTimeout(Duration.ofSeconds(2)).build()))
			.drainTimeout(Duration.ofSeconds(5));
		if (store != null) {
			builder.store(store);
		}
		return builder.build();
	}

	private static boolean hasGroup(RedisConnection connection, byte[] stream, String group) {
		try {
			XInfoGroups groups = connection.streamCommands().xInfoGroups(stream);
			return groups.stream().anyMatch((info) -> group.equals(info.groupName()));
		}
		catch (RuntimeException ex) {
			// No such stream yet.
			return false;
		}
	}

	private static long missing(Set<UUID> answered, Set<UUID> received) {
		return answered.stream().filter((id) -> !received.contains(id)).count();
	}

	/** Publishes a message every millisecond or so, keeping the ids Redis answered. */
	private static final class Publisher implements Runnable {

		final MessageBus bus;

		final String topic;

		final Set<UUID> answered = ConcurrentHashMap.newKeySet();

		final AtomicInteger failed = new AtomicInteger();

		final AtomicBoolean stop = new AtomicBoolean();

		Publisher(MessageBus bus, String topic) {
			this.bus = bus;
			this.topic = topic;
		}

		@Override
		public void run() {
			List<CompletableFuture<UUID>> outstanding = new ArrayList<>();
			int next = 0;
			while (!this.stop.get()) {
				CompletableFuture<UUID> future = this.bus.publish(this.topic, next++);
				future.whenComplete((id, failure) -> {
					if (failure == null) {
						this.answered.add(id);
					}
					else {
						this.failed.incrementAndGet();
					}
				});
				outstanding.add(future);
				if (next % 10 == 0) {
					try {
						Thread.sleep(5);
					}
					catch (InterruptedException ex) {
						return;
					}
				}
			}
			for (CompletableFuture<UUID> future : outstanding) {
				try {
					future.get(90, TimeUnit.SECONDS);
				}
				catch (Exception ex) {
					// Counted as failed: not answered, so not expected.
				}
			}
		}

	}

}
