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
			// An envelope that claims another topic than the one it is on: never handed to this topic's handlers.
			ProducerRecord<byte[], byte[]> elsewhere = new ProducerRecord<>(topic,
					"{\"id\":\"x\",\"quantity\":1}".getBytes(StandardCharsets.UTF_8));
			elsewhere.headers().add(WireHeaders.ID, UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
			elsewhere.headers().add(WireHeaders.TOPIC, "some.other.topic".getBytes(StandardCharsets.UTF_8));
			raw.send(elsewhere).get();
		}
		bus.publish(topic, new Order("after-garbage", 1)).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(30)).until(() -> deadLetters.size() == 3 && received.size() == 1);
		assertThat(received.get(0).getPayload().id()).isEqualTo("after-garbage");
		assertThat(deadLetters).extracting((m) -> m.getHeader(WireHeaders.DLQ_REASON))
			.anySatisfy((reason) -> assertThat(reason).startsWith("unreadable envelope: Header 'id' is missing"))
			.anySatisfy((reason) -> assertThat(reason).startsWith("undecodable payload"))
			.anySatisfy((reason) -> assertThat(reason).contains("names 'some.other.topic'"));
		assertThat(deadLetters).anySatisfy((m) -> assertThat(new String(m.getPayload(), StandardCharsets.UTF_8))
			.isEqualTo("no headers"));
	}

	@Test
	void higherLanesAreDeliveredFirstFromABacklog() throws Exception {
		// A starvation bound above the backlog, so that the order is strict.
		DefaultMessageBus bus = bus(testSettings().partitions(1).starvationBound(1000).build());
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
