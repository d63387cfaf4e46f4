package dev.amb.core.contract;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import dev.amb.core.Backoff;
import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.BusClosedException;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.InvalidMessageException;
import dev.amb.core.InvalidTopicException;
import dev.amb.core.Message;
import dev.amb.core.MessageHandler;
import dev.amb.core.MessageTooLargeException;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.RequestTimeoutException;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.Topics;
import dev.amb.core.UnsupportedCapabilityException;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The contract every backend honours: DESIGN.md section 2, one test (or a few) per clause. A
 * backend's test extends this class and returns a fresh adapter on a real server from
 * {@link #createAdapter()}. Clauses that depend on a {@link Capability} run when the backend
 * declares it; when it does not, the test checks that the lack is visible (a clear exception or an
 * honest state) and is then skipped with an assumption.
 * <p>
 * Every test uses its own topic and group names (a random prefix), so backends on a shared server
 * can run it next to other tests.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class BrokerContractTests {

	/** A record payload, as agents usually exchange. */
	public record Task(String name, int priority, List<String> tags) {
	}

	private final List<DefaultMessageBus> buses = new CopyOnWriteArrayList<>();

	private final List<Gate> gates = new CopyOnWriteArrayList<>();

	private String prefix;

	/** The bus of the test, on a fresh adapter, closed after the test. */
	protected DefaultMessageBus bus;

	/**
	 * A fresh adapter for one test, on the real server. The bus starts it and closes it.
	 * @return the adapter
	 */
	protected abstract BrokerAdapter createAdapter();

	/**
	 * How long a message may take to arrive; 10 s by default.
	 * @return the delivery timeout
	 */
	protected Duration deliveryTimeout() {
		return Duration.ofSeconds(10);
	}

	/**
	 * How long a test watches for a message that must not arrive; 500 ms by default.
	 * @return the quiet period
	 */
	protected Duration quietPeriod() {
		return Duration.ofMillis(500);
	}

	/**
	 * How many lower-lane messages may overtake a waiting higher-lane message, for backends that
	 * prefetch a few messages before the lanes are compared; 0 by default.
	 * @return the tolerance
	 */
	protected int priorityTolerance() {
		return 0;
	}

	@BeforeEach
	void openBus() {
		this.prefix = "ct" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xFFFFFFFFFFL);
		this.bus = newBus((builder) -> {
		});
	}

	@AfterEach
	void closeBuses() {
		this.gates.forEach(Gate::release);
		List<DefaultMessageBus> open = new ArrayList<>(this.buses);
		Collections.reverse(open);
		for (DefaultMessageBus each : open) {
			each.close();
		}
		this.buses.clear();
		this.gates.clear();
	}

	// --- helpers -------------------------------------------------------------------------------

	/**
	 * A bus on a fresh adapter, closed after the test.
	 * @param customizer changes to the builder (drain timeout, payload limit)
	 * @return the bus
	 */
	protected DefaultMessageBus newBus(Consumer<DefaultMessageBus.Builder> customizer) {
		DefaultMessageBus.Builder builder = DefaultMessageBus.builder()
			.adapter(createAdapter())
			.source("/amb/contract")
			.drainTimeout(Duration.ofSeconds(5));
		customizeBus(builder);
		customizer.accept(builder);
		DefaultMessageBus created = builder.build();
		this.buses.add(created);
		return created;
	}

	/**
	 * Adds what every bus of this backend's tests needs, such as a write-ahead log; nothing by default.
	 * @param builder the builder, with the adapter already set
	 */
	protected void customizeBus(DefaultMessageBus.Builder builder) {
	}

	/**
	 * A topic name unique to this test.
	 * @param name the last segments
	 * @return the topic
	 */
	protected String topic(String name) {
		return this.prefix + "." + name;
	}

	/**
	 * A group name unique to this test.
	 * @param name the name
	 * @return the group
	 */
	protected String group(String name) {
		return this.prefix + "-" + name;
	}

	/** A gate a handler waits at until the test releases it; released in any case after the test. */
	protected Gate gate() {
		Gate gate = new Gate();
		this.gates.add(gate);
		return gate;
	}

	protected Set<Capability> capabilities() {
		return this.bus.capabilities();
	}

	protected ConsumerState state(DefaultMessageBus on, Subscription subscription) {
		for (SubscriptionInfo info : on.subscriptions()) {
			if (info.id().equals(subscription.id())) {
				return info.state();
			}
		}
		throw new AssertionError("No subscription '" + subscription.id() + "' in " + on.subscriptions());
	}

	protected void awaitCount(IntSupplier count, int expected) {
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(count.getAsInt()).isEqualTo(expected));
	}

	/** Waits, then checks that the count stays as it is for the quiet period. */
	protected void awaitSteady(IntSupplier count, int expected) {
		awaitCount(count, expected);
		await().during(quietPeriod())
			.atMost(quietPeriod().plus(deliveryTimeout()))
			.untilAsserted(() -> assertThat(count.getAsInt()).isEqualTo(expected));
	}

	/** Waits until every count is as expected, then checks that they all stay so for one quiet period. */
	protected void awaitSteady(Map<String, IntSupplier> counts, Map<String, Integer> expected) {
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(snapshot(counts)).isEqualTo(expected));
		await().during(quietPeriod())
			.atMost(quietPeriod().plus(deliveryTimeout()))
			.untilAsserted(() -> assertThat(snapshot(counts)).isEqualTo(expected));
	}

	private static Map<String, Integer> snapshot(Map<String, IntSupplier> counts) {
		Map<String, Integer> snapshot = new LinkedHashMap<>();
		counts.forEach((name, count) -> snapshot.put(name, count.getAsInt()));
		return snapshot;
	}

	protected static Throwable failureOf(CompletableFuture<?> future, Duration within) {
		try {
			future.get(within.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (ExecutionException ex) {
			return ex.getCause();
		}
		catch (Exception ex) {
			throw new AssertionError("The future did not fail within " + within + ": " + ex, ex);
		}
		throw new AssertionError("The future completed normally; it should have failed");
	}

	protected <T> T join(CompletableFuture<T> future) {
		try {
			return future.get(deliveryTimeout().toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (Exception ex) {
			throw new AssertionError("The future did not complete within " + deliveryTimeout() + ": " + ex, ex);
		}
	}

	protected static SubscribeOptions.Builder options() {
		return SubscribeOptions.builder().backoff(new Backoff(Duration.ofMillis(10), 1.0, Duration.ofMillis(10)));
	}

	/**
	 * Collects what a handler receives.
	 *
	 * @param <T> the payload type
	 */
	public static final class Recorder<T> implements MessageHandler<T> {

		private final List<Message<T>> messages = new CopyOnWriteArrayList<>();

		@Override
		public void handle(Message<T> message) throws Exception {
			this.messages.add(message);
		}

		public int count() {
			return this.messages.size();
		}

		public List<Message<T>> messages() {
			return this.messages;
		}

		public List<T> payloads() {
			return this.messages.stream().map(Message::getPayload).toList();
		}

	}

	/** A place where a handler waits until the test lets it go. */
	public static final class Gate {

		private final CountDownLatch entered = new CountDownLatch(1);

		private final CountDownLatch released = new CountDownLatch(1);

		/** Called by the handler: signals that it is in, and waits for the release (at most 60 s). */
		public void pass() throws InterruptedException {
			this.entered.countDown();
			this.released.await(60, TimeUnit.SECONDS);
		}

		/** Waits until a handler is at the gate. */
		public void awaitEntered(Duration timeout) throws InterruptedException {
			assertThat(this.entered.await(timeout.toMillis(), TimeUnit.MILLISECONDS))
				.as("a handler reached the gate").isTrue();
		}

		public void release() {
			this.released.countDown();
		}

	}

	// --- clause 1: round trip --------------------------------------------------------------------

	@Test
	void roundTripRecordKeepsEveryAttribute() {
		Task task = new Task("summarise", 3, List.of("a", "b"));
		Message<Task> received = roundTrip(Task.class, task);
		assertThat(received.getPayload()).isEqualTo(task);
	}

	@Test
	@SuppressWarnings("rawtypes")
	void roundTripMapKeepsEveryAttribute() {
		Map<String, Object> map = new LinkedHashMap<>();
		map.put("text", "hello");
		map.put("count", 42);
		map.put("nested", Map.of("flag", true));
		map.put("list", List.of(1, 2, 3));
		Message<Map> received = roundTrip(Map.class, map);
		assertThat(received.getPayload()).isEqualTo(map);
	}

	@Test
	void roundTripStringKeepsEveryAttribute() {
		String text = "héllo wörld, 你好 \uD83D\uDE00 {not json}";
		Message<String> received = roundTrip(String.class, text);
		assertThat(received.getPayload()).isEqualTo(text);
	}

	@Test
	void roundTripBytesKeepsEveryAttribute() {
		byte[] bytes = new byte[256];
		for (int i = 0; i < bytes.length; i++) {
			bytes[i] = (byte) i;
		}
		Message<byte[]> received = roundTrip(byte[].class, bytes);
		assertThat(received.getPayload()).containsExactly(bytes);
	}

	private <T> Message<T> roundTrip(Class<T> type, Object payload) {
		String topic = topic("roundtrip");
		String replyTo = topic("replies");
		Recorder<T> recorder = new Recorder<>();
		this.bus.subscribe(topic, type, recorder);
		PublishOptions options = PublishOptions.builder()
			.key("key-1")
			.priority(Priority.HIGH)
			.header("x-trace", "trace-42")
			.header("tenant", "acme")
			.correlationId("corr-7")
			.replyTo(replyTo)
			.build();
		long before = System.currentTimeMillis();
		UUID id = join(this.bus.publish(topic, payload, options));
		long after = System.currentTimeMillis();
		awaitCount(recorder::count, 1);
		Message<T> message = recorder.messages().get(0);
		assertThat(message.getId()).isEqualTo(id);
		assertThat(id.version()).as("time-ordered UUIDv7 id").isEqualTo(7);
		assertThat(message.getTopic()).isEqualTo(topic);
		assertThat(message.getKey()).isEqualTo("key-1");
		assertThat(message.getPriority()).isEqualTo(Priority.HIGH);
		assertThat(message.getHeaders()).containsEntry("x-trace", "trace-42").containsEntry("tenant", "acme");
		assertThat(message.getTimestampMillis()).isBetween(before, after);
		assertThat(message.getCorrelationId()).isEqualTo("corr-7");
		assertThat(message.getReplyTo()).isEqualTo(replyTo);
		assertThat(message.getSource()).isEqualTo("/amb/contract");
		assertThat(message.getDeliveryAttempt()).isEqualTo(1);
		// the handler returns (and the message is counted) just after the recorder saw it
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(this.bus.counters().delivered()).isEqualTo(1));
		return message;
	}

	// --- clause 2: broadcast ---------------------------------------------------------------------

	@Test
	void broadcastReachesEverySubscriptionWithoutGroup() {
		String topic = topic("broadcast");
		List<Recorder<String>> recorders = List.of(new Recorder<>(), new Recorder<>(), new Recorder<>());
		recorders.forEach((recorder) -> this.bus.subscribe(topic, String.class, recorder));
		List<String> sent = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			sent.add("m" + i);
			join(this.bus.publish(topic, "m" + i));
		}
		awaitSteady(Map.of("first", recorders.get(0)::count, "second", recorders.get(1)::count, "third",
				recorders.get(2)::count), Map.of("first", sent.size(), "second", sent.size(), "third", sent.size()));
		for (Recorder<String> recorder : recorders) {
			assertThat(recorder.payloads()).containsExactlyInAnyOrderElementsOf(sent);
		}
	}

	// --- clause 3: groups ------------------------------------------------------------------------

	@Test
	void groupMembersShareTheStreamAndBroadcastStillGetsEverything() {
		String topic = topic("group");
		String group = group("workers");
		Recorder<String> first = new Recorder<>();
		Recorder<String> second = new Recorder<>();
		Recorder<String> otherGroup = new Recorder<>();
		Recorder<String> broadcast = new Recorder<>();
		this.bus.subscribe(topic, String.class, first, options().group(group).build());
		this.bus.subscribe(topic, String.class, second, options().group(group).concurrency(2).build());
		this.bus.subscribe(topic, String.class, otherGroup, options().group(group("auditors")).build());
		this.bus.subscribe(topic, String.class, broadcast);
		int count = 40;
		List<String> sent = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			sent.add("task-" + i);
			join(this.bus.publish(topic, "task-" + i));
		}
		awaitSteady(Map.of("group", () -> first.count() + second.count(), "other group", otherGroup::count,
				"broadcast", broadcast::count), Map.of("group", count, "other group", count, "broadcast", count));
		List<String> handledByGroup = new ArrayList<>(first.payloads());
		handledByGroup.addAll(second.payloads());
		assertThat(handledByGroup).as("each message handled by exactly one member")
			.containsExactlyInAnyOrderElementsOf(sent);
		assertThat(otherGroup.payloads()).containsExactlyInAnyOrderElementsOf(sent);
		assertThat(broadcast.payloads()).containsExactlyInAnyOrderElementsOf(sent);
	}

	@Test
	void groupMemberLeavingMidStreamLosesNothing() {
		String topic = topic("leaving");
		String group = group("shifting");
		DefaultMessageBus elsewhere = sharedBackend() ? newBus((builder) -> {
		}) : this.bus;
		Set<String> handled = ConcurrentHashMap.newKeySet();
		MessageHandler<String> slow = (message) -> {
			Thread.sleep(3);
			handled.add(message.getPayload());
		};
		Subscription leaving = elsewhere.subscribe(topic, String.class, slow, options().group(group).build());
		this.bus.subscribe(topic, String.class, slow, options().group(group).build());
		int total = 300;
		List<CompletableFuture<UUID>> sent = new ArrayList<>();
		for (int i = 0; i < total; i++) {
			sent.add(this.bus.publish(topic, "m" + i, PublishOptions.key("k" + (i % 7))));
		}
		sent.forEach(this::join);
		await().atMost(deliveryTimeout()).until(() -> handled.size() >= total / 10);
		leaving.close();
		// At least once: what the leaving member took but did not finish goes to the one that stays.
		await().atMost(deliveryTimeout().multipliedBy(2)).untilAsserted(() -> assertThat(handled).hasSize(total));
	}

	@Test
	void durableGroupKeepsItsBacklogWhileNoMemberIsSubscribed() {
		if (!capabilities().contains(Capability.DURABLE_GROUPS)) {
			assertThat(capabilities()).doesNotContain(Capability.DURABLE_GROUPS);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no durable groups");
		}
		String topic = topic("durable");
		String group = group("keepers");
		Recorder<String> before = new Recorder<>();
		Subscription member = this.bus.subscribe(topic, String.class, before, options().group(group).build());
		join(this.bus.publish(topic, "while-subscribed"));
		awaitCount(before::count, 1);
		member.close();
		List<String> backlog = List.of("b1", "b2", "b3");
		for (String payload : backlog) {
			join(this.bus.publish(topic, payload));
		}
		Recorder<String> after = new Recorder<>();
		this.bus.subscribe(topic, String.class, after, options().group(group).build());
		awaitSteady(after::count, backlog.size());
		assertThat(after.payloads()).containsExactlyInAnyOrderElementsOf(backlog);
	}

	// --- clause 4: order -------------------------------------------------------------------------

	@Test
	void sameKeyAndPriorityKeepPublishOrderInOneSubscription() {
		String topic = topic("order");
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, recorder);
		publishKeyed(topic, 4, 30);
		awaitCount(recorder::count, 120);
		assertOrderPerKey(recorder.messages());
	}

	@Test
	void sameKeyAndPriorityKeepPublishOrderWithConcurrency() {
		if (!capabilities().contains(Capability.KEY_ORDER)) {
			assertThat(capabilities()).doesNotContain(Capability.KEY_ORDER);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no key order under concurrency");
		}
		String topic = topic("order-concurrent");
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, jitter(recorder), options().concurrency(3).build());
		publishKeyed(topic, 6, 25);
		awaitCount(recorder::count, 150);
		assertOrderPerKey(recorder.messages());
	}

	@Test
	void sameKeyAndPriorityKeepPublishOrderInAGroupWithConcurrency() {
		if (!capabilities().contains(Capability.KEY_ORDER)) {
			assertThat(capabilities()).doesNotContain(Capability.KEY_ORDER);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no key order in groups");
		}
		String topic = topic("order-group");
		String group = group("ordered");
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, jitter(recorder), options().group(group).concurrency(2).build());
		this.bus.subscribe(topic, String.class, jitter(recorder), options().group(group).concurrency(2).build());
		publishKeyed(topic, 6, 25);
		awaitSteady(recorder::count, 150);
		assertOrderPerKey(recorder.messages());
	}

	private void publishKeyed(String topic, int keys, int perKey) {
		List<CompletableFuture<UUID>> sent = new ArrayList<>();
		for (int i = 0; i < perKey; i++) {
			for (int k = 0; k < keys; k++) {
				Priority priority = (k % 2 == 0) ? Priority.NORMAL : Priority.LOW;
				sent.add(this.bus.publish(topic, "k" + k + ":" + i,
						PublishOptions.builder().key("k" + k).priority(priority).build()));
			}
		}
		sent.forEach(this::join);
	}

	private static <T> MessageHandler<T> jitter(MessageHandler<T> handler) {
		return (message) -> {
			Thread.sleep(ThreadLocalRandom.current().nextInt(2));
			handler.handle(message);
		};
	}

	private static void assertOrderPerKey(List<Message<String>> messages) {
		Map<String, List<Integer>> sequences = new HashMap<>();
		for (Message<String> message : messages) {
			String[] parts = message.getPayload().split(":");
			assertThat(message.getKey()).isEqualTo(parts[0]);
			sequences.computeIfAbsent(parts[0], (key) -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
		}
		sequences.forEach((key, sequence) -> assertThat(sequence).as("order of key " + key).isSorted()
			.doesNotHaveDuplicates());
	}

	// --- clause 5: priority lanes ----------------------------------------------------------------

	@Test
	void higherLaneIsDeliveredFirstFromABacklog() throws Exception {
		assumePriority();
		String topic = topic("lanes");
		Gate gate = gate();
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
				return;
			}
			received.add(message);
		});
		join(this.bus.publish(topic, "blocker"));
		gate.awaitEntered(deliveryTimeout());
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "low-" + i, PublishOptions.priority(Priority.LOW)));
		}
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "normal-" + i, PublishOptions.priority(Priority.NORMAL)));
		}
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "high-" + i, PublishOptions.priority(Priority.HIGH)));
		}
		gate.release();
		awaitCount(received::size, 15);
		List<Priority> lanes = received.stream().map(Message::getPriority).toList();
		int tolerance = priorityTolerance();
		assertThat(lanes.subList(0, 5 + tolerance)).as("delivery order " + lanes)
			.filteredOn((lane) -> lane == Priority.HIGH)
			.hasSize(5);
		assertThat(lanes.subList(lanes.size() - 5 - tolerance, lanes.size())).as("delivery order " + lanes)
			.filteredOn((lane) -> lane == Priority.LOW)
			.hasSize(5);
		assertOrderWithinLane(received);
	}

	@Test
	void starvationBoundLetsTheLowestLaneThrough() throws Exception {
		assumePriority();
		String topic = topic("starvation");
		Gate gate = gate();
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
				return;
			}
			received.add(message);
		});
		join(this.bus.publish(topic, "blocker"));
		gate.awaitEntered(deliveryTimeout());
		join(this.bus.publish(topic, "low", PublishOptions.priority(Priority.LOW)));
		int highs = 200;
		List<CompletableFuture<UUID>> sent = new ArrayList<>();
		for (int i = 0; i < highs; i++) {
			sent.add(this.bus.publish(topic, "high-" + i, PublishOptions.priority(Priority.HIGH)));
		}
		sent.forEach(this::join);
		gate.release();
		awaitCount(received::size, highs + 1);
		List<String> payloads = received.stream().map(Message::getPayload).toList();
		int lowAt = payloads.indexOf("low");
		assertThat(lowAt).as("position of the low message among " + (highs + 1) + " deliveries")
			.isGreaterThanOrEqualTo((priorityTolerance() > 0) ? 0 : 1)
			.isLessThan(highs);
	}

	private void assumePriority() {
		if (!capabilities().contains(Capability.PRIORITY)) {
			assertThat(capabilities()).doesNotContain(Capability.PRIORITY);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no priority lanes");
		}
	}

	private static void assertOrderWithinLane(List<Message<String>> received) {
		Map<Priority, List<Integer>> byLane = new HashMap<>();
		for (Message<String> message : received) {
			String payload = message.getPayload();
			byLane.computeIfAbsent(message.getPriority(), (lane) -> new ArrayList<>())
				.add(Integer.parseInt(payload.substring(payload.indexOf('-') + 1)));
		}
		byLane.forEach((lane, sequence) -> assertThat(sequence).as("order within lane " + lane).isSorted());
	}

	// --- clause 6: at-least-once, retries, dead letters ------------------------------------------

	@Test
	void failingHandlerGetsTheMessageAgainUntilItSucceeds() {
		String topic = topic("retry");
		List<Integer> attempts = new CopyOnWriteArrayList<>();
		List<Long> times = new CopyOnWriteArrayList<>();
		AtomicInteger successes = new AtomicInteger();
		Duration backoff = Duration.ofMillis(60);
		this.bus.subscribe(topic, Task.class, (message) -> {
			attempts.add(message.getDeliveryAttempt());
			times.add(System.nanoTime());
			if (message.getDeliveryAttempt() < 4) {
				throw new IllegalStateException("not yet, attempt " + message.getDeliveryAttempt());
			}
			successes.incrementAndGet();
		}, options().maxAttempts(4).backoff(new Backoff(backoff, 1.0, backoff)).build());
		UUID id = join(this.bus.publish(topic, new Task("flaky", 1, List.of())));
		awaitSteady(successes::get, 1);
		assertThat(attempts).containsExactly(1, 2, 3, 4);
		for (int i = 1; i < times.size(); i++) {
			assertThat(Duration.ofNanos(times.get(i) - times.get(i - 1))).as("backoff before attempt " + (i + 1))
				.isGreaterThanOrEqualTo(backoff.minusMillis(10));
		}
		assertThat(this.bus.counters().failed()).isEqualTo(3);
		assertThat(this.bus.counters().retried()).isEqualTo(3);
		assertThat(this.bus.counters().delivered()).isEqualTo(1);
		assertThat(this.bus.counters().deadLettered()).isZero();
		assertThat(id).isNotNull();
	}

	@Test
	void poisonMessageGoesToTheDeadLetterTopicWithTheFailureInItsHeaders() {
		String topic = topic("poison");
		List<Integer> attempts = new CopyOnWriteArrayList<>();
		this.bus.subscribe(topic, Task.class, (message) -> {
			attempts.add(message.getDeliveryAttempt());
			throw new IllegalArgumentException("cannot handle " + message.getPayload().name());
		}, options().maxAttempts(3).build());
		Recorder<Task> deadLetters = new Recorder<>();
		this.bus.subscribe(Topics.deadLetterTopic(topic), Task.class, deadLetters);
		Task poison = new Task("poison", 9, List.of("x"));
		UUID id = join(this.bus.publish(topic, poison, PublishOptions.builder().key("p").header("tenant", "acme").build()));
		awaitSteady(deadLetters::count, 1);
		assertThat(attempts).containsExactly(1, 2, 3);
		Message<Task> deadLetter = deadLetters.messages().get(0);
		assertThat(deadLetter.getTopic()).isEqualTo(topic + ".dlq");
		assertThat(deadLetter.getPayload()).isEqualTo(poison);
		assertThat(deadLetter.getId()).isEqualTo(id);
		assertThat(deadLetter.getKey()).isEqualTo("p");
		assertThat(deadLetter.getHeader("tenant")).isEqualTo("acme");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).contains("cannot handle poison")
			.contains("3 time(s)");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("3");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_EXCEPTION)).isEqualTo(IllegalArgumentException.class.getName());
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_SUBSCRIPTION)).isNotBlank();
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_TIME)).isNotBlank();
		// the dead letter can arrive before the failing subscription's thread counts it
		await().atMost(deliveryTimeout())
			.untilAsserted(() -> assertThat(this.bus.counters().deadLettered()).isEqualTo(1));
		assertThat(this.bus.counters().failed()).isEqualTo(3);
	}

	@Test
	void groupDeadLettersOncePerGroup() {
		String topic = topic("poison-group");
		String group = group("failing");
		AtomicInteger attempts = new AtomicInteger();
		MessageHandler<String> failing = (message) -> {
			attempts.incrementAndGet();
			throw new IllegalStateException("always");
		};
		this.bus.subscribe(topic, String.class, failing, options().group(group).maxAttempts(2).build());
		this.bus.subscribe(topic, String.class, failing, options().group(group).maxAttempts(2).build());
		Recorder<String> deadLetters = new Recorder<>();
		this.bus.subscribe(Topics.deadLetterTopic(topic), String.class, deadLetters);
		join(this.bus.publish(topic, "poison"));
		awaitSteady(deadLetters::count, 1);
		assertThat(attempts.get()).isEqualTo(2);
		assertThat(deadLetters.messages().get(0).getHeader(WireHeaders.DLQ_SUBSCRIPTION)).isEqualTo(group);
	}

	// --- clause 7: TTL ---------------------------------------------------------------------------

	@Test
	void expiredMessageIsNotDeliveredAndIsCounted() throws Exception {
		String topic = topic("ttl");
		Gate gate = gate();
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
			}
			recorder.handle(message);
		});
		join(this.bus.publish(topic, "blocker", PublishOptions.key("k")));
		gate.awaitEntered(deliveryTimeout());
		join(this.bus.publish(topic, "short-lived",
				PublishOptions.builder().key("k").ttl(Duration.ofMillis(100)).build()));
		join(this.bus.publish(topic, "long-lived",
				PublishOptions.builder().key("k").ttl(Duration.ofMinutes(5)).build()));
		join(this.bus.publish(topic, "immortal", PublishOptions.key("k")));
		Thread.sleep(300);
		gate.release();
		awaitSteady(recorder::count, 3);
		assertThat(recorder.payloads()).containsExactly("blocker", "long-lived", "immortal");
		assertThat(recorder.messages().get(1).getExpiresAtMillis()).isGreaterThan(System.currentTimeMillis());
		assertThat(this.bus.counters().expired()).isEqualTo(1);
		assertThat(this.bus.counters().deadLettered()).isZero();
	}

	// --- clause 8: request/reply -----------------------------------------------------------------

	@Test
	void requestCompletesWithTheReply() {
		String topic = topic("ask");
		this.bus.respond(topic, Task.class, (request) -> new Task(request.getPayload().name() + "-done", 0, List.of()),
				SubscribeOptions.DEFAULTS);
		Task reply = join(this.bus.request(topic, new Task("job", 1, List.of()), Task.class, deliveryTimeout()));
		assertThat(reply.name()).isEqualTo("job-done");
		// the reply can reach the requester before the responder's thread counts it as sent
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(this.bus.counters().repliesSent()).isEqualTo(1));
	}

	@Test
	void requestWithoutReplyFailsWithTimeout() {
		String topic = topic("unanswered");
		Recorder<String> silent = new Recorder<>();
		this.bus.subscribe(topic, String.class, silent);
		CompletableFuture<String> reply = this.bus.request(topic, "anyone?", String.class, Duration.ofMillis(300));
		Throwable failure = failureOf(reply, deliveryTimeout());
		assertThat(failure).isInstanceOf(RequestTimeoutException.class).hasMessageContaining(topic);
		assertThat(silent.count()).isEqualTo(1);
		assertThat(this.bus.counters().requestTimeouts()).isEqualTo(1);
	}

	@Test
	void replyReachesOnlyItsRequester() {
		String topic = topic("echo");
		this.bus.respond(topic, String.class, (request) -> "re:" + request.getPayload(),
				SubscribeOptions.builder().concurrency(4).build());
		Map<String, CompletableFuture<String>> replies = new LinkedHashMap<>();
		for (int i = 0; i < 20; i++) {
			replies.put("q" + i, this.bus.request(topic, "q" + i, String.class, deliveryTimeout()));
		}
		replies.forEach((question, reply) -> assertThat(join(reply)).isEqualTo("re:" + question));
		// the reply can reach the requester before the responder's thread counts it as sent
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(this.bus.counters().repliesSent()).isEqualTo(20));
	}

	@Test
	void requesterMayWaitForAnotherReplyInsideAContinuation() {
		String first = topic("first");
		String second = topic("second");
		this.bus.respond(first, String.class, (request) -> {
			// Answer only once the continuation below is attached, so that the reply's thread runs it.
			Thread.sleep(200);
			return "A";
		}, SubscribeOptions.DEFAULTS);
		this.bus.respond(second, String.class, (request) -> "B", SubscribeOptions.DEFAULTS);
		// A continuation that blocks on a second request must not hold up the delivery of that reply.
		CompletableFuture<String> chained = this.bus.request(first, "x", String.class, deliveryTimeout())
			.thenApply((a) -> a + join(this.bus.request(second, "y", String.class, deliveryTimeout())));
		assertThat(join(chained)).isEqualTo("AB");
	}

	@Test
	void repliesReachOnlyTheirOwnBusWhenTwoBusesShareTheBackend() {
		String topic = topic("echo-two");
		DefaultMessageBus responder = this.bus;
		DefaultMessageBus requesterA = this.bus;
		DefaultMessageBus requesterB = this.bus;
		if (sharedBackend()) {
			responder = newBus((builder) -> {
			});
			requesterB = newBus((builder) -> {
			});
		}
		responder.respond(topic, String.class, (request) -> "re:" + request.getPayload(), SubscribeOptions.DEFAULTS);
		List<CompletableFuture<String>> fromA = new ArrayList<>();
		List<CompletableFuture<String>> fromB = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			fromA.add(requesterA.request(topic, "a" + i, String.class, deliveryTimeout()));
			fromB.add(requesterB.request(topic, "b" + i, String.class, deliveryTimeout()));
		}
		for (int i = 0; i < 5; i++) {
			assertThat(join(fromA.get(i))).isEqualTo("re:a" + i);
			assertThat(join(fromB.get(i))).isEqualTo("re:b" + i);
		}
		// the reply can reach the requester before the responder's thread counts it as sent
		DefaultMessageBus replier = responder;
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(replier.counters().repliesSent()).isEqualTo(10));
		assertThat(requesterA.counters().requestTimeouts()).isZero();
	}

	/**
	 * Whether two adapters from {@link #createAdapter()} reach the same messages (true for a real
	 * server; false for the in-memory backend, where each adapter is its own broker).
	 * @return whether buses on separate adapters talk to each other
	 */
	protected boolean sharedBackend() {
		return true;
	}

	// --- clause 9: wildcards and topic isolation -------------------------------------------------

	@Test
	void wildcardsMatchOneOrAnySegmentsButNotDeadLetters() {
		String star = topic("agent.*");
		String hash = topic("agent.#");
		if (!capabilities().contains(Capability.WILDCARDS)) {
			assertThat(capabilities()).doesNotContain(Capability.WILDCARDS);
			assertThatExceptionOfType(UnsupportedCapabilityException.class)
				.isThrownBy(() -> this.bus.subscribe(star, String.class, new Recorder<>()))
				.withMessageContaining(star);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no wildcards");
		}
		Recorder<String> oneSegment = new Recorder<>();
		Recorder<String> anySegments = new Recorder<>();
		this.bus.subscribe(star, String.class, oneSegment);
		this.bus.subscribe(hash, String.class, anySegments);
		join(this.bus.publish(topic("agent"), "agent"));
		join(this.bus.publish(topic("agent.x"), "agent.x"));
		join(this.bus.publish(topic("agent.x.y"), "agent.x.y"));
		join(this.bus.publish(topic("agent.x.dlq"), "agent.x.dlq"));
		join(this.bus.publish(topic("agents.x"), "agents.x"));
		join(this.bus.publish(topic("other.agent.x"), "other.agent.x"));
		awaitSteady(Map.of("agent.*", oneSegment::count, "agent.#", anySegments::count),
				Map.of("agent.*", 1, "agent.#", 3));
		assertThat(oneSegment.payloads()).containsExactly("agent.x");
		assertThat(anySegments.payloads()).containsExactlyInAnyOrder("agent", "agent.x", "agent.x.y");
		assertThat(anySegments.messages()).extracting(Message::getTopic)
			.containsExactlyInAnyOrder(topic("agent"), topic("agent.x"), topic("agent.x.y"));
	}

	@Test
	void wildcardNamingTheDeadLetterSegmentReceivesDeadLetters() {
		assumeTrue(capabilities().contains(Capability.WILDCARDS), "no wildcards (checked in the test above)");
		Recorder<String> deadLetters = new Recorder<>();
		this.bus.subscribe(topic("agent.*.dlq"), String.class, deadLetters);
		join(this.bus.publish(topic("agent.x.dlq"), "dead"));
		awaitSteady(deadLetters::count, 1);
	}

	@Test
	void subscriberOfOneTopicNeverSeesAnother() {
		String a = topic("orders");
		String b = topic("orders2");
		String child = topic("orders.eu");
		Recorder<String> onA = new Recorder<>();
		Recorder<String> onB = new Recorder<>();
		Recorder<String> onChild = new Recorder<>();
		this.bus.subscribe(a, String.class, onA);
		this.bus.subscribe(b, String.class, onB);
		this.bus.subscribe(child, String.class, onChild);
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(a, "a" + i));
			join(this.bus.publish(b, "b" + i));
			join(this.bus.publish(child, "c" + i));
		}
		awaitSteady(Map.of("a", onA::count, "b", onB::count, "child", onChild::count),
				Map.of("a", 5, "b", 5, "child", 5));
		assertThat(onA.payloads()).allMatch((payload) -> payload.startsWith("a"));
		assertThat(onB.payloads()).allMatch((payload) -> payload.startsWith("b"));
		assertThat(onChild.payloads()).allMatch((payload) -> payload.startsWith("c"));
		assertThat(onA.messages()).allMatch((message) -> message.getTopic().equals(a));
	}

	// --- clause 10: backpressure -----------------------------------------------------------------

	@Test
	void rejectPolicyFailsThePublishAndCountsIt() throws Exception {
		assumeBoundedQueues();
		int capacity = 5;
		Stalled stalled = stall(new Backpressure(capacity, 0.6, BackpressurePolicy.REJECT, Duration.ofSeconds(5)));
		int rejected = 0;
		for (int i = 0; i < capacity * 4; i++) {
			CompletableFuture<UUID> sent = this.bus.publish(stalled.topic, "m" + i);
			try {
				sent.get(deliveryTimeout().toMillis(), TimeUnit.MILLISECONDS);
			}
			catch (ExecutionException ex) {
				assertThat(ex.getCause()).isInstanceOf(BackpressureException.class);
				assertThat(((BackpressureException) ex.getCause()).getPolicy()).isEqualTo(BackpressurePolicy.REJECT);
				rejected++;
			}
			assertThat(state(this.bus, stalled.subscription).depth()).isLessThanOrEqualTo(capacity);
		}
		assertThat(rejected).isPositive();
		assertThat(this.bus.counters().rejected()).isEqualTo(rejected);
		assertThat(this.bus.counters().throttled()).as("publishers slowed above the threshold").isPositive();
		stalled.gate.release();
		awaitSteady(stalled.recorder::count, 1 + capacity * 4 - rejected);
	}

	@Test
	void dropOldestPolicyCountsDropsAndKeepsTheNewest() throws Exception {
		assumeBoundedQueues();
		int capacity = 5;
		Stalled stalled = stall(new Backpressure(capacity, 1.0, BackpressurePolicy.DROP_OLDEST, Duration.ofSeconds(5)));
		int total = capacity * 4;
		for (int i = 0; i < total; i++) {
			join(this.bus.publish(stalled.topic, "m" + i));
			ConsumerState state = state(this.bus, stalled.subscription);
			assertThat(state.depth()).isLessThanOrEqualTo(capacity);
			assertThat(state.capacity()).isEqualTo(capacity);
		}
		long dropped = this.bus.counters().dropped();
		assertThat(dropped).isPositive();
		stalled.gate.release();
		awaitSteady(stalled.recorder::count, (int) (1 + total - dropped));
		assertThat(stalled.recorder.payloads()).contains("m" + (total - 1)).doesNotContain("m0");
		assertThat(this.bus.counters().rejected()).isZero();
	}

	@Test
	void blockPolicyWaitsForRoomThenTimesOut() throws Exception {
		assumeBoundedQueues();
		int capacity = 3;
		Duration blockTimeout = Duration.ofMillis(300);
		Stalled stalled = stall(new Backpressure(capacity, 1.0, BackpressurePolicy.BLOCK, blockTimeout));
		// Fill to capacity, whatever the backend prefetched: publish until one is refused.
		Throwable refusal = null;
		int accepted = 0;
		for (int i = 0; i < capacity * 10 && refusal == null; i++) {
			long start = System.nanoTime();
			CompletableFuture<UUID> sent = CompletableFuture.supplyAsync(() -> this.bus.publish(stalled.topic, "m"))
				.thenCompose((future) -> future);
			try {
				sent.get(blockTimeout.plus(deliveryTimeout()).toMillis(), TimeUnit.MILLISECONDS);
				accepted++;
			}
			catch (ExecutionException ex) {
				refusal = ex.getCause();
				assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for the block timeout")
					.isGreaterThanOrEqualTo(blockTimeout.minusMillis(50));
			}
		}
		assertThat(refusal).isInstanceOf(BackpressureException.class);
		assertThat(accepted).isGreaterThanOrEqualTo(capacity);
		assertThat(this.bus.counters().rejected()).isEqualTo(1);
		assertThat(state(this.bus, stalled.subscription).depth()).isEqualTo(capacity);
		assertThat(state(this.bus, stalled.subscription).isAboveThreshold()).isFalse();
		stalled.gate.release();
		awaitSteady(stalled.recorder::count, 1 + accepted);
		assertThat(this.bus.counters().dropped()).isZero();
	}

	@Test
	void blockPolicyLetsThePublisherThroughWhenRoomIsMade() throws Exception {
		assumeBoundedQueues();
		int capacity = 2;
		Stalled stalled = stall(new Backpressure(capacity, 1.0, BackpressurePolicy.BLOCK, Duration.ofSeconds(30)));
		for (int i = 0; i < capacity; i++) {
			join(this.bus.publish(stalled.topic, "fill-" + i));
		}
		await().atMost(deliveryTimeout())
			.untilAsserted(() -> assertThat(state(this.bus, stalled.subscription).depth()).isEqualTo(capacity));
		CompletableFuture<UUID> blocked = CompletableFuture.supplyAsync(() -> this.bus.publish(stalled.topic, "late"))
			.thenCompose((future) -> future);
		Thread.sleep(quietPeriod().toMillis());
		assertThat(blocked).as("publisher waits while the queue is full").isNotDone();
		stalled.gate.release();
		join(blocked);
		awaitSteady(stalled.recorder::count, 2 + capacity);
		assertThat(stalled.recorder.payloads()).endsWith("late");
		assertThat(this.bus.counters().rejected()).isZero();
	}

	private void assumeBoundedQueues() throws Exception {
		if (!capabilities().contains(Capability.BOUNDED_QUEUES)) {
			assertThat(capabilities()).doesNotContain(Capability.BOUNDED_QUEUES);
			Subscription subscription = this.bus.subscribe(topic("unbounded"), String.class, new Recorder<>());
			assertThat(state(this.bus, subscription).capacity()).as("an unbounded backend reports no capacity")
				.isEqualTo(-1);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no bounded queues");
		}
	}

	/** A subscription whose only worker is held at a gate by a first message. */
	private record Stalled(String topic, Subscription subscription, Gate gate, Recorder<String> recorder) {
	}

	private Stalled stall(Backpressure backpressure) throws Exception {
		String topic = topic("stalled");
		Gate gate = gate();
		Recorder<String> recorder = new Recorder<>();
		Subscription subscription = this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
			}
			recorder.handle(message);
		}, options().backpressure(backpressure).build());
		join(this.bus.publish(topic, "blocker"));
		gate.awaitEntered(deliveryTimeout());
		return new Stalled(topic, subscription, gate, recorder);
	}

	@Test
	void subscriptionStateShowsProgressAndWork() throws Exception {
		String topic = topic("progress");
		Gate gate = gate();
		Subscription subscription = this.bus.subscribe(topic, String.class, (message) -> gate.pass());
		assertThat(state(this.bus, subscription).lastDeliveryMillis()).as("nothing delivered yet").isZero();
		long before = System.currentTimeMillis();
		join(this.bus.publish(topic, "work"));
		gate.awaitEntered(deliveryTimeout());
		ConsumerState busy = state(this.bus, subscription);
		assertThat(busy.inFlight()).as("a handler is busy").isGreaterThanOrEqualTo(1);
		assertThat(busy.paused()).isFalse();
		gate.release();
		await().atMost(deliveryTimeout())
			.untilAsserted(() -> assertThat(state(this.bus, subscription).inFlight()).isZero());
		// Set when the message is handed over or when its handler returns, depending on the backend.
		assertThat(state(this.bus, subscription).lastDeliveryMillis()).isBetween(before, System.currentTimeMillis());
		assertThat(this.bus.health().reachable()).isTrue();
	}

	@Test
	void pausedSubscriptionHoldsMessagesUntilResumed() {
		String topic = topic("paused");
		Recorder<String> recorder = new Recorder<>();
		Subscription subscription = this.bus.subscribe(topic, String.class, recorder);
		if (!capabilities().contains(Capability.PAUSE)) {
			assertThat(capabilities()).doesNotContain(Capability.PAUSE);
			assertThatExceptionOfType(UnsupportedCapabilityException.class).isThrownBy(subscription::pause);
			assumeTrue(false, "the " + this.bus.backend() + " backend declares no pause");
		}
		subscription.pause();
		assertThat(subscription.isPaused()).isTrue();
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "m" + i, PublishOptions.key("k")));
		}
		awaitSteady(recorder::count, 0);
		assertThat(state(this.bus, subscription).paused()).isTrue();
		subscription.resume();
		assertThat(subscription.isPaused()).isFalse();
		awaitSteady(recorder::count, 5);
		assertThat(recorder.payloads()).containsExactly("m0", "m1", "m2", "m3", "m4");
	}

	// --- clause 11: shutdown ---------------------------------------------------------------------

	@Test
	void closingASubscriptionLetsTheInFlightHandlerFinish() throws Exception {
		String topic = topic("drain");
		Gate gate = gate();
		AtomicInteger finished = new AtomicInteger();
		Subscription subscription = this.bus.subscribe(topic, String.class, (message) -> {
			gate.pass();
			finished.incrementAndGet();
		});
		join(this.bus.publish(topic, "in-flight"));
		gate.awaitEntered(deliveryTimeout());
		CompletableFuture<Void> closing = CompletableFuture.runAsync(subscription::close);
		Thread.sleep(quietPeriod().toMillis());
		assertThat(closing).as("close waits for the in-flight handler").isNotDone();
		assertThat(this.bus.counters().delivered()).isZero();
		gate.release();
		join(closing);
		assertThat(finished.get()).isEqualTo(1);
		assertThat(this.bus.counters().delivered()).isEqualTo(1);
		assertThat(subscription.isActive()).isFalse();
		join(this.bus.publish(topic, "after-close"));
		Thread.sleep(quietPeriod().toMillis());
		assertThat(finished.get()).as("a closed subscription receives nothing").isEqualTo(1);
	}

	@Test
	void closingTheBusDrainsInFlightHandlersAndCountsOnlyWhatWasHandled() throws Exception {
		DefaultMessageBus closing = newBus((builder) -> builder.drainTimeout(Duration.ofSeconds(20)));
		String topic = topic("bus-drain");
		Gate gate = gate();
		AtomicInteger handled = new AtomicInteger();
		closing.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("first")) {
				gate.pass();
			}
			handled.incrementAndGet();
		});
		join(closing.publish(topic, "first"));
		gate.awaitEntered(deliveryTimeout());
		for (int i = 0; i < 5; i++) {
			join(closing.publish(topic, "queued-" + i));
		}
		CompletableFuture<Void> closed = CompletableFuture.runAsync(closing::close);
		Thread.sleep(quietPeriod().toMillis());
		assertThat(closed).as("close waits for the in-flight handler").isNotDone();
		gate.release();
		join(closed);
		assertThat(handled.get()).as("the in-flight message was handled").isGreaterThanOrEqualTo(1);
		assertThat(closing.counters().delivered()).as("delivered counts only handled messages")
			.isEqualTo(handled.get());
		assertThatExceptionOfType(BusClosedException.class).isThrownBy(() -> closing.publish(topic, "too late"));
		long deliveredAtClose = closing.counters().delivered();
		Thread.sleep(quietPeriod().toMillis());
		assertThat(closing.counters().delivered()).isEqualTo(deliveredAtClose);
	}

	@Test
	void closeGivesUpOnAStuckHandlerAfterTheDrainTimeoutWithoutAcknowledgingIt() throws Exception {
		Duration drainTimeout = Duration.ofMillis(300);
		DefaultMessageBus closing = newBus((builder) -> builder.drainTimeout(drainTimeout));
		String topic = topic("stuck");
		String group = group("stuck");
		boolean redeliverable = capabilities().contains(Capability.DURABLE_GROUPS) && sharedBackend();
		Gate gate = gate();
		closing.subscribe(topic, String.class, (message) -> gate.pass(),
				options().group(redeliverable ? group : null).maxAttempts(1).build());
		Recorder<String> deadLetters = new Recorder<>();
		this.bus.subscribe(Topics.deadLetterTopic(topic), String.class, deadLetters);
		join(closing.publish(topic, "never finished"));
		gate.awaitEntered(deliveryTimeout());
		CompletableFuture<Void> closed = CompletableFuture.runAsync(closing::close);
		// Closing waits for the drain timeout, then gives up on the handler (a few seconds of slack).
		closed.get(drainTimeout.plusSeconds(3).toMillis(), TimeUnit.MILLISECONDS);
		assertThat(closing.counters().delivered()).as("a message whose handler never finished is not delivered")
			.isZero();
		assertThat(closing.counters().deadLettered()).as("shutdown is not a handler failure").isZero();
		assertThat(closing.counters().failed()).as("shutdown is not a handler failure").isZero();
		Thread.sleep(quietPeriod().toMillis());
		assertThat(deadLetters.count()).isZero();
		if (redeliverable) {
			Recorder<String> successor = new Recorder<>();
			this.bus.subscribe(topic, String.class, successor, options().group(group).build());
			awaitCount(successor::count, 1);
			assertThat(successor.payloads()).containsExactly("never finished");
		}
	}

	@Test
	void closingTheBusDrainsEverySubscriptionWithinOneDrainTimeout() throws Exception {
		Duration drainTimeout = Duration.ofSeconds(2);
		DefaultMessageBus closing = newBus((builder) -> builder.drainTimeout(drainTimeout));
		List<Gate> stuck = new ArrayList<>();
		for (int i = 0; i < 4; i++) {
			String topic = topic("stuck-" + i);
			Gate gate = gate();
			stuck.add(gate);
			closing.subscribe(topic, String.class, (message) -> gate.pass());
			join(closing.publish(topic, "never finished"));
		}
		for (Gate gate : stuck) {
			gate.awaitEntered(deliveryTimeout());
		}
		CompletableFuture<Void> closed = CompletableFuture.runAsync(closing::close);
		// The drain timeout bounds the whole close, not each subscription one after another.
		closed.get(drainTimeout.plusSeconds(4).toMillis(), TimeUnit.MILLISECONDS);
		assertThat(closing.counters().delivered()).isZero();
		assertThat(closing.counters().deadLettered()).isZero();
	}

	// --- clause 12: bad input --------------------------------------------------------------------

	@Test
	void invalidInputFailsSynchronouslyBeforeAnythingIsQueued() {
		String topic = topic("valid");
		DefaultMessageBus small = newBus((builder) -> builder.maxPayloadBytes(1024));
		Recorder<Object> recorder = new Recorder<>();
		small.subscribe(topic, Object.class, recorder);
		for (String invalid : new String[] { "", "a..b", ".a", "a.", "a.*", "a.#", "a b", "a/b", "ä",
				"x".repeat(Topics.MAX_LENGTH + 1) }) {
			assertThatExceptionOfType(InvalidTopicException.class).as("topic '%s'", invalid)
				.isThrownBy(() -> small.publish(invalid, "payload"));
		}
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> small.publish(null, "payload"));
		assertThatExceptionOfType(InvalidMessageException.class).isThrownBy(() -> small.publish(topic, null))
			.withMessageContaining(topic);
		assertThatExceptionOfType(MessageTooLargeException.class)
			.isThrownBy(() -> small.publish(topic, "x".repeat(1025)))
			.withMessageContaining("1025");
		assertThatExceptionOfType(MessageTooLargeException.class)
			.isThrownBy(() -> small.publish(topic, new byte[2048]));
		assertThatExceptionOfType(InvalidTopicException.class)
			.isThrownBy(() -> small.request("a..b", "payload", String.class, Duration.ofSeconds(1)));
		assertThatExceptionOfType(InvalidTopicException.class)
			.isThrownBy(() -> small.subscribe("a..b", String.class, new Recorder<>()));
		assertThat(small.counters().published()).isZero();
		join(small.publish(topic, "x".repeat(1000)));
		awaitSteady(recorder::count, 1);
		assertThat(small.counters().published()).isEqualTo(1);
		assertThat(small.publishedByTopic()).containsOnlyKeys(topic);
	}

	@Test
	void unreadablePayloadGoesToTheDeadLetterTopic() {
		String topic = topic("typed");
		Recorder<Task> handled = new Recorder<>();
		this.bus.subscribe(topic, Task.class, handled, options().maxAttempts(3).build());
		Recorder<String> deadLetters = new Recorder<>();
		this.bus.subscribe(Topics.deadLetterTopic(topic), String.class, deadLetters);
		join(this.bus.publish(topic, "this is not a task"));
		join(this.bus.publish(topic, new Task("fine", 1, List.of())));
		awaitSteady(Map.of("dead letters", deadLetters::count, "handled", handled::count),
				Map.of("dead letters", 1, "handled", 1));
		Message<String> deadLetter = deadLetters.messages().get(0);
		assertThat(deadLetter.getPayload()).isEqualTo("this is not a task");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).startsWith("undecodable payload");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("0");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_EXCEPTION)).isNotBlank();
		assertThat(this.bus.counters().undecodable()).isEqualTo(1);
		assertThat(this.bus.counters().failed()).as("an unreadable payload is not retried").isZero();
		assertThat(handled.payloads()).extracting(Task::name).containsExactly("fine");
	}

	@Test
	void throwingHandlerNeverKillsItsWorker() {
		String topic = topic("survivor");
		Set<String> handled = ConcurrentHashMap.newKeySet();
		AtomicLong thrown = new AtomicLong();
		this.bus.subscribe(topic, String.class, (message) -> {
			String payload = message.getPayload();
			switch (payload.substring(0, payload.indexOf('-'))) {
				case "runtime" -> {
					thrown.incrementAndGet();
					throw new IllegalStateException("boom");
				}
				case "checked" -> {
					thrown.incrementAndGet();
					throw new java.io.IOException("checked boom");
				}
				case "error" -> {
					thrown.incrementAndGet();
					throw new AssertionError("an Error, not an Exception");
				}
				default -> handled.add(payload);
			}
		}, options().maxAttempts(1).build());
		Set<String> expected = new HashSet<>();
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "runtime-" + i));
			join(this.bus.publish(topic, "checked-" + i));
			join(this.bus.publish(topic, "error-" + i));
			join(this.bus.publish(topic, "fine-" + i));
			expected.add("fine-" + i);
		}
		awaitSteady(handled::size, 5);
		assertThat(handled).isEqualTo(expected);
		assertThat(thrown.get()).isEqualTo(15);
		await().atMost(deliveryTimeout()).untilAsserted(() -> assertThat(this.bus.counters().deadLettered()).isEqualTo(15));
	}

	@Test
	void unreadableWireDataBecomesADeadLetterAndTheConsumerKeepsGoing() throws Exception {
		String topic = topic("wire");
		byte[] garbage = "\u0000\u0001 not an envelope".getBytes(StandardCharsets.UTF_8);
		assertThatThrownBy(() -> WireHeaders.read(Map.of("id", "not-a-uuid"), garbage, topic))
			.isInstanceOf(MalformedEnvelopeException.class)
			.hasMessageContaining("not-a-uuid");
		Recorder<String> handled = new Recorder<>();
		this.bus.subscribe(topic, String.class, handled);
		Recorder<byte[]> deadLetters = new Recorder<>();
		this.bus.subscribe(Topics.deadLetterTopic(topic), byte[].class, deadLetters);
		if (!sendUnreadable(topic, garbage)) {
			// An in-process backend has no wire: nothing can arrive unreadable, so only the codec's side is checked.
			return;
		}
		awaitSteady(deadLetters::count, 1);
		Message<byte[]> deadLetter = deadLetters.messages().get(0);
		assertThat(deadLetter.getPayload()).containsExactly(garbage);
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).startsWith("unreadable envelope");
		assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo(topic);
		join(this.bus.publish(topic, "after the garbage"));
		awaitSteady(handled::count, 1);
		assertThat(handled.payloads()).containsExactly("after the garbage");
	}

	/**
	 * Puts bytes on the broker for a topic the way a foreign client would, without AMB's headers,
	 * so that the adapter receives data it cannot read.
	 * @param topic the topic
	 * @param body the bytes
	 * @return whether the backend has a wire to send them on (false for in-process backends)
	 * @throws Exception if sending failed
	 */
	protected boolean sendUnreadable(String topic, byte[] body) throws Exception {
		return false;
	}

}
