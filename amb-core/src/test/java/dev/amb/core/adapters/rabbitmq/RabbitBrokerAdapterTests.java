package dev.amb.core.adapters.rabbitmq;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.amb.core.Backoff;
import dev.amb.core.Backpressure;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.Envelope;
import dev.amb.core.testsupport.RealServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The RabbitMQ adapter through the bus, against the real broker on loopback.
 */
class RabbitBrokerAdapterTests {

	private static RabbitTestBroker broker;

	private final List<DefaultMessageBus> buses = new ArrayList<>();

	record Task(String name, int number) {
	}

	@BeforeAll
	static void requireBroker() {
		RealServer.RABBITMQ.require();
		broker = new RabbitTestBroker();
	}

	@AfterAll
	static void cleanUp() {
		if (broker != null) {
			broker.cleanUp();
		}
	}

	@AfterEach
	void closeBuses() {
		this.buses.forEach(DefaultMessageBus::close);
	}

	private DefaultMessageBus newBus() {
		DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(broker.newAdapter())
			.drainTimeout(Duration.ofSeconds(5))
			.build();
		this.buses.add(bus);
		return bus;
	}

	private static String topic(String name) {
		return "test." + name + "." + UUID.randomUUID().toString().substring(0, 8);
	}

	@Test
	void roundTripKeepsPayloadAndAttributes() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("roundtrip");
		CompletableFuture<Message<Task>> received = new CompletableFuture<>();
		bus.subscribe(topic, Task.class, received::complete);
		UUID id = bus
			.publish(topic, new Task("a", 1), PublishOptions.builder()
				.key("k1")
				.priority(Priority.HIGH)
				.header("tenant", "acme")
				.correlationId("c-1")
				.replyTo("reply.topic")
				.build())
			.get(10, TimeUnit.SECONDS);
		Message<Task> message = received.get(10, TimeUnit.SECONDS);
		assertThat(message.getId()).isEqualTo(id);
		assertThat(message.getPayload()).isEqualTo(new Task("a", 1));
		assertThat(message.getTopic()).isEqualTo(topic);
		assertThat(message.getKey()).isEqualTo("k1");
		assertThat(message.getPriority()).isEqualTo(Priority.HIGH);
		assertThat(message.getHeader("tenant")).isEqualTo("acme");
		assertThat(message.getCorrelationId()).isEqualTo("c-1");
		assertThat(message.getReplyTo()).isEqualTo("reply.topic");
		assertThat(message.getTimestampMillis()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
	}

	@Test
	void capabilitiesNameWhatTheBackendHonours() {
		assertThat(broker.newAdapter().capabilities()).contains(Capability.WILDCARDS, Capability.PRIORITY,
				Capability.DURABLE_GROUPS, Capability.KEY_ORDER, Capability.PAUSE)
			.doesNotContain(Capability.BOUNDED_QUEUES);
		RabbitBrokerAdapter withoutSac = new RabbitBrokerAdapter(broker.connectionFactory,
				RabbitBrokerSettings.builder().singleActiveConsumer(false).build());
		assertThat(withoutSac.capabilities()).doesNotContain(Capability.KEY_ORDER);
	}

	@Test
	void broadcastReachesEverySubscriptionAndWildcardsSkipDeadLettersAndInternalTopics() throws Exception {
		DefaultMessageBus bus = newBus();
		String base = topic("wild");
		List<String> all = new CopyOnWriteArrayList<>();
		List<String> one = new CopyOnWriteArrayList<>();
		List<String> exact = new CopyOnWriteArrayList<>();
		List<String> deadLetters = new CopyOnWriteArrayList<>();
		bus.subscribe(base + ".#", String.class, (m) -> all.add(m.getTopic()));
		bus.subscribe(base + ".*", String.class, (m) -> one.add(m.getTopic()));
		bus.subscribe(base + ".a", String.class, (m) -> exact.add(m.getTopic()));
		bus.subscribe(base + ".#.dlq", String.class, (m) -> deadLetters.add(m.getTopic()));
		for (String suffix : List.of(".a", ".a.b", ".a.dlq")) {
			bus.publish(base + suffix, "x").get(10, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(all).containsExactlyInAnyOrder(base + ".a", base + ".a.b");
			assertThat(one).containsExactly(base + ".a");
			assertThat(exact).containsExactly(base + ".a");
			assertThat(deadLetters).containsExactly(base + ".a.dlq");
		});
	}

