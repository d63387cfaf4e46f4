package dev.amb.core.adapters.kafka;

import java.io.IOException;
import java.net.ServerSocket;
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

import kafka.server.BrokerServer;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Faults on a real KRaft broker: a group member that goes away mid-batch, and a broker that
 * stops and comes back while a publisher keeps publishing.
 */
class KafkaFaultTests {

	@Test
	void messagesHeldByAClosedMemberAreRedeliveredToTheRestOfItsGroup() throws Exception {
		KafkaBrokerSettings settings = KafkaBrokerSettings.builder().partitions(4).pollTimeout(Duration.ofMillis(50)).build();
		String topic = "fault" + UUID.randomUUID().toString().substring(0, 8) + ".tasks";
		DefaultMessageBus leaving = bus(KafkaTestBroker.bootstrapServers(), settings);
		DefaultMessageBus staying = bus(KafkaTestBroker.bootstrapServers(), settings);
		try {
			Set<String> handledByLeaving = ConcurrentHashMap.newKeySet();
			Set<String> handledByStaying = ConcurrentHashMap.newKeySet();
			CountDownLatch holding = new CountDownLatch(1);
			CountDownLatch release = new CountDownLatch(1);
			leaving.subscribe(topic, String.class, (message) -> {
				holding.countDown();
				// Holds the first message (and, behind it, everything it fetched) until released.
				release.await(30, TimeUnit.SECONDS);
				handledByLeaving.add(message.getPayload());
			}, SubscribeOptions.group("workers"));
			staying.subscribe(topic, String.class, (message) -> handledByStaying.add(message.getPayload()),
					SubscribeOptions.group("workers"));
			List<String> sent = new ArrayList<>();
			List<CompletableFuture<UUID>> futures = new ArrayList<>();
			for (int i = 0; i < 400; i++) {
				String payload = "m" + i;
				sent.add(payload);
				futures.add(staying.publish(topic, payload, PublishOptions.key("key-" + (i % 40))));
			}
			for (CompletableFuture<UUID> future : futures) {
				future.get(30, TimeUnit.SECONDS);
			}
			assertThat(holding.await(30, TimeUnit.SECONDS)).as("the leaving member got a message").isTrue();
			CompletableFuture<Void> closed = CompletableFuture.runAsync(leaving::close);
			Thread.sleep(300);
			release.countDown();
			closed.get(30, TimeUnit.SECONDS);
			assertThat(handledByLeaving).hasSize(1);
			await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
				Set<String> all = ConcurrentHashMap.newKeySet();
				all.addAll(handledByLeaving);
				all.addAll(handledByStaying);
				assertThat(all).containsExactlyInAnyOrderElementsOf(sent);
			});
			assertThat(handledByStaying).as("what the leaving member held went to the one that stayed")
				.hasSizeGreaterThanOrEqualTo(sent.size() - 1);
		}
		finally {
			leaving.close();
			staying.close();
		}
	}

	@Test
	void brokerRestartWhilePublishingLosesNoAcknowledgedMessage() throws Exception {
		int port = freePort();
		EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1).kafkaPorts(port);
		broker.brokerProperties(KafkaTestBroker.FAST_START);
		broker.afterPropertiesSet();
		DefaultMessageBus bus = null;
		BrokerServer server = broker.getCluster().brokers().get(0);
		boolean stopped = false;
		try {
			KafkaBrokerSettings settings = KafkaBrokerSettings.builder().partitions(2).pollTimeout(Duration.ofMillis(50)).build();
			bus = bus(broker.getBrokersAsString(), settings);
			String topic = "restart.tasks";
			Set<String> received = ConcurrentHashMap.newKeySet();
			bus.subscribe(topic, String.class, (message) -> received.add(message.getPayload()),
					SubscribeOptions.group("survivors"));
			ConcurrentHashMap<String, CompletableFuture<UUID>> futures = new ConcurrentHashMap<>();
			AtomicInteger sequence = new AtomicInteger();
			AtomicBoolean keepPublishing = new AtomicBoolean(true);
			DefaultMessageBus publisher = bus;
			// While the broker is down, a publish may block (the producer waits up to max.block.ms
			// for metadata): the publisher goes on when the broker is back.
			Thread publishing = new Thread(() -> {
				while (keepPublishing.get()) {
					String payload = "p" + sequence.incrementAndGet();
					try {
						futures.put(payload, publisher.publish(topic, payload));
					}
					catch (RuntimeException ex) {
						futures.put(payload, CompletableFuture.failedFuture(ex));
					}
					try {
						Thread.sleep(5);
					}
					catch (InterruptedException ex) {
						return;
					}
				}
			}, "publisher");
			publishing.start();
			Thread.sleep(1500);
			server.shutdown();
			server.awaitShutdown();
			stopped = true;
			int publishedWhileUp = sequence.get();
			Thread.sleep(2000);
			server.startup();
			stopped = false;
			int publishedBeforeRestart = sequence.get();
			await().atMost(Duration.ofSeconds(60)).until(() -> sequence.get() > publishedBeforeRestart + 20);
			keepPublishing.set(false);
			publishing.join();
			List<String> acknowledged = new ArrayList<>();
			int failed = 0;
			for (var entry : futures.entrySet()) {
				try {
					entry.getValue().get(150, TimeUnit.SECONDS);
					acknowledged.add(entry.getKey());
				}
				catch (Exception ex) {
					failed++;
				}
			}
			assertThat(publishedWhileUp).isPositive();
			assertThat(sequence.get()).as("published during and after the outage").isGreaterThan(publishedWhileUp);
			assertThat(acknowledged).as("acknowledged (%d failed)", failed).isNotEmpty();
			await().atMost(Duration.ofSeconds(60))
				.untilAsserted(() -> assertThat(received).containsAll(acknowledged));
		}
		finally {
			if (bus != null) {
				bus.close();
			}
			if (stopped) {
				server.startup();
			}
			broker.destroy();
		}
	}

	private static DefaultMessageBus bus(String bootstrapServers, KafkaBrokerSettings settings) {
		return DefaultMessageBus.builder()
			.adapter(KafkaBrokerAdapter.forBootstrapServers(bootstrapServers, settings))
			.drainTimeout(Duration.ofSeconds(10))
			.build();
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

}
