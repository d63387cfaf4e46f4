package dev.amb.core.adapters.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.Backoff;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.BrokerHealth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Kafka adapter through the bus, against a real KRaft broker.
 */
class KafkaBrokerAdapterTests {

	private final List<DefaultMessageBus> buses = new ArrayList<>();

	private final String run = UUID.randomUUID().toString().substring(0, 8);

	static KafkaBrokerSettings.Builder testSettings() {
		return KafkaBrokerSettings.builder().partitions(2).pollTimeout(Duration.ofMillis(50));
	}

	DefaultMessageBus bus() {
		return bus(testSettings().build());
	}

	DefaultMessageBus bus(KafkaBrokerSettings settings) {
		DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(KafkaBrokerAdapter.forBootstrapServers(KafkaTestBroker.bootstrapServers(), settings))
			.drainTimeout(Duration.ofSeconds(5))
			.build();
		this.buses.add(bus);
		return bus;
	}

	String topic(String name) {
		return "kt" + this.run + "." + name;
	}

	@AfterEach
	void closeBuses() {
		this.buses.forEach(DefaultMessageBus::close);
	}

	record Order(String id, int quantity) {
	}

	@Test
	void roundTripCarriesPayloadAndAttributes() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("orders");
		List<Message<Order>> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, Order.class, received::add);
		UUID id = bus.publish(topic, new Order("o-1", 3), PublishOptions.builder()
			.key("customer-7")
			.priority(Priority.HIGH)
			.header("tenant", "acme")
			.correlationId("corr-1")
			.replyTo("some.reply")
			.build()).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(20)).until(() -> !received.isEmpty());
		Message<Order> message = received.get(0);
		assertThat(message.getPayload()).isEqualTo(new Order("o-1", 3));
		assertThat(message.getId()).isEqualTo(id);
		assertThat(message.getTopic()).isEqualTo(topic);
		assertThat(message.getKey()).isEqualTo("customer-7");
		assertThat(message.getPriority()).isEqualTo(Priority.HIGH);
		assertThat(message.getHeader("tenant")).isEqualTo("acme");
		assertThat(message.getCorrelationId()).isEqualTo("corr-1");
		assertThat(message.getReplyTo()).isEqualTo("some.reply");
		assertThat(message.getTimestampMillis()).isPositive();
	}

	@Test
	void broadcastReachesEverySubscriptionAndGroupsShare() throws Exception {
		DefaultMessageBus one = bus();
		DefaultMessageBus two = bus();
		String topic = topic("events");
		List<Integer> broadcastOne = new CopyOnWriteArrayList<>();
		List<Integer> broadcastTwo = new CopyOnWriteArrayList<>();
		Map<Integer, Integer> grouped = new ConcurrentHashMap<>();
		one.subscribe(topic, Integer.class, (m) -> broadcastOne.add(m.getPayload()));
		two.subscribe(topic, Integer.class, (m) -> broadcastTwo.add(m.getPayload()));
		one.subscribe(topic, Integer.class, (m) -> grouped.merge(m.getPayload(), 1, Integer::sum),
				SubscribeOptions.group("workers"));
		two.subscribe(topic, Integer.class, (m) -> grouped.merge(m.getPayload(), 1, Integer::sum),
				SubscribeOptions.group("workers"));
		for (int i = 0; i < 100; i++) {
			one.publish(topic, i, PublishOptions.key("k" + i));
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> broadcastOne.size() == 100 && broadcastTwo.size() == 100 && grouped.size() == 100);
		Thread.sleep(300);
		assertThat(grouped.values()).allMatch((count) -> count == 1);
		assertThat(broadcastOne).hasSize(100);
	}

	@Test
	void groupBacklogSurvivesItsMembersAbsence() throws Exception {
		String topic = topic("backlog");
		DefaultMessageBus first = bus();
		List<Integer> received = new CopyOnWriteArrayList<>();
		Subscription member = first.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
				SubscribeOptions.group("durable"));
		member.close();
		for (int i = 0; i < 10; i++) {
			first.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		DefaultMessageBus second = bus();
		second.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()), SubscribeOptions.group("durable"));
		await().atMost(Duration.ofSeconds(30)).until(() -> received.size() == 10);
	}

	@Test
	void sameKeyKeepsPublishOrderAcrossAGroupWithConcurrency() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("ordered");
		Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
		bus.subscribe(topic, Integer.class,
				(m) -> byKey.computeIfAbsent(m.getKey(), (k) -> Collections.synchronizedList(new ArrayList<>()))
					.add(m.getPayload()),
				SubscribeOptions.builder().group("ordered").concurrency(2).build());
		for (int i = 0; i < 300; i++) {
			bus.publish(topic, i, PublishOptions.key("key-" + (i % 5)));
		}
		await().atMost(Duration.ofSeconds(30))
			.until(() -> byKey.values().stream().mapToInt(List::size).sum() == 300);
		byKey.values().forEach((values) -> assertThat(values).isSorted());
	}

	@Test
	void failingHandlerEndsInTheDeadLetterTopicWithItsHeaders() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("poison");
		List<Message<String>> deadLetters = new CopyOnWriteArrayList<>();
		bus.subscribe(topic + ".dlq", String.class, deadLetters::add);
		bus.subscribe(topic, String.class, (m) -> {
			throw new IllegalStateException("cannot handle " + m.getPayload());
		}, SubscribeOptions.builder().maxAttempts(3).backoff(Backoff.NONE).build());
		UUID id = bus.publish(topic, "poison-pill").get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> !deadLetters.isEmpty());
		Message<String> deadLetter = deadLetters.get(0);
		assertThat(deadLetter.getId()).isEqualTo(id);
		assertThat(deadLetter.getPayload()).isEqualTo("poison-pill");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("3");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).contains("cannot handle poison-pill");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(bus.counters().deadLettered()).isEqualTo(1);
	}

	@Test
	void garbageRecordsGoToTheDeadLetterTopicAndTheConsumerKeepsGoing() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("garbage");
		List<Message<byte[]>> deadLetters = new CopyOnWriteArrayList<>();
		List<Message<Order>> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic + ".dlq", byte[].class, deadLetters::add);
		bus.subscribe(topic, Order.class, received::add);
		try (KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
				KafkaTestBroker.bootstrapServers(), ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
				ByteArraySerializer.class, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
			// No envelope headers at all: unreadable.
			raw.send(new ProducerRecord<>(topic, "no headers".getBytes(StandardCharsets.UTF_8))).get();
			// Valid envelope headers, a value that is not JSON: undecodable.
			ProducerRecord<byte[], byte[]> notJson = new ProducerRecord<>(topic,
					"{not json".getBytes(StandardCharsets.UTF_8));
			notJson.headers().add(WireHeaders.ID, UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
			notJson.headers().add(WireHeaders.CONTENT_TYPE, "application/json".getBytes(StandardCharsets.UTF_8));
			raw.send(notJson).get();
		}
		bus.publish(topic, new Order("after-garbage", 1)).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> deadLetters.size() == 2 && received.size() == 1);
		assertThat(received.get(0).getPayload().id()).isEqualTo("after-garbage");
		assertThat(deadLetters).extracting((m) -> m.getHeader(WireHeaders.DLQ_REASON))
			.anySatisfy((reason) -> assertThat(reason).startsWith("unreadable envelope: Header 'id' is missing"))
			.anySatisfy((reason) -> assertThat(reason).startsWith("undecodable payload"));
		assertThat(deadLetters).anySatisfy((m) -> assertThat(new String(m.getPayload(), StandardCharsets.UTF_8))
			.isEqualTo("no headers"));
	}

	@Test
	void wildcardsFollowTopicsCreatedAfterSubscribingButNotDeadLetters() throws Exception {
		DefaultMessageBus bus = bus();
		String base = topic("agents");
		List<String> oneSegment = new CopyOnWriteArrayList<>();
		List<String> anySegments = new CopyOnWriteArrayList<>();
		bus.subscribe(base + ".*", String.class, (m) -> oneSegment.add(m.getTopic()));
		bus.subscribe(base + ".#", String.class, (m) -> anySegments.add(m.getTopic()));
		bus.publish(base + ".a", "x").get(10, TimeUnit.SECONDS);
		bus.publish(base + ".a.b", "x").get(10, TimeUnit.SECONDS);
		bus.publish(base + ".a.dlq", "x").get(10, TimeUnit.SECONDS);
		bus.publish(base + ".c", "x", PublishOptions.priority(Priority.LOW)).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> oneSegment.size() == 2 && anySegments.size() == 3);
		Thread.sleep(500);
		assertThat(oneSegment).containsExactlyInAnyOrder(base + ".a", base + ".c");
		assertThat(anySegments).containsExactlyInAnyOrder(base + ".a", base + ".a.b", base + ".c");
	}

	@Test
	void higherLanesAreDeliveredFirstFromABacklog() throws Exception {
		DefaultMessageBus bus = bus(testSettings().partitions(1).build());
		String topic = topic("lanes");
		List<Priority> order = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, Integer.class, (m) -> order.add(m.getPriority()),
				SubscribeOptions.builder().group("lanes").build());
		subscription.pause();
		Thread.sleep(200);
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i, PublishOptions.priority(Priority.LOW));
		}
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i, PublishOptions.priority(Priority.NORMAL));
		}
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i, PublishOptions.priority(Priority.HIGH)).get(10, TimeUnit.SECONDS);
		}
		Thread.sleep(300);
		assertThat(order).isEmpty();
		subscription.resume();
		await().atMost(Duration.ofSeconds(30)).until(() -> order.size() == 150);
		assertThat(order.subList(0, 50)).containsOnly(Priority.HIGH);
		assertThat(order.subList(50, 100)).containsOnly(Priority.NORMAL);
		assertThat(order.subList(100, 150)).containsOnly(Priority.LOW);
	}

	@Test
	void requestGetsItsReply() throws Exception {
		DefaultMessageBus server = bus();
		DefaultMessageBus client = bus();
		String topic = topic("rpc");
		server.respond(topic, String.class, (m) -> m.getPayload().toUpperCase(), SubscribeOptions.group("rpc"));
		String reply = client.request(topic, "ping", String.class, Duration.ofSeconds(20)).get(30, TimeUnit.SECONDS);
		assertThat(reply).isEqualTo("PING");
	}

	@Test
	void healthShowsTheClusterWithoutCredentials() {
		DefaultMessageBus bus = bus();
		BrokerHealth health = bus.health();
		assertThat(health.reachable()).isTrue();
		assertThat(health.details()).containsKeys("clusterId", "brokers").containsEntry("brokers", 1);
		assertThat(bus.capabilities()).doesNotContain(dev.amb.core.spi.Capability.BOUNDED_QUEUES);
	}

	@Test
	void healthIsDownWhenNothingAnswers() {
		KafkaBrokerAdapter adapter = KafkaBrokerAdapter.forBootstrapServers("127.0.0.1:1",
				testSettings().healthTimeout(Duration.ofMillis(500)).build());
		adapter.start(new dev.amb.core.spi.AdapterContext(new dev.amb.core.BusCounters()));
		try {
			assertThat(adapter.health().reachable()).isFalse();
		}
		finally {
			adapter.close(Duration.ofSeconds(1));
		}
	}

	@Test
	void pausedSubscriptionTakesNothingUntilResumed() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("paused");
		List<Integer> received = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()));
		subscription.pause();
		Thread.sleep(200);
		bus.publish(topic, 1).get(10, TimeUnit.SECONDS);
		Thread.sleep(500);
		assertThat(received).isEmpty();
		assertThat(Set.copyOf(bus.subscriptions()).iterator().next().state().paused()).isTrue();
		subscription.resume();
		await().atMost(Duration.ofSeconds(20)).until(() -> received.size() == 1);
	}

}
