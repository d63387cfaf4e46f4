package dev.amb.core.persistence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.AmbException;
import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The bus with a write-ahead log: in-memory messages survive a restart and are replayed with
 * their ids; handled ones are acknowledged; with a durable backend the log is an outbox that
 * loses nothing while the broker is down.
 */
class DurableBusTests {

	private static final Duration WAIT = Duration.ofSeconds(30);

	@TempDir
	Path directory;

	@Test
	void unhandledInMemoryMessagesAreReplayedAfterARestartWithTheirIds() throws Exception {
		List<UUID> published = new ArrayList<>();
		DefaultMessageBus first = bus(FileMessageStore.open(this.directory));
		Subscription paused = first.subscribe("orders.created", String.class, (message) -> {
		}, SubscribeOptions.builder().name("billing").build());
		paused.pause();
		for (int i = 0; i < 20; i++) {
			published.add(first.publish("orders.created", "order " + i, PublishOptions.key("k")).get(10, TimeUnit.SECONDS));
		}
		assertThat(first.store().health().pending()).isEqualTo(20);
		first.close();

		List<UUID> received = new CopyOnWriteArrayList<>();
		List<String> payloads = new CopyOnWriteArrayList<>();
		DefaultMessageBus second = bus(FileMessageStore.open(this.directory));
		try {
			second.subscribe("orders.created", String.class, (message) -> {
				received.add(message.getId());
				payloads.add(message.getPayload());
			}, SubscribeOptions.builder().name("billing").build());
			assertThat(received).as("nothing is replayed before replay()").isEmpty();
			assertThat(second.replay()).isEqualTo(20);
			assertThat(second.replay()).as("once").isZero();
			await().atMost(WAIT).until(() -> received.size() == 20);
			assertThat(received).containsExactlyElementsOf(published);
			assertThat(payloads.get(0)).isEqualTo("order 0");
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
		}
		finally {
			second.close();
		}
		DefaultMessageBus third = bus(FileMessageStore.open(this.directory));
		try {
			assertThat(third.replay()).as("handled messages were acknowledged").isZero();
		}
		finally {
			third.close();
		}
	}

	@Test
	void replayWaitsOutBackpressureInsteadOfLosingMessages() throws Exception {
		List<UUID> published = new ArrayList<>();
		DefaultMessageBus first = bus(FileMessageStore.open(this.directory));
		first.subscribe("backlog", String.class, (message) -> {
		}, SubscribeOptions.builder().name("worker").build()).pause();
		for (int i = 0; i < 300; i++) {
			published.add(first.publish("backlog", "m" + i).get(10, TimeUnit.SECONDS));
		}
		first.close();
		// A queue of 50 that rejects when full, and a handler that holds the first message until the replay has
		// been refused: the replay is sure to meet a full queue
		InMemoryBroker small = InMemoryBroker.builder()
			.backpressure(new Backpressure(50, 0.8, BackpressurePolicy.REJECT, Duration.ZERO))
			.build();
		DefaultMessageBus second = DefaultMessageBus.builder().adapter(small).store(FileMessageStore.open(this.directory)).build();
		try {
			List<UUID> received = new CopyOnWriteArrayList<>();
			second.subscribe("backlog", String.class, (message) -> {
				if (received.isEmpty()) {
					await().atMost(WAIT).until(() -> second.counters().rejected() > 0);
				}
				received.add(message.getId());
			}, SubscribeOptions.builder().name("worker").build());
			assertThat(second.replay()).isEqualTo(300);
			await().atMost(WAIT).until(() -> received.size() >= 300);
			assertThat(received).containsExactlyInAnyOrderElementsOf(published);
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
			assertThat(second.counters().rejected()).as("backpressure was met").isPositive();
		}
		finally {
			second.close();
		}
	}

	@Test
	void aPublishRefusedByBackpressureFailsAndIsNotReplayedLater() throws Exception {
		InMemoryBroker small = InMemoryBroker.builder()
			.backpressure(new Backpressure(5, 0.8, BackpressurePolicy.REJECT, Duration.ZERO))
			.build();
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(small).store(FileMessageStore.open(this.directory)).build();
		List<UUID> accepted = new ArrayList<>();
		try {
			bus.subscribe("tight", String.class, (message) -> {
			}, SubscribeOptions.builder().name("tight-worker").build()).pause();
			Throwable refused = null;
			for (int i = 0; i < 20 && refused == null; i++) {
				try {
					accepted.add(bus.publish("tight", "n" + i).get(10, TimeUnit.SECONDS));
				}
				catch (ExecutionException ex) {
					refused = ex.getCause();
				}
			}
			assertThat(refused).as("the publisher is told").isInstanceOf(BackpressureException.class);
			await().atMost(WAIT).until(() -> bus.store().health().pending() == accepted.size());
		}
		finally {
			bus.close();
		}
		DefaultMessageBus again = bus(FileMessageStore.open(this.directory));
		try {
			List<UUID> replayed = new CopyOnWriteArrayList<>();
			again.subscribe("tight", String.class, (message) -> replayed.add(message.getId()),
					SubscribeOptions.builder().name("tight-worker").build());
			assertThat(again.replay()).isEqualTo(accepted.size());
			await().atMost(WAIT).until(() -> replayed.size() >= accepted.size());
			assertThat(replayed).as("only what was accepted comes back").containsExactlyElementsOf(accepted);
		}
		finally {
			again.close();
		}
	}

