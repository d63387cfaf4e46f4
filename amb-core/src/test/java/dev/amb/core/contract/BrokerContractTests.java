package dev.amb.core.contract;

import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.amb.core.Backoff;
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

/**
 * The contract every backend honours: DESIGN.md section 2, one test (or a few) per clause. A
 * backend's test extends this class and returns a fresh adapter on a real server from
 * {@link #createAdapter()}.
 * <p>
 * Recipe for a backend's test class: the clauses that depend on a {@link Capability} live in one
 * abstract contract per capability, which the backend runs as a {@code @Nested} inner class, one
 * line per capability its adapter declares, and none for the others:
 * <pre class="code">
 * class RedisContractTests extends BrokerContractTests {
 *
 * 	&#64;Override
 * 	protected BrokerAdapter createAdapter() { ... }
 *
 * 	// hooks (deliveryTimeout(), quietPeriod(), priorityTolerance(), sharedBackend(),
 * 	// sendUnreadable(), customizeBus()) are overridden here; the nested contracts use them too
 *
 * 	&#64;Nested class DurableGroups extends DurableGroupContract {}  // DURABLE_GROUPS
 * 	&#64;Nested class KeyOrder extends KeyOrderContract {}           // KEY_ORDER
 * 	&#64;Nested class Priorities extends PriorityContract {}         // PRIORITY
 * 	&#64;Nested class Wildcards extends WildcardContract {}          // WILDCARDS
 * 	&#64;Nested class BoundedQueues extends BoundedQueueContract {}  // BOUNDED_QUEUES
 * 	&#64;Nested class Pause extends PauseContract {}                 // PAUSE
 *
 * }
 * </pre>
 * The nested classes must be inner (not {@code static}) classes of the backend's test class. For
 * each capability this class checks that a backend declaring it runs its contract as such a nested
 * class (and that one not declaring it does not), and that a backend lacking it shows the lack
 * clearly where it can be observed: a wildcard pattern or {@code pause()} is refused with an
 * {@link UnsupportedCapabilityException}, an unbounded queue reports capacity -1, a group without
 * members keeps no backlog. Nothing is ever skipped.
 * <p>
 * Every test uses its own topic and group names (a random prefix), so backends on a shared server
 * can run it next to other tests.
 */
public abstract class BrokerContractTests extends ContractSupport {

	/**
	 * A fresh adapter for one test, on the real server. The bus starts it and closes it; the nested
	 * capability contracts take theirs from here too.
	 * @return the adapter
	 */
	@Override
	protected abstract BrokerAdapter createAdapter();

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

	// --- clause 9: topic isolation (wildcards: WildcardContract) ----------------------------------

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

	// --- clause 10: subscription state (backpressure: BoundedQueueContract; pause: PauseContract) --

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

	// --- capabilities: a declared one has its contract run, a missing one shows clearly ---------

	@Test
	void durableGroupsRunTheirContractOrKeepNoBacklogForAGroupWithoutMembers() {
		if (declaresAndRunsContract(Capability.DURABLE_GROUPS, DurableGroupContract.class, "DurableGroups")) {
			return;
		}
		String topic = topic("not-durable");
		String group = group("forgetful");
		Recorder<String> before = new Recorder<>();
		Subscription member = this.bus.subscribe(topic, String.class, before, options().group(group).build());
		join(this.bus.publish(topic, "while-subscribed"));
		awaitCount(before::count, 1);
		member.close();
		for (String payload : List.of("b1", "b2", "b3")) {
			join(this.bus.publish(topic, payload));
		}
		Recorder<String> after = new Recorder<>();
		this.bus.subscribe(topic, String.class, after, options().group(group).build());
		// A backend that keeps the backlog must declare DURABLE_GROUPS and pass its contract.
		awaitSteady(after::count, 0);
	}

