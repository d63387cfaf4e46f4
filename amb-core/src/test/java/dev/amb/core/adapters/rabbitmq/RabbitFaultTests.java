package dev.amb.core.adapters.rabbitmq;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.testsupport.RealServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker closes the adapter's connections while it publishes and consumes: every publish
 * the broker confirmed reaches the group and the broadcast subscription, unconfirmed publishes
 * fail clearly (never hang, never succeed silently), and the adapter recovers by itself.
 */
class RabbitFaultTests {

	private static RabbitTestBroker broker;

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

	@Test
	void noConfirmedMessageIsLostWhenTheBrokerClosesConnectionsWhilePublishingAndConsuming() throws Exception {
		try (DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(broker.newAdapter())
			.drainTimeout(Duration.ofSeconds(5))
			.build()) {
			String topic = "fault.publish." + UUID.randomUUID().toString().substring(0, 8);
			Set<UUID> groupReceived = ConcurrentHashMap.newKeySet();
			Set<UUID> broadcastReceived = ConcurrentHashMap.newKeySet();
			bus.subscribe(topic, Integer.class, (m) -> groupReceived.add(m.getId()),
					SubscribeOptions.builder().group("fault-" + broker.suffix).concurrency(2).build());
			bus.subscribe(topic, Integer.class, (m) -> broadcastReceived.add(m.getId()));
			FaultPublisher publisher = new FaultPublisher(bus, topic);
			Thread thread = new Thread(publisher, "fault-publisher");
			thread.start();
			int closed = 0;
			for (int round = 1; round <= 3; round++) {
				int threshold = round * 2000;
				await().atMost(Duration.ofSeconds(60)).until(() -> publisher.confirmed.size() >= threshold);
				closed += broker.closeConnectionsFromBroker();
			}
			await().atMost(Duration.ofSeconds(60)).until(() -> publisher.confirmed.size() >= 8000);
			publisher.stop = true;
			thread.join(TimeUnit.SECONDS.toMillis(120));
			assertThat(thread.isAlive()).isFalse();
			assertThat(publisher.unexpected.get()).isNull();
			assertThat(closed).as("connections the broker closed").isGreaterThanOrEqualTo(3);
			// Every number was eventually confirmed once or more (failed publishes were published again).
			assertThat(publisher.confirmedNumbers).hasSize(publisher.next);
			await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
				assertThat(missing(publisher.confirmed, groupReceived)).as("confirmed ids the group never received")
					.isZero();
				assertThat(missing(publisher.confirmed, broadcastReceived))
					.as("confirmed ids the broadcast subscription never received")
					.isZero();
			});
			System.out.println("Fault test: " + closed + " connection(s) closed by the broker while "
					+ publisher.confirmed.size() + " publishes were confirmed; " + publisher.failed.get()
					+ " publish(es) failed clearly (PublishNotConfirmedException) and were published again; "
					+ groupReceived.size() + " distinct ids in the group, " + broadcastReceived.size()
					+ " in the broadcast subscription, every confirmed id among them");
		}
	}

	@Test
	void withTheWriteAheadLogAsOutboxEveryPublishArrivesDespiteClosedConnections(@TempDir Path directory)
			throws Exception {
		try (DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(broker.newAdapter())
			.store(FileMessageStore.open(directory))
			.drainTimeout(Duration.ofSeconds(5))
			.build()) {
			String topic = "fault.outbox." + UUID.randomUUID().toString().substring(0, 8);
			Set<Integer> received = ConcurrentHashMap.newKeySet();
			bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
					SubscribeOptions.group("outbox-" + broker.suffix));
			int total = 6000;
			int closed = 0;
			List<CompletableFuture<UUID>> logged = new ArrayList<>();
			for (int i = 0; i < total; i++) {
				// The application publishes and does not retry: the log forwards what the broker did not confirm.
				logged.add(bus.publish(topic, i));
				if (i == total / 3 || i == 2 * total / 3) {
					closed += broker.closeConnectionsFromBroker();
				}
			}
			for (CompletableFuture<UUID> future : logged) {
				future.get(60, TimeUnit.SECONDS);
			}
			assertThat(closed).isGreaterThanOrEqualTo(2);
			await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(received).hasSize(total));
			await().atMost(Duration.ofSeconds(30)).until(() -> bus.store().health().pending() == 0);
		}
	}

	@Test
	void aBrokerRestartLosesNoConfirmedMessageOfAGroupAndTheLogForwardsWhatWasPublishedWhileItWasDown(
			@TempDir Path directory) throws Exception {
		String topic = "fault.restart." + UUID.randomUUID().toString().substring(0, 8);
		String group = "restart-" + broker.suffix;
		Set<Integer> received = ConcurrentHashMap.newKeySet();
		int beforeStop = 500;
		int whileStopped = 500;
		try (DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(broker.newAdapter())
			.store(FileMessageStore.open(directory))
			.drainTimeout(Duration.ofSeconds(5))
			.build()) {
			// The group's durable queue exists; its member is paused, so the confirmed messages wait in the broker.
			var subscription = bus.subscribe(topic, Integer.class, (m) -> received.add(m.getPayload()),
					SubscribeOptions.group(group));
			subscription.pause();
			for (int i = 0; i < beforeStop; i++) {
				bus.publish(topic, i).get(30, TimeUnit.SECONDS);
			}
			await().atMost(Duration.ofSeconds(30)).until(() -> bus.store().health().pending() == 0);
			List<CompletableFuture<UUID>> logged = new ArrayList<>();
			try {
				RealServer.RABBITMQ.admin("rabbitmqctl", "stop_app");
				for (int i = beforeStop; i < beforeStop + whileStopped; i++) {
					// Completes once logged: the broker is down, the log keeps it until the broker is back.
					logged.add(bus.publish(topic, i));
				}
				for (CompletableFuture<UUID> future : logged) {
					future.get(30, TimeUnit.SECONDS);
				}
				assertThat(bus.store().health().pending()).as("publishes waiting in the log for the broker")
					.isPositive();
			}
			finally {
				RealServer.RABBITMQ.admin("rabbitmqctl", "start_app");
				RealServer.RABBITMQ.admin("rabbitmqctl", "await_startup");
			}
			subscription.resume();
			await().atMost(Duration.ofSeconds(120))
				.untilAsserted(() -> assertThat(received).hasSize(beforeStop + whileStopped));
			await().atMost(Duration.ofSeconds(30)).until(() -> bus.store().health().pending() == 0);
		}
	}

	private static long missing(Set<UUID> confirmed, Set<UUID> received) {
		return confirmed.stream().filter((id) -> !received.contains(id)).count();
	}

	/** Publishes without waiting for each confirm, the way an application does, and publishes failures again. */
	private static final class FaultPublisher implements Runnable {

		final DefaultMessageBus bus;

		final String topic;

		final Set<UUID> confirmed = ConcurrentHashMap.newKeySet();

		final Set<Integer> confirmedNumbers = ConcurrentHashMap.newKeySet();

		final java.util.Queue<Integer> retries = new java.util.concurrent.ConcurrentLinkedQueue<>();

		final AtomicInteger failed = new AtomicInteger();

		final AtomicInteger outstanding = new AtomicInteger();

		final AtomicReference<Throwable> unexpected = new AtomicReference<>();

		volatile boolean stop;

		volatile int next;

		FaultPublisher(DefaultMessageBus bus, String topic) {
			this.bus = bus;
			this.topic = topic;
		}

		@Override
		public void run() {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(110);
			while (System.nanoTime() < deadline && this.unexpected.get() == null) {
				Integer retry = this.retries.poll();
				if (retry == null && this.stop) {
					if (this.outstanding.get() == 0 && this.retries.isEmpty()) {
						return;
					}
					sleep();
					continue;
				}
				int number = (retry != null) ? retry : this.next++;
				this.outstanding.incrementAndGet();
				CompletableFuture<UUID> future;
				try {
					future = this.bus.publish(this.topic, number);
				}
				catch (RuntimeException ex) {
					future = CompletableFuture.failedFuture(ex);
				}
				future.whenComplete((id, failure) -> {
					if (failure == null) {
						this.confirmed.add(id);
						this.confirmedNumbers.add(number);
					}
					else {
						Throwable cause = (failure instanceof java.util.concurrent.CompletionException) ? failure.getCause() : failure;
						if (!(cause instanceof PublishNotConfirmedException)) {
							this.unexpected.compareAndSet(null, cause);
						}
						this.failed.incrementAndGet();
						this.retries.add(number);
					}
					this.outstanding.decrementAndGet();
				});
				if (retry != null) {
					sleep();
				}
			}
		}

		private static void sleep() {
			try {
				Thread.sleep(2);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
