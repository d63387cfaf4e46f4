package dev.amb.core.contract;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import dev.amb.core.Backoff;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.MessageHandler;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What every part of the contract suite shares: a bus per test on a fresh adapter, names unique to
 * the test, recorders, gates, waits, and the backend's hooks. {@link BrokerContractTests} and each
 * capability's contract (such as {@link WildcardContract}) extend it.
 * <p>
 * A capability's contract runs as a JUnit {@code @Nested} inner class of the backend's
 * {@link BrokerContractTests} subclass. It then takes the adapter and every hook it does not
 * override itself ({@link #deliveryTimeout()}, {@link #quietPeriod()}, {@link #priorityTolerance()},
 * {@link #sharedBackend()}, {@link #sendUnreadable(String, byte[])},
 * {@link #customizeBus(DefaultMessageBus.Builder)}) from that enclosing instance, so that a
 * backend writes its overrides once, on the outer class.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@ExtendWith(ContractSupport.EnclosingContract.class)
public abstract class ContractSupport {

	/** A record payload, as agents usually exchange. */
	public record Task(String name, int priority, List<String> tags) {
	}

	private final List<DefaultMessageBus> buses = new CopyOnWriteArrayList<>();

	private final List<Gate> gates = new CopyOnWriteArrayList<>();

	private String prefix;

	/** The backend test around this one when it runs as a nested capability contract; null otherwise. */
	private ContractSupport enclosing;

	/** The bus of the test, on a fresh adapter, closed after the test. */
	protected DefaultMessageBus bus;

	/**
	 * A fresh adapter for one test, on the real server. The bus starts it and closes it. A nested
	 * capability contract takes it from the enclosing backend test.
	 * @return the adapter
	 */
	protected BrokerAdapter createAdapter() {
		return enclosing().createAdapter();
	}

	/**
	 * How long a message may take to arrive; 10 s by default.
	 * @return the delivery timeout
	 */
	protected Duration deliveryTimeout() {
		return (this.enclosing != null) ? this.enclosing.deliveryTimeout() : Duration.ofSeconds(10);
	}

	/**
	 * How long a test watches for a message that must not arrive; 500 ms by default.
	 * @return the quiet period
	 */
	protected Duration quietPeriod() {
		return (this.enclosing != null) ? this.enclosing.quietPeriod() : Duration.ofMillis(500);
	}

	/**
	 * How many lower-lane messages may overtake a waiting higher-lane message, for backends that
	 * prefetch a few messages before the lanes are compared; 0 by default.
	 * @return the tolerance
	 */
	protected int priorityTolerance() {
		return (this.enclosing != null) ? this.enclosing.priorityTolerance() : 0;
	}

	/**
	 * Whether two adapters from {@link #createAdapter()} reach the same messages (true for a real
	 * server; false for the in-memory backend, where each adapter is its own broker).
	 * @return whether buses on separate adapters talk to each other
	 */
	protected boolean sharedBackend() {
		return (this.enclosing != null) ? this.enclosing.sharedBackend() : true;
	}

	/**
	 * Adds what every bus of this backend's tests needs, such as a write-ahead log; nothing by default.
	 * @param builder the builder, with the adapter already set
	 */
	protected void customizeBus(DefaultMessageBus.Builder builder) {
		if (this.enclosing != null) {
			this.enclosing.customizeBus(builder);
		}
	}

	/**
	 * Waits until a backlog the test published is visible to the subscription, for backends whose
	 * messages reach the subscriber's side a little after the broker confirmed them; nothing by
	 * default. "With a backlog" then means the same on every backend.
	 * @param on the bus the subscription belongs to
	 * @param subscription the subscription
	 * @param messages how many messages the backlog holds
	 */
	protected void awaitBacklogVisible(DefaultMessageBus on, Subscription subscription, int messages) {
		if (this.enclosing != null) {
			this.enclosing.awaitBacklogVisible(on, subscription, messages);
		}
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
		return (this.enclosing != null) && this.enclosing.sendUnreadable(topic, body);
	}

	private ContractSupport enclosing() {
		if (this.enclosing == null) {
			throw new IllegalStateException(getClass().getName() + " runs as a @Nested inner class of a "
					+ "BrokerContractTests subclass, which provides the adapter");
		}
		return this.enclosing;
	}

	@BeforeEach
	void openBus(TestInfo test) {
		// JUnit runs the enclosing class's @BeforeEach for a nested test too: only the test's own instance opens a bus.
		if (test.getTestClass().orElse(null) != getClass()) {
			return;
		}
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

	/** Publishes {@code perKey} messages for each of {@code keys} keys, as "k<key>:<sequence>", alternating two lanes. */
	protected void publishKeyed(String topic, int keys, int perKey) {
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

	protected static <T> MessageHandler<T> jitter(MessageHandler<T> handler) {
		return (message) -> {
			Thread.sleep(ThreadLocalRandom.current().nextInt(2));
			handler.handle(message);
		};
	}

	protected static void assertOrderPerKey(List<Message<String>> messages) {
		Map<String, List<Integer>> sequences = new HashMap<>();
		for (Message<String> message : messages) {
			String[] parts = message.getPayload().split(":");
			assertThat(message.getKey()).isEqualTo(parts[0]);
			sequences.computeIfAbsent(parts[0], (key) -> new ArrayList<>()).add(Integer.parseInt(parts[1]));
		}
		sequences.forEach((key, sequence) -> assertThat(sequence).as("order of key " + key).isSorted()
			.doesNotHaveDuplicates());
	}

	/**
	 * Hands each nested capability contract the backend test that encloses it, before any
	 * {@code @BeforeEach} method (which opens the bus on the enclosing test's adapter) runs.
	 */
	static final class EnclosingContract implements BeforeEachCallback {

		@Override
		public void beforeEach(ExtensionContext context) {
			ContractSupport outer = null;
			for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
				if (instance instanceof ContractSupport contract) {
					contract.enclosing = outer;
					outer = contract;
				}
			}
		}

	}

}