	@Test
	void keyOrderRunsItsContractWhenDeclared() {
		// Without KEY_ORDER messages may still arrive in order by chance: only the declaration is checked.
		declaresAndRunsContract(Capability.KEY_ORDER, KeyOrderContract.class, "KeyOrder");
	}

	@Test
	void priorityRunsItsContractWhenDeclared() {
		// Without PRIORITY lanes may still happen to be honoured: only the declaration is checked.
		declaresAndRunsContract(Capability.PRIORITY, PriorityContract.class, "Priorities");
	}

	@Test
	void wildcardsRunTheirContractOrAreRefusedNamingThePattern() {
		String star = topic("agent.*");
		if (declaresAndRunsContract(Capability.WILDCARDS, WildcardContract.class, "Wildcards")) {
			assertThat(this.bus.subscribe(star, String.class, new Recorder<>()).isActive()).isTrue();
			return;
		}
		assertThatExceptionOfType(UnsupportedCapabilityException.class)
			.isThrownBy(() -> this.bus.subscribe(star, String.class, new Recorder<>()))
			.withMessageContaining(star);
	}

	@Test
	void boundedQueuesRunTheirContractOrReportNoCapacity() {
		Subscription subscription = this.bus.subscribe(topic("bounds"), String.class, new Recorder<>());
		long capacity = state(this.bus, subscription).capacity();
		if (declaresAndRunsContract(Capability.BOUNDED_QUEUES, BoundedQueueContract.class, "BoundedQueues")) {
			assertThat(capacity).as("a bounded queue reports its capacity").isPositive();
			return;
		}
		assertThat(capacity).as("an unbounded backend reports no capacity").isEqualTo(-1);
	}

	@Test
	void pauseRunsItsContractOrIsRefused() {
		Subscription subscription = this.bus.subscribe(topic("pausable"), String.class, new Recorder<>());
		if (declaresAndRunsContract(Capability.PAUSE, PauseContract.class, "Pause")) {
			subscription.pause();
			assertThat(subscription.isPaused()).isTrue();
			return;
		}
		assertThatExceptionOfType(UnsupportedCapabilityException.class).isThrownBy(subscription::pause);
		assertThat(subscription.isPaused()).isFalse();
	}

	/**
	 * Checks that this backend's test class runs the capability's contract as a nested class if, and
	 * only if, the backend declares the capability.
	 * @param capability the capability
	 * @param contract its contract
	 * @param nestedName the name the recipe gives the nested class
	 * @return whether the backend declares it
	 */
	private boolean declaresAndRunsContract(Capability capability, Class<? extends ContractSupport> contract,
			String nestedName) {
		boolean declared = capabilities().contains(capability);
		List<Class<?>> nested = new ArrayList<>();
		List<Class<?>> notRun = new ArrayList<>();
		for (Class<?> type = getClass(); type != BrokerContractTests.class; type = type.getSuperclass()) {
			for (Class<?> member : type.getDeclaredClasses()) {
				if (contract.isAssignableFrom(member)) {
					boolean runs = member.isAnnotationPresent(Nested.class) && !Modifier.isStatic(member.getModifiers())
							&& !Modifier.isAbstract(member.getModifiers());
					(runs ? nested : notRun).add(member);
				}
			}
		}
		String suggestion = "@Nested class " + nestedName + " extends " + contract.getSimpleName() + " {}";
		assertThat(notRun).as("classes of %s extending %s that JUnit does not run (not a non-static, concrete @Nested class)",
				getClass().getSimpleName(), contract.getSimpleName())
			.isEmpty();
		if (declared) {
			assertThat(nested).as("the %s backend declares %s, so %s must run %s: add '%s'", this.bus.backend(),
					capability, getClass().getSimpleName(), contract.getSimpleName(), suggestion)
				.isNotEmpty();
		}
		else {
			assertThat(nested).as("the %s backend does not declare %s, so %s must not run %s", this.bus.backend(),
					capability, getClass().getSimpleName(), contract.getSimpleName())
				.isEmpty();
		}
		return declared;
	}

}
