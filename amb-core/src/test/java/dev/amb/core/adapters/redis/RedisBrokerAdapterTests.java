package dev.amb.core.adapters.redis;

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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.stream.ByteRecord;
import org.springframework.data.redis.connection.stream.StreamRecords;

import dev.amb.core.Backoff;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.awaitility.Awaitility.await;

/**
 * The Redis adapter through {@link DefaultMessageBus}, against the real Redis on loopback.
 */
class RedisBrokerAdapterTests {

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

	private DefaultMessageBus bus() {
		return bus(redis.settings().build());
	}

	private DefaultMessageBus bus(RedisBrokerSettings settings) {
		DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(redis.connectionFactory(), settings))
			.drainTimeout(Duration.ofSeconds(5))
			.build();
		this.buses.add(bus);
		return bus;
	}

	private static String topic(String name) {
		return name + "." + UUID.randomUUID().toString().substring(0, 8);
	}

	@Test
	void roundTripKeepsPayloadAndAttributesAndWritesCloudEventsFields() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("round");
		List<Message<Task>> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, Task.class, received::add);
		UUID id = bus.publish(topic, new Task("index", 7), PublishOptions.builder()
			.key("k1")
			.priority(Priority.HIGH)
			.header("tenant", "acme")
			.correlationId("corr-1")
			.replyTo("replies.here")
			.build()).get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
		Message<Task> message = received.get(0);
		assertThat(message.getId()).isEqualTo(id);
		assertThat(message.getPayload()).isEqualTo(new Task("index", 7));
		assertThat(message.getKey()).isEqualTo("k1");
		assertThat(message.getPriority()).isEqualTo(Priority.HIGH);
		assertThat(message.getHeader("tenant")).isEqualTo("acme");
		assertThat(message.getCorrelationId()).isEqualTo("corr-1");
		assertThat(message.getReplyTo()).isEqualTo("replies.here");
		try (RedisConnection admin = redis.admin()) {
			List<ByteRecord> entries = admin.streamCommands()
				.xRange(bytes(redis.prefix() + topic + ":high"), Range.unbounded());
			assertThat(entries).hasSize(1);
			Map<String, String> fields = new java.util.HashMap<>();
			entries.get(0).getValue().forEach((k, v) -> fields.put(text(k), text(v)));
			// The CloudEvents attributes an event must have, and what the entry does not already say.
			assertThat(fields).containsOnly(entry(WireHeaders.SPEC_VERSION, "1.0"),
					entry(WireHeaders.ID, id.toString()), entry(WireHeaders.SOURCE, "/amb"),
					entry(WireHeaders.TYPE, WireHeaders.MESSAGE_TYPE), entry(WireHeaders.KEY, "k1"),
					entry(WireHeaders.CORRELATION_ID, "corr-1"), entry(WireHeaders.REPLY_TO, "replies.here"),
					entry("tenant", "acme"), entry("data", "{\"name\":\"index\",\"n\":7}"));
		}
	}

	@Test
	void broadcastSubscriptionsEachReceiveEverything() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("broadcast");
		List<Integer> first = new CopyOnWriteArrayList<>();
		List<Integer> second = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, Integer.class, (m) -> first.add(m.getPayload()));
		bus.subscribe(topic, Integer.class, (m) -> second.add(m.getPayload()));
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> first.size() == 50 && second.size() == 50);
		assertThat(first).containsExactlyElementsOf(range(50));
		assertThat(second).containsExactlyElementsOf(range(50));
	}

	@Test
	void groupMembersShareTheStreamAcrossBuses() throws Exception {
		String topic = topic("group");
		String group = "workers-" + UUID.randomUUID();
		Map<Integer, AtomicInteger> handled = new ConcurrentHashMap<>();
		Set<String> members = ConcurrentHashMap.newKeySet();
		// Small reads: a member holds at most its buffer plus one read, so the other one gets a share.
		RedisBrokerSettings smallReads = redis.settings().batchSize(10).build();
		for (int i = 0; i < 2; i++) {
			String member = "member-" + i;
			bus(smallReads).subscribe(topic, Integer.class, (m) -> {
				members.add(member);
				handled.computeIfAbsent(m.getPayload(), (k) -> new AtomicInteger()).incrementAndGet();
				Thread.sleep(2);
			}, SubscribeOptions.group(group));
		}
		DefaultMessageBus publisher = bus();
		for (int i = 0; i < 200; i++) {
			publisher.publish(topic, i);
		}
		await().atMost(Duration.ofSeconds(20)).until(() -> handled.size() == 200);
		Thread.sleep(300);
		assertThat(handled.values()).allSatisfy((count) -> assertThat(count.get()).isEqualTo(1));
		assertThat(members).containsExactlyInAnyOrder("member-0", "member-1");
	}

	@Test
	void groupBacklogSurvivesItsMembersAbsence() throws Exception {
		String topic = topic("backlog");
		String group = "durable-" + UUID.randomUUID();
		DefaultMessageBus bus = bus();
		Subscription first = bus.subscribe(topic, Integer.class, (m) -> {
		}, SubscribeOptions.group(group));
		first.close();
		for (int i = 0; i < 20; i++) {
			bus.publish(topic, i).get(5, TimeUnit.SECONDS);
		}
		List<Integer> received = new CopyOnWriteArrayList<>();
		bus().subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()), SubscribeOptions.group(group));
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 20);
		assertThat(received).containsExactlyElementsOf(range(20));
	}

	@Test
	void failingHandlerDeadLettersWithTheFailureRecorded() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("poison");
		AtomicInteger attempts = new AtomicInteger();
		bus.subscribe(topic, String.class, (m) -> {
			attempts.incrementAndGet();
			throw new IllegalStateException("cannot handle " + m.getPayload());
		}, SubscribeOptions.builder().maxAttempts(3).backoff(Backoff.NONE).build());
		List<Message<String>> deadLetters = new CopyOnWriteArrayList<>();
		bus.subscribe(topic + ".dlq", String.class, deadLetters::add);
		UUID id = bus.publish(topic, "poison").get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.size() == 1);
		Message<String> deadLetter = deadLetters.get(0);
		assertThat(deadLetter.getId()).isEqualTo(id);
		assertThat(deadLetter.getPayload()).isEqualTo("poison");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("3");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).contains("cannot handle poison");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
		assertThat(attempts).hasValue(3);
	}

	@Test
	void garbageFromAnotherClientGoesToTheDeadLetterStreamAndTheConsumerKeepsGoing() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("garbage");
		String group = "g-" + UUID.randomUUID();
		List<String> received = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, String.class, (m) -> received.add(m.getPayload()), SubscribeOptions.group(group));
		List<Message<byte[]>> deadLetters = new CopyOnWriteArrayList<>();
		bus.subscribe(topic + ".dlq", byte[].class, deadLetters::add);
		byte[] stream = bytes(redis.prefix() + topic + ":normal");
		try (RedisConnection admin = redis.admin()) {
			admin.streamCommands()
				.xAdd(StreamRecords.rawBytes(Map.of(bytes("id"), bytes("not-a-uuid"), bytes("data"), bytes("junk")))
					.withStreamKey(stream));
			admin.streamCommands()
				.xAdd(StreamRecords.rawBytes(Map.of(bytes("hello"), bytes("world"))).withStreamKey(stream));
		}
		bus.publish(topic, "after the garbage").get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> deadLetters.size() == 2 && received.size() == 1);
		assertThat(received).containsExactly("after the garbage");
		Message<byte[]> notUuid = deadLetters.stream()
			.filter((m) -> "not-a-uuid".equals(m.getHeader(WireHeaders.RAW_PREFIX + "id")))
			.findFirst()
			.orElseThrow();
		assertThat(notUuid.getHeader(WireHeaders.DLQ_REASON)).contains("unreadable envelope").contains("not a UUID");
		assertThat(notUuid.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(new String(notUuid.getPayload(), StandardCharsets.UTF_8)).isEqualTo("junk");
		Message<byte[]> noData = deadLetters.stream()
			.filter((m) -> "world".equals(m.getHeader("hello")))
			.findFirst()
			.orElseThrow();
		assertThat(noData.getHeader(WireHeaders.DLQ_REASON)).contains("'data' is missing");
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			try (RedisConnection admin = redis.admin()) {
				assertThat(admin.streamCommands().xPending(stream, group).getTotalPendingMessages()).isZero();
			}
		});
	}

	@Test
	void wildcardsFindTopicsPublishedAfterSubscribing() throws Exception {
		DefaultMessageBus bus = bus(redis.settings().topicRefreshInterval(Duration.ofMillis(100)).build());
		String base = "agents" + UUID.randomUUID().toString().substring(0, 8);
		List<String> oneSegment = new CopyOnWriteArrayList<>();
		List<String> anySegments = new CopyOnWriteArrayList<>();
		bus.subscribe(base + ".*.status", String.class, (m) -> oneSegment.add(m.getTopic()));
		bus.subscribe(base + ".#", String.class, (m) -> anySegments.add(m.getTopic()));
		bus.publish(base + ".a.status", "up").get(5, TimeUnit.SECONDS);
		bus.publish(base + ".b.status", "up").get(5, TimeUnit.SECONDS);
		bus.publish(base + ".a.load", "high").get(5, TimeUnit.SECONDS);
		bus.publish(base + ".a.b.status", "deep").get(5, TimeUnit.SECONDS);
		bus.publish(base + ".a.status.dlq", "dead").get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).until(() -> oneSegment.size() == 2 && anySegments.size() == 4);
		Thread.sleep(300);
		assertThat(oneSegment).containsExactlyInAnyOrder(base + ".a.status", base + ".b.status");
		assertThat(anySegments).containsExactlyInAnyOrder(base + ".a.status", base + ".b.status", base + ".a.load",
				base + ".a.b.status");
	}

	@Test
	void higherLanesAreDeliveredFirstFromABacklog() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("lanes");
		List<Priority> received = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, String.class, (m) -> received.add(m.getPriority()));
		subscription.pause();
		for (int i = 0; i < 30; i++) {
			bus.publish(topic, "low", PublishOptions.priority(Priority.LOW));
		}
		for (int i = 0; i < 30; i++) {
			bus.publish(topic, "normal", PublishOptions.priority(Priority.NORMAL));
		}
		for (int i = 0; i < 30; i++) {
			bus.publish(topic, "high", PublishOptions.priority(Priority.HIGH)).get(5, TimeUnit.SECONDS);
		}
		subscription.resume();
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 90);
		// Higher lanes first; the starvation bound (16 by default) lets a waiting lower lane through now and then.
		assertThat(received.subList(0, 16)).containsOnly(Priority.HIGH);
		assertThat(received.subList(80, 90)).containsOnly(Priority.LOW);
		assertThat(meanPosition(received, Priority.HIGH)).isLessThan(meanPosition(received, Priority.NORMAL));
		assertThat(meanPosition(received, Priority.NORMAL)).isLessThan(meanPosition(received, Priority.LOW));
	}

	@Test
	void starvationBoundKeepsTheLowestLaneMoving() throws Exception {
		DefaultMessageBus bus = bus(redis.settings().batchSize(5).starvationBound(4).build());
		String topic = topic("starve");
		List<Priority> received = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, String.class, (m) -> received.add(m.getPriority()));
		subscription.pause();
		for (int i = 0; i < 10; i++) {
			bus.publish(topic, "low", PublishOptions.priority(Priority.LOW));
		}
		for (int i = 0; i < 100; i++) {
			bus.publish(topic, "high", PublishOptions.priority(Priority.HIGH)).get(5, TimeUnit.SECONDS);
		}
		subscription.resume();
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 110);
		assertThat(received.subList(0, 60)).contains(Priority.LOW);
		// A waiting lower lane gets one entry after starvation-bound (4) entries served ahead of it.
		assertThat(received.subList(0, 4)).containsOnly(Priority.HIGH);
	}

	@Test
	void sameKeyKeepsPublishOrderWithConcurrentWorkers() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("order");
		Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
		bus.subscribe(topic, Integer.class, (m) -> {
			byKey.computeIfAbsent(m.getKey(), (k) -> Collections.synchronizedList(new ArrayList<>()))
				.add(m.getPayload());
			if (m.getPayload() % 7 == 0) {
				Thread.sleep(1);
			}
		}, SubscribeOptions.builder().group("ordered-" + UUID.randomUUID()).concurrency(4).build());
		for (int i = 0; i < 100; i++) {
			for (String key : List.of("a", "b", "c", "d", "e")) {
				bus.publish(topic, i, PublishOptions.key(key));
			}
		}
		await().atMost(Duration.ofSeconds(20))
			.until(() -> byKey.size() == 5 && byKey.values().stream().allMatch((l) -> l.size() == 100));
		byKey.values().forEach((list) -> assertThat(list).containsExactlyElementsOf(range(100)));
	}

	@Test
	void groupMembersMayHandleOneKeyAtOnceSoKeyOrderIsNotDeclared() throws Exception {
		// Redis hands a group's entries to whichever member reads next, whatever their key: the
		// reason the backend does not declare KEY_ORDER (one subscription keeps it, see above).
		RedisBrokerSettings settings = redis.settings().batchSize(1).build();
		String topic = topic("members");
		String group = "members-" + UUID.randomUUID();
		CountDownLatch firstEntered = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		AtomicInteger firstMember = new AtomicInteger(-1);
		List<String> handledMeanwhile = new CopyOnWriteArrayList<>();
		for (int member = 0; member < 2; member++) {
			int self = member;
			bus(settings).subscribe(topic, Integer.class, (m) -> {
				if (m.getPayload() == 0) {
					firstMember.set(self);
					firstEntered.countDown();
					release.await(30, TimeUnit.SECONDS);
				}
				else if (release.getCount() > 0) {
					handledMeanwhile.add(self + ":" + m.getPayload());
				}
			}, SubscribeOptions.group(group));
		}
		DefaultMessageBus publisher = bus(settings);
		try {
			for (int i = 0; i < 20; i++) {
				publisher.publish(topic, i, PublishOptions.key("one-key")).get(5, TimeUnit.SECONDS);
			}
			assertThat(firstEntered.await(10, TimeUnit.SECONDS)).isTrue();
			// While one member is still on the key's first entry, the other handles later entries of the same key.
			await().atMost(Duration.ofSeconds(10))
				.until(() -> handledMeanwhile.stream().anyMatch((handled) -> !handled.startsWith(firstMember.get() + ":")));
		}
		finally {
			release.countDown();
		}
		assertThat(publisher.backend()).isEqualTo("redis");
		assertThat(new RedisBrokerAdapter(redis.connectionFactory()).capabilities()).doesNotContain(Capability.KEY_ORDER);
	}

	@Test
	void requestGetsItsReply() throws Exception {
		DefaultMessageBus responder = bus();
		DefaultMessageBus requester = bus();
		String topic = topic("ask");
		responder.respond(topic, String.class, (m) -> m.getPayload().toUpperCase(),
				SubscribeOptions.group("responders-" + UUID.randomUUID()));
		assertThat(requester.request(topic, "hello", String.class, Duration.ofSeconds(10)).get(10, TimeUnit.SECONDS))
			.isEqualTo("HELLO");
	}

	@Test
	void pausedSubscriptionReceivesNothingUntilResumed() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("pause");
		List<Integer> received = new CopyOnWriteArrayList<>();
		Subscription subscription = bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()));
		subscription.pause();
		bus.publish(topic, 1).get(5, TimeUnit.SECONDS);
		Thread.sleep(500);
		assertThat(received).isEmpty();
		assertThat(bus.subscriptions().get(0).state().paused()).isTrue();
		subscription.resume();
		await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
	}

	@Test
	void maxLengthTrimmingBoundsTheStream() throws Exception {
		DefaultMessageBus bus = bus(redis.settings()
			.trimming(RedisBrokerSettings.Trimming.maxLength(10).withApproximate(false))
			.build());
		String topic = topic("trim");
		for (int i = 0; i < 50; i++) {
			bus.publish(topic, i).get(5, TimeUnit.SECONDS);
		}
		try (RedisConnection admin = redis.admin()) {
			assertThat(admin.streamCommands().xLen(bytes(redis.prefix() + topic + ":normal"))).isEqualTo(10);
		}
	}

	@Test
	void ageTrimmingRemovesOldEntries() throws Exception {
		DefaultMessageBus bus = bus(redis.settings()
			.trimming(RedisBrokerSettings.Trimming.maxAge(Duration.ofMillis(500)).withApproximate(false))
			.build());
		String topic = topic("age");
		for (int i = 0; i < 5; i++) {
			bus.publish(topic, i).get(5, TimeUnit.SECONDS);
		}
		Thread.sleep(1000);
		bus.publish(topic, 99).get(5, TimeUnit.SECONDS);
		try (RedisConnection admin = redis.admin()) {
			assertThat(admin.streamCommands().xLen(bytes(redis.prefix() + topic + ":normal"))).isEqualTo(1);
		}
	}

	@Test
	void closingDrainsInFlightHandlersAndAcknowledgesThem() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("drain");
		String group = "drain-" + UUID.randomUUID();
		List<Integer> handled = new CopyOnWriteArrayList<>();
		bus.subscribe(topic, Integer.class, (m) -> {
			Thread.sleep(20);
			handled.add(m.getPayload());
		}, SubscribeOptions.group(group));
		for (int i = 0; i < 20; i++) {
			bus.publish(topic, i).get(5, TimeUnit.SECONDS);
		}
		await().atMost(Duration.ofSeconds(5)).until(() -> !handled.isEmpty());
		bus.close();
		try (RedisConnection admin = redis.admin()) {
			byte[] stream = bytes(redis.prefix() + topic + ":normal");
			long pending = admin.streamCommands().xPending(stream, group).getTotalPendingMessages();
			// Whatever was handled is acknowledged; whatever was not stays pending for the group.
			assertThat(pending).isEqualTo(20 - handled.size());
		}
	}

	@Test
	void healthPingsAndShowsNoSecrets() {
		DefaultMessageBus bus = bus();
		BrokerHealth health = bus.health();
		assertThat(health.reachable()).isTrue();
		assertThat(health.details()).containsEntry("ping", "PONG").containsKey("version")
			.containsEntry("streamPrefix", redis.prefix());
		assertThat(bus.capabilities()).contains(Capability.DURABLE_GROUPS, Capability.WILDCARDS, Capability.PRIORITY,
				Capability.PAUSE)
			.doesNotContain(Capability.BOUNDED_QUEUES, Capability.KEY_ORDER);
	}

	@Test
	void broadcastGroupIsRemovedWhenTheSubscriptionCloses() throws Exception {
		DefaultMessageBus bus = bus();
		String topic = topic("gone");
		Subscription subscription = bus.subscribe(topic, String.class, (m) -> {
		});
		byte[] stream = bytes(redis.prefix() + topic + ":normal");
		try (RedisConnection admin = redis.admin()) {
			assertThat(admin.streamCommands().xInfoGroups(stream).size()).isEqualTo(1);
			subscription.close();
			assertThat(admin.streamCommands().xInfoGroups(stream).size()).isZero();
		}
	}

	private static double meanPosition(List<Priority> received, Priority lane) {
		double sum = 0;
		int count = 0;
		for (int i = 0; i < received.size(); i++) {
			if (received.get(i) == lane) {
				sum += i;
				count++;
			}
		}
		return sum / count;
	}

	private static List<Integer> range(int count) {
		List<Integer> values = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			values.add(i);
		}
		return values;
	}

	static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	static String text(byte[] bytes) {
		return new String(bytes, StandardCharsets.UTF_8);
	}

	record Task(String name, int n) {
	}

}