	@Test
	void aGroupSharesTheStreamAndKeepsItsBacklogWhileAbsent() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("group");
		String group = "workers-" + UUID.randomUUID().toString().substring(0, 6);
		// The first member declares the group's queue, then leaves: the backlog waits on the broker.
		bus.subscribe(topic, Integer.class, (m) -> {
		}, SubscribeOptions.group(group)).close();
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		Map<Integer, AtomicInteger> seen = new ConcurrentHashMap<>();
		AtomicInteger firstMember = new AtomicInteger();
		AtomicInteger secondMember = new AtomicInteger();
		bus.subscribe(topic, Integer.class, (m) -> {
			firstMember.incrementAndGet();
			seen.computeIfAbsent(m.getPayload(), (k) -> new AtomicInteger()).incrementAndGet();
		}, SubscribeOptions.group(group));
		newBus().subscribe(topic, Integer.class, (m) -> {
			secondMember.incrementAndGet();
			seen.computeIfAbsent(m.getPayload(), (k) -> new AtomicInteger()).incrementAndGet();
		}, SubscribeOptions.group(group));
		for (int i = 50; i < 100; i++) {
			bus.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(15)).until(() -> seen.size() == 100);
		Thread.sleep(300);
		assertThat(seen.values()).allMatch((count) -> count.get() == 1);
		assertThat(firstMember.get() + secondMember.get()).isEqualTo(100);
	}

	@Test
	void higherLanesFirstUnderBacklog() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("lanes");
		String group = "lanes-" + UUID.randomUUID().toString().substring(0, 6);
		bus.subscribe(topic, String.class, (m) -> {
		}, SubscribeOptions.group(group)).close();
		for (int i = 0; i < 20; i++) {
			bus.publish(topic, "low", PublishOptions.priority(Priority.LOW)).get(10, TimeUnit.SECONDS);
		}
		for (int i = 0; i < 20; i++) {
			bus.publish(topic, "normal", PublishOptions.priority(Priority.NORMAL)).get(10, TimeUnit.SECONDS);
		}
		for (int i = 0; i < 20; i++) {
			bus.publish(topic, "high", PublishOptions.priority(Priority.HIGH)).get(10, TimeUnit.SECONDS);
		}
		List<String> order = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, String.class, (m) -> order.add(m.getPayload()), SubscribeOptions.group(group));
		await().atMost(Duration.ofSeconds(10)).until(() -> order.size() == 60);
		// The starvation bound (16) lets one lower-lane message through after 16 higher ones.
		assertThat(order.subList(0, 16)).containsOnly("high");
		assertThat(averagePosition(order, "high")).isLessThan(averagePosition(order, "normal"));
		assertThat(averagePosition(order, "normal")).isLessThan(averagePosition(order, "low"));
	}

	private static double averagePosition(List<String> order, String lane) {
		double sum = 0;
		int count = 0;
		for (int i = 0; i < order.size(); i++) {
			if (order.get(i).equals(lane)) {
				sum += i;
				count++;
			}
		}
		return sum / count;
	}

	@Test
	void aSubscriptionGetsOnlyItsLanes() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("onlyhigh");
		List<Priority> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, String.class, (m) -> received.add(m.getPriority()),
				SubscribeOptions.builder().lanes(EnumSet.of(Priority.HIGH)).build());
		bus.publish(topic, "low", PublishOptions.priority(Priority.LOW)).get(10, TimeUnit.SECONDS);
		bus.publish(topic, "high", PublishOptions.priority(Priority.HIGH)).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> !received.isEmpty());
		Thread.sleep(300);
		assertThat(received).containsExactly(Priority.HIGH);
	}

	@Test
	void sameKeyKeepsPublishOrderWithConcurrentWorkers() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("order");
		Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
		bus.subscribe(topic, Integer.class, (m) -> {
			byKey.computeIfAbsent(m.getKey(), (k) -> Collections.synchronizedList(new ArrayList<>()))
				.add(m.getPayload());
		}, SubscribeOptions.builder().group("order-" + UUID.randomUUID().toString().substring(0, 6)).concurrency(4).build());
		List<CompletableFuture<UUID>> sends = new ArrayList<>();
		for (int i = 0; i < 400; i++) {
			sends.add(bus.publish(topic, i, PublishOptions.key("key-" + (i % 8))));
		}
		CompletableFuture.allOf(sends.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(15))
			.until(() -> byKey.values().stream().mapToInt(List::size).sum() == 400);
		byKey.values().forEach((numbers) -> assertThat(numbers).isSorted());
	}

	@Test
	void keyOrderHoldsAcrossGroupMembersInSeparateProcesses() throws Exception {
		DefaultMessageBus publisher = newBus();
		String topic = topic("sac");
		String group = "sac-" + UUID.randomUUID().toString().substring(0, 6);
		// Two buses stand for two processes; the group's queue has one active consumer at a time.
		Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
		AtomicInteger firstMember = new AtomicInteger();
		AtomicInteger secondMember = new AtomicInteger();
		SubscribeOptions options = SubscribeOptions.builder().group(group).concurrency(3).build();
		newBus().subscribe(topic, Integer.class, (m) -> {
			firstMember.incrementAndGet();
			byKey.computeIfAbsent(m.getKey(), (k) -> Collections.synchronizedList(new ArrayList<>())).add(m.getPayload());
		}, options);
		newBus().subscribe(topic, Integer.class, (m) -> {
			secondMember.incrementAndGet();
			byKey.computeIfAbsent(m.getKey(), (k) -> Collections.synchronizedList(new ArrayList<>())).add(m.getPayload());
		}, options);
		List<CompletableFuture<UUID>> sends = new ArrayList<>();
		for (int i = 0; i < 300; i++) {
			sends.add(publisher.publish(topic, i, PublishOptions.key("key-" + (i % 5))));
		}
		CompletableFuture.allOf(sends.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(15))
			.until(() -> byKey.values().stream().mapToInt(List::size).sum() == 300);
		byKey.values().forEach((numbers) -> assertThat(numbers).isSorted());
		assertThat(Math.min(firstMember.get(), secondMember.get())).as("the inactive member").isZero();
	}

	@Test
	void aFailingHandlerIsRetriedThenDeadLetteredWithTheFailure() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("poison");
		AtomicInteger attempts = new AtomicInteger();
		bus.subscribe(topic, String.class, (m) -> {
			attempts.incrementAndGet();
			throw new IllegalStateException("cannot handle " + m.getPayload());
		}, SubscribeOptions.builder().maxAttempts(3).backoff(new Backoff(Duration.ofMillis(10), 2, Duration.ofMillis(50))).build());
		CompletableFuture<Message<String>> deadLetter = new CompletableFuture<>();
		bus.subscribe(topic + ".dlq", String.class, deadLetter::complete);
		UUID id = bus.publish(topic, "poison").get(10, TimeUnit.SECONDS);
		Message<String> dead = deadLetter.get(15, TimeUnit.SECONDS);
		assertThat(dead.getId()).isEqualTo(id);
		assertThat(dead.getPayload()).isEqualTo("poison");
		assertThat(dead.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("3");
		assertThat(dead.getHeader(WireHeaders.DLQ_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
		assertThat(dead.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(attempts.get()).isEqualTo(3);
	}

	@Test
	void deadLettersNobodySubscribesToAreKeptOnTheUnroutedQueue() throws Exception {
		DefaultMessageBus bus = newBus();
		RabbitBrokerAdapter adapter = broker.newAdapter();
		DefaultMessageBus other = DefaultMessageBus.builder().adapter(adapter).build();
		this.buses.add(other);
		long before = adapter.queueDepth(broker.settings.unroutedDeadLetterQueue());
		String topic = topic("nodlqsub");
		bus.subscribe(topic, String.class, (m) -> {
			throw new IllegalStateException("no");
		}, SubscribeOptions.builder().maxAttempts(1).build());
		bus.publish(topic, "lost?").get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10))
			.until(() -> adapter.queueDepth(broker.settings.unroutedDeadLetterQueue()) == before + 1);
		assertThat(other.health().details()).containsKey("unroutedDeadLetters");
	}

	@Test
	void requestGetsItsReply() throws Exception {
		DefaultMessageBus responder = newBus();
		DefaultMessageBus requester = newBus();
		String topic = topic("rpc");
		responder.respond(topic, Integer.class, (Message<Integer> m) -> m.getPayload() * 2,
				SubscribeOptions.group("doublers"));
		assertThat(requester.request(topic, 21, Integer.class, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS))
			.isEqualTo(42);
	}

	@Test
	void publishingToATopicWithoutSubscribersSucceedsButAnUnroutableReplyFails() throws Exception {
		RabbitBrokerAdapter adapter = broker.newAdapter();
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(adapter).build();
		this.buses.add(bus);
		assertThat(bus.publish(topic("nobody"), "fine").get(10, TimeUnit.SECONDS)).isNotNull();
		Envelope reply = new Envelope(UUID.randomUUID(), "_amb.reply." + UUID.randomUUID().toString().replace("-", ""),
				null, Priority.NORMAL, System.currentTimeMillis(), null, "application/json", "c", null, 0, Map.of(),
				"1".getBytes(StandardCharsets.UTF_8));
		assertThatThrownBy(() -> adapter.send(reply).get(10, TimeUnit.SECONDS))
			.isInstanceOf(ExecutionException.class)
			.cause()
			.isInstanceOf(UnroutableMessageException.class)
			.hasMessageContaining("no queue is bound")
			.hasMessageContaining(reply.topic());
	}

	@Test
	void mandatorySettingFailsEveryUnroutablePublish() throws Exception {
		RabbitBrokerAdapter adapter = new RabbitBrokerAdapter(broker.connectionFactory,
				RabbitBrokerSettings.builder().exchange(broker.settings.exchange()).mandatory(true).build());
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(adapter).build();
		this.buses.add(bus);
		assertThatThrownBy(() -> bus.publish(topic("nobody"), "x").get(10, TimeUnit.SECONDS))
			.cause()
			.isInstanceOf(UnroutableMessageException.class);
	}

	@Test
	void unreadableWireDataGoesToTheDeadLetterTopicAndTheListenerKeepsGoing() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("garbage");
		List<String> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, String.class, (m) -> received.add(m.getPayload()));
		CompletableFuture<Message<byte[]>> deadLetter = new CompletableFuture<>();
		bus.subscribe(topic + ".dlq", byte[].class, deadLetter::complete);
		try (var connection = broker.connectionFactory.createConnection()) {
			Channel channel = connection.createChannel(false);
			channel.basicPublish(broker.settings.exchange(), topic, new AMQP.BasicProperties.Builder()
				.headers(Map.of("id", "not-a-uuid", "tenant", "x"))
				.build(), "{garbage".getBytes(StandardCharsets.UTF_8));
			channel.close();
		}
		bus.publish(topic, "after").get(10, TimeUnit.SECONDS);
		Message<byte[]> dead = deadLetter.get(10, TimeUnit.SECONDS);
		assertThat(new String(dead.getPayload(), StandardCharsets.UTF_8)).isEqualTo("{garbage");
		assertThat(dead.getHeader(WireHeaders.DLQ_REASON)).contains("unreadable envelope").contains("not a UUID");
		assertThat(dead.getHeader(WireHeaders.RAW_PREFIX + "id")).isEqualTo("not-a-uuid");
		assertThat(dead.getHeader("tenant")).isEqualTo("x");
		await().atMost(Duration.ofSeconds(10)).until(() -> received.contains("after"));
	}

	@Test
	void theWireLeavesOutWhatTheMessageSaysAndReadersTakeEitherForm() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("wire");
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, String.class, received::add);
		String tap = broker.settings.queuePrefix() + "tap." + UUID.randomUUID().toString().substring(0, 8);
		try (var connection = broker.connectionFactory.createConnection()) {
			Channel channel = connection.createChannel(false);
			channel.queueDeclare(tap, false, false, true, Map.of());
			channel.queueBind(tap, broker.settings.exchange(), topic);
			UUID id = bus.publish(topic, "ours", PublishOptions.builder().key("k").priority(Priority.HIGH).build())
				.get(10, TimeUnit.SECONDS);
			var wire = channel.basicGet(tap, true);
			assertThat(wire).isNotNull();
			Map<String, Object> headers = wire.getProps().getHeaders();
			assertThat(headers).containsKeys(WireHeaders.SPEC_VERSION, WireHeaders.ID, WireHeaders.SOURCE,
					WireHeaders.TYPE, WireHeaders.KEY);
			assertThat(headers.get(WireHeaders.ID).toString()).isEqualTo(id.toString());
			// The routing key, the AMQP priority and the id say these.
			assertThat(headers).doesNotContainKeys(WireHeaders.TOPIC, WireHeaders.PRIORITY, WireHeaders.TIME);
			assertThat(wire.getEnvelope().getRoutingKey()).isEqualTo(topic);
			assertThat(wire.getProps().getPriority()).isEqualTo(2);
			// Another client's minimal CloudEvent: the lane from the AMQP priority, the time from the id.
			long millis = System.currentTimeMillis() - 5_000;
			UUID minimal = dev.amb.core.MessageIds.next(millis);
			channel.basicPublish(broker.settings.exchange(), topic, new AMQP.BasicProperties.Builder()
				.headers(Map.of("specversion", "1.0", "id", minimal.toString(), "source", "/other", "type", "x"))
				.priority(2)
				.build(), "minimal".getBytes(StandardCharsets.UTF_8));
			// The full set, as earlier versions wrote it: a header wins over what it would be implied from.
			UUID full = UUID.randomUUID();
			Map<String, Object> fullHeaders = new java.util.HashMap<>();
			fullHeaders.putAll(Map.of("specversion", "1.0", "id", full.toString(), "source", "/amb", "type",
					WireHeaders.MESSAGE_TYPE, "time", "2026-01-02T03:04:05.678Z", "datacontenttype", "application/json"));
			fullHeaders.putAll(Map.of("ambtopic", topic, "ambpriority", "low"));
			channel.basicPublish(broker.settings.exchange(), topic, new AMQP.BasicProperties.Builder()
				.headers(fullHeaders)
				.priority(2)
				.build(), "full".getBytes(StandardCharsets.UTF_8));
			channel.queueDelete(tap);
			channel.close();
			await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 3);
			Map<String, Message<String>> byPayload = new java.util.HashMap<>();
			received.forEach((message) -> byPayload.put(message.getPayload(), message));
			assertThat(byPayload.get("ours").getPriority()).isEqualTo(Priority.HIGH);
			assertThat(byPayload.get("ours").getTopic()).isEqualTo(topic);
			assertThat(byPayload.get("ours").getKey()).isEqualTo("k");
			assertThat(byPayload.get("ours").getTimestampMillis()).isEqualTo(dev.amb.core.MessageIds.epochMillis(id));
			assertThat(byPayload.get("minimal").getPriority()).isEqualTo(Priority.HIGH);
			assertThat(byPayload.get("minimal").getTopic()).isEqualTo(topic);
			assertThat(byPayload.get("minimal").getTimestampMillis()).isEqualTo(millis);
			assertThat(byPayload.get("full").getPriority()).isEqualTo(Priority.LOW);
			assertThat(byPayload.get("full").getTimestampMillis())
				.isEqualTo(java.time.Instant.parse("2026-01-02T03:04:05.678Z").toEpochMilli());
		}
	}

	@Test
	void pauseStopsDeliveryAndResumeCatchesUp() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("pause");
		List<Integer> received = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
				SubscribeOptions.group("pausers-" + UUID.randomUUID().toString().substring(0, 6)));
		bus.publish(topic, 1).get(10, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
		subscription.pause();
		for (int i = 2; i <= 10; i++) {
			bus.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		Thread.sleep(500);
		assertThat(received).containsExactly(1);
		subscription.resume();
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 10);
		assertThat(received).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
	}

	@Test
	void aSubscriptionsMaxQueueSizeBoundsWhatTheBrokerHandsItUnacknowledged() throws Exception {
		DefaultMessageBus bus = newBus();
		String topic = topic("prefetch");
		String group = "bounded-" + UUID.randomUUID().toString().substring(0, 6);
		CountDownLatch release = new CountDownLatch(1);
		AtomicInteger received = new AtomicInteger();
		bus.subscribe(topic, Integer.class, (message) -> {
			release.await();
			received.incrementAndGet();
		}, SubscribeOptions.builder()
			.group(group)
			.backpressure(new Backpressure(4, 0.8, BackpressurePolicy.BLOCK, Duration.ofSeconds(5)))
			.build());
		for (int i = 0; i < 40; i++) {
			bus.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		String queue = broker.settings.queuePrefix() + group + "@" + topic;
		try (var connection = broker.connectionFactory.createConnection()) {
			Channel channel = connection.createChannel(false);
			// The default prefetch (250) would take all 40; the bound of 4 leaves 36 with the broker.
			await().atMost(Duration.ofSeconds(10)).until(() -> channel.queueDeclarePassive(queue).getMessageCount() <= 36);
			Thread.sleep(300);
			assertThat(channel.queueDeclarePassive(queue).getMessageCount()).isEqualTo(36);
			release.countDown();
			await().atMost(Duration.ofSeconds(10)).until(() -> received.get() == 40);
			assertThat(channel.queueDeclarePassive(queue).getMessageCount()).isZero();
		}
		finally {
			release.countDown();
		}
	}

	@Test
	void healthShowsTheServerVersionAndNoCredentials() {
		DefaultMessageBus bus = newBus();
		var health = bus.health();
		assertThat(health.reachable()).isTrue();
		assertThat(health.details()).containsKeys("version", "host", "port");
		assertThat(health.details().toString()).doesNotContain("guest");
	}

	@Test
	void worksOnAConnectionFactoryWithSpringPublisherConfirmsAndReturnsOn() throws Exception {
		org.springframework.amqp.rabbit.connection.CachingConnectionFactory confirming = RabbitTestBroker
			.newConnectionFactory(broker.connectionName + "-confirming");
		confirming.setPublisherConfirmType(
				org.springframework.amqp.rabbit.connection.CachingConnectionFactory.ConfirmType.CORRELATED);
		confirming.setPublisherReturns(true);
		try {
			DefaultMessageBus bus = DefaultMessageBus.builder()
				.adapter(new RabbitBrokerAdapter(confirming, broker.settings))
				.build();
			this.buses.add(bus);
			String topic = topic("confirming");
			List<Integer> received = new CopyOnWriteArrayList<>();
			bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()));
			List<CompletableFuture<UUID>> sends = new ArrayList<>();
			for (int i = 0; i < 200; i++) {
				sends.add(bus.publish(topic, i));
			}
			CompletableFuture.allOf(sends.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 200);
			Envelope reply = new Envelope(UUID.randomUUID(), "_amb.reply." + UUID.randomUUID().toString().replace("-", ""),
					null, Priority.NORMAL, System.currentTimeMillis(), null, "application/json", "c", null, 0, Map.of(),
					"1".getBytes(StandardCharsets.UTF_8));
			assertThatThrownBy(() -> bus.publish(reply.topic(), 1).get(10, TimeUnit.SECONDS)).cause()
				.isInstanceOf(UnroutableMessageException.class);
		}
		finally {
			this.buses.forEach(DefaultMessageBus::close);
			this.buses.clear();
			confirming.destroy();
		}
	}

	@Test
	void anUnreachableBrokerIsReportedDownAndPublishesFailClearly() throws Exception {
		org.springframework.amqp.rabbit.connection.CachingConnectionFactory nowhere = new org.springframework.amqp.rabbit.connection.CachingConnectionFactory(
				"127.0.0.1", 1);
		nowhere.setConnectionTimeout(1000);
		try {
			RabbitBrokerAdapter adapter = new RabbitBrokerAdapter(nowhere, broker.settings);
			assertThat(adapter.health().reachable()).isFalse();
			assertThat(adapter.health().details().get("error").toString()).contains("not reachable");
			// The bus starts (the broker may come later); subscribing needs the broker and says so.
			DefaultMessageBus bus = DefaultMessageBus.builder().adapter(adapter).build();
			this.buses.add(bus);
			assertThatThrownBy(() -> bus.subscribe("test.nowhere", String.class, (m) -> {
			})).isInstanceOf(RabbitDeclarationException.class).hasMessageContaining("not reachable");
			Envelope envelope = new Envelope(UUID.randomUUID(), "test.nowhere", null, Priority.NORMAL,
					System.currentTimeMillis(), null, "application/json", null, null, 0, Map.of(),
					"1".getBytes(StandardCharsets.UTF_8));
			assertThatThrownBy(() -> adapter.send(envelope).get(10, TimeUnit.SECONDS)).cause()
				.isInstanceOf(PublishNotConfirmedException.class)
				.hasMessageContaining("Could not publish");
		}
		finally {
			nowhere.destroy();
		}
	}

	@Test
	void closingWithAnInFlightHandlerAcknowledgesOnlyWhatWasHandled() throws Exception {
		DefaultMessageBus first = DefaultMessageBus.builder()
			.adapter(broker.newAdapter())
			.drainTimeout(Duration.ofSeconds(5))
			.build();
		String topic = topic("drain");
		String group = "drain-" + UUID.randomUUID().toString().substring(0, 6);
		Set<Integer> handled = ConcurrentHashMap.newKeySet();
		first.subscribe(topic, Integer.class, (m) -> {
			Thread.sleep(20);
			handled.add(m.getPayload());
		}, SubscribeOptions.group(group));
		for (int i = 0; i < 100; i++) {
			first.publish(topic, i).get(10, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> handled.size() >= 5);
		first.close();
		Set<Integer> handledBefore = Set.copyOf(handled);
		Set<Integer> rest = ConcurrentHashMap.newKeySet();
		newBus().subscribe(topic, Integer.class, (m) -> rest.add(m.getPayload()), SubscribeOptions.group(group));
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			Set<Integer> all = new java.util.HashSet<>(handledBefore);
			all.addAll(rest);
			assertThat(all).hasSize(100);
		});
		assertThat(handledBefore.size()).isLessThan(100);
		// Acknowledgements held back for a run were sent before the channel closed: nothing the
		// first member handled comes again.
		assertThat(rest).doesNotContainAnyElementsOf(handledBefore);
	}

}