	@Test
	void aMessageIsAcknowledgedWhenEverySubscriptionIsDoneWithIt() throws Exception {
		DefaultMessageBus bus = bus(FileMessageStore.open(this.directory));
		try {
			List<UUID> fast = new CopyOnWriteArrayList<>();
			bus.subscribe("events.#", String.class, (message) -> fast.add(message.getId()));
			Subscription slow = bus.subscribe("events.*", String.class, (message) -> {
			});
			slow.pause();
			UUID id = bus.publish("events.one", "both must finish").get(10, TimeUnit.SECONDS);
			await().atMost(WAIT).until(() -> fast.contains(id));
			Thread.sleep(200);
			assertThat(bus.store().health().pending()).as("the paused subscription has not finished").isEqualTo(1);
			slow.resume();
			await().atMost(WAIT).until(() -> bus.store().health().pending() == 0);
		}
		finally {
			bus.close();
		}
	}

	@Test
	void aMessageWithoutSubscriptionsIsFinishedWith() throws Exception {
		DefaultMessageBus bus = bus(FileMessageStore.open(this.directory));
		try {
			bus.publish("nobody.listens", "gone").get(10, TimeUnit.SECONDS);
			await().atMost(WAIT).until(() -> bus.store().health().pending() == 0);
		}
		finally {
			bus.close();
		}
	}

	@Test
	void theDiskUsageCapIsBackpressureOnPublish() throws Exception {
		FileMessageStore store = FileMessageStore.builder(this.directory).maxDiskBytes(32 * 1024).capWait(Duration.ZERO).build();
		DefaultMessageBus bus = bus(store);
		try {
			bus.subscribe("capped", String.class, (message) -> {
			}).pause();
			Throwable refused = null;
			for (int i = 0; i < 1000 && refused == null; i++) {
				try {
					bus.publish("capped", "p".repeat(1000)).get(10, TimeUnit.SECONDS);
				}
				catch (ExecutionException ex) {
					refused = ex.getCause();
				}
			}
			assertThat(refused).isInstanceOf(BackpressureException.class).hasMessageContaining("disk-usage cap of 32768 bytes");
		}
		finally {
			bus.close();
		}
	}

	@Test
	void withADurableBackendTheLogIsAnOutboxThatSurvivesAnOutage() throws Exception {
		OutageBroker broker = new OutageBroker();
		broker.down = true;
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(broker).store(FileMessageStore.open(this.directory)).build();
		List<UUID> published = new ArrayList<>();
		try {
			for (int i = 0; i < 10; i++) {
				published.add(bus.publish("remote.topic", "while down " + i).get(10, TimeUnit.SECONDS));
			}
			assertThat(broker.received).isEmpty();
			assertThat(bus.store().health().pending()).isEqualTo(10);
			broker.down = false;
			await().atMost(WAIT).until(() -> bus.store().health().pending() == 0);
			assertThat(broker.received).containsExactlyInAnyOrderElementsOf(published);
			assertThat(bus.counters().published()).isEqualTo(10);
		}
		finally {
			bus.close();
		}
	}

	@Test
	void outboxMessagesNotForwardedBeforeAStopAreForwardedAfterTheRestart() throws Exception {
		OutageBroker down = new OutageBroker();
		down.down = true;
		DefaultMessageBus first = DefaultMessageBus.builder().adapter(down).store(FileMessageStore.open(this.directory)).build();
		List<UUID> published = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			published.add(first.publish("remote.topic", "kept " + i).get(10, TimeUnit.SECONDS));
		}
		first.close();
		OutageBroker up = new OutageBroker();
		DefaultMessageBus second = DefaultMessageBus.builder().adapter(up).store(FileMessageStore.open(this.directory)).build();
		try {
			// An outbox forwards what it recovered as soon as the bus is built; there is nothing left to replay
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
			assertThat(second.replay()).isZero();
			assertThat(up.received).containsExactlyElementsOf(published);
		}
		finally {
			second.close();
		}
	}

	@Test
	void withoutAStoreReplayDoesNothing() {
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).build();
		try {
			assertThat(bus.store()).isNull();
			assertThat(bus.replay()).isZero();
		}
		finally {
			bus.close();
		}
	}

	@Test
	void publishingAfterTheStoreFailedIsAClearError() throws Exception {
		FileMessageStore store = FileMessageStore.open(this.directory);
		DefaultMessageBus bus = bus(store);
		try {
			store.close();
			assertThatExceptionOfType(ExecutionException.class)
				.isThrownBy(() -> bus.publish("t", "x").get(10, TimeUnit.SECONDS))
				.withCauseInstanceOf(MessageStoreException.class)
				.withMessageContaining("is closed");
		}
		finally {
			bus.close();
		}
	}

	private static DefaultMessageBus bus(MessageStore store) {
		return DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).drainTimeout(Duration.ofSeconds(2)).build();
	}

	/** Stands in for a remote, durable broker whose connection can be cut; it only receives. */
	static final class OutageBroker implements BrokerAdapter {

		volatile boolean down;

		final List<UUID> received = Collections.synchronizedList(new ArrayList<>());

		@Override
		public String name() {
			return "outage";
		}

		@Override
		public Set<Capability> capabilities() {
			return Set.of(Capability.DURABLE);
		}

		@Override
		public void start(AdapterContext context) {
		}

		@Override
		public CompletableFuture<Void> send(Envelope envelope) {
			if (this.down) {
				return CompletableFuture.failedFuture(new AmbException("connection refused"));
			}
			this.received.add(envelope.id());
			return CompletableFuture.completedFuture(null);
		}

		@Override
		public BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler) {
			throw new UnsupportedOperationException("send-only");
		}

		@Override
		public BrokerHealth health() {
			return this.down ? BrokerHealth.down("cut") : BrokerHealth.up(java.util.Map.of());
		}

		@Override
		public void close(Duration timeout) {
		}

	}

}
