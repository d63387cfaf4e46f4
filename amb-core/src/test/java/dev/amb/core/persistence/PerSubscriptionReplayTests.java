package dev.amb.core.persistence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.inmemory.InMemoryBroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * Acknowledgements per subscription on a real file system: after a restart a message goes only
 * to the durable names it was meant for that had not acknowledged it, with its original id.
 */
class PerSubscriptionReplayTests {

	private static final Duration WAIT = Duration.ofSeconds(30);

	private static final String TOPIC = "orders.created";

	@TempDir
	Path directory;

	@Test
	void onlyTheSubscriptionThatHadNotHandledAMessageGetsItAfterARestart() throws Exception {
		List<UUID> published = new ArrayList<>();
		List<UUID> auditedBefore = new CopyOnWriteArrayList<>();
		DefaultMessageBus first = bus();
		Subscription billing = first.subscribe(TOPIC, String.class, (message) -> {
		}, SubscribeOptions.group("billing"));
		billing.pause();
		Subscription audit = first.subscribe(TOPIC, String.class,
				(Message<String> message) -> auditedBefore.add(message.getId()),
				SubscribeOptions.builder().durableName("audit").build());
		assertThat(billing.durableName()).isEqualTo("group:billing");
		assertThat(audit.durableName()).isEqualTo("name:audit");
		for (int i = 0; i < 25; i++) {
			published.add(first.publish(TOPIC, "order " + i, PublishOptions.key("k")).get(10, TimeUnit.SECONDS));
		}
		await().atMost(WAIT).until(() -> auditedBefore.size() == 25);
		assertThat(first.store().health().pending()).as("billing has not handled them").isEqualTo(25);
		// The paused group never acknowledges: its queue is dropped at close, as in a crash
		first.close();

		List<UUID> billed = new CopyOnWriteArrayList<>();
		List<String> billedPayloads = new CopyOnWriteArrayList<>();
		List<UUID> auditedAfter = new CopyOnWriteArrayList<>();
		List<UUID> strangers = new CopyOnWriteArrayList<>();
		DefaultMessageBus second = bus();
		try {
			second.subscribe(TOPIC, String.class, (Message<String> message) -> {
				billed.add(message.getId());
				billedPayloads.add(message.getPayload());
			}, SubscribeOptions.group("billing"));
			second.subscribe(TOPIC, String.class, (Message<String> message) -> auditedAfter.add(message.getId()),
					SubscribeOptions.builder().durableName("audit").build());
			second.subscribe(TOPIC, String.class, (Message<String> message) -> strangers.add(message.getId()),
					SubscribeOptions.builder().durableName("newcomer").build());
			second.subscribe(TOPIC, String.class, (Message<String> message) -> strangers.add(message.getId()));
			assertThat(second.replay()).isEqualTo(25);
			await().atMost(WAIT).until(() -> billed.size() == 25);
			assertThat(billed).as("in log order, with the original ids").containsExactlyElementsOf(published);
			assertThat(billedPayloads.get(0)).isEqualTo("order 0");
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
			assertThat(auditedAfter).as("audit had handled them all").isEmpty();
			assertThat(strangers).as("never meant for subscriptions that did not exist when they were published")
				.isEmpty();
			assertThat(second.waitingReplays()).isEmpty();
		}
		finally {
			second.close();
		}
		DefaultMessageBus third = bus();
		try {
			assertThat(third.store().health().pending()).isZero();
			assertThat(third.replay()).isZero();
		}
		finally {
			third.close();
		}
	}

	@Test
	void aMessageHandledByOneOfTwoBroadcastSubscriptionsGoesOnlyToTheOther() throws Exception {
		DefaultMessageBus first = bus();
		List<UUID> fastBefore = new CopyOnWriteArrayList<>();
		first.subscribe(TOPIC, String.class, (Message<String> message) -> fastBefore.add(message.getId()),
				SubscribeOptions.builder().durableName("fast").build());
		first.subscribe(TOPIC, String.class, (message) -> {
		}, SubscribeOptions.builder().durableName("slow").build()).pause();
		UUID id = first.publish(TOPIC, "one").get(10, TimeUnit.SECONDS);
		await().atMost(WAIT).until(() -> fastBefore.contains(id));
		first.close();

		List<String> received = new CopyOnWriteArrayList<>();
		DefaultMessageBus second = bus();
		try {
			second.subscribe(TOPIC, String.class, (Message<String> message) -> received.add("fast " + message.getId()),
					SubscribeOptions.builder().durableName("fast").build());
			second.subscribe(TOPIC, String.class, (Message<String> message) -> received.add("slow " + message.getId()),
					SubscribeOptions.builder().durableName("slow").build());
			assertThat(second.replay()).isEqualTo(1);
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
			assertThat(received).containsExactly("slow " + id);
		}
		finally {
			second.close();
		}
	}

	@Test
	void messagesWaitForTheirSubscriptionUntilItSubscribesOrTheyAreDiscarded() throws Exception {
		DefaultMessageBus first = bus();
		first.subscribe(TOPIC, String.class, (message) -> {
		}, SubscribeOptions.group("late")).pause();
		first.subscribe(TOPIC, String.class, (message) -> {
		}, SubscribeOptions.builder().durableName("gone").build()).pause();
		List<UUID> published = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			published.add(first.publish(TOPIC, "m" + i).get(10, TimeUnit.SECONDS));
		}
		first.close();

		DefaultMessageBus second = bus();
		try {
			assertThat(second.replay()).as("nobody to replay to yet").isZero();
			assertThat(second.waitingReplays()).containsExactly(Map.entry("group:late", 5), Map.entry("name:gone", 5));
			assertThat(second.store().health().pending()).as("nothing is lost silently").isEqualTo(5);
			List<UUID> late = new CopyOnWriteArrayList<>();
			second.subscribe(TOPIC, String.class, (Message<String> message) -> late.add(message.getId()),
					SubscribeOptions.group("late"));
			await().atMost(WAIT).until(() -> late.size() == 5);
			assertThat(late).as("replayed as it subscribed").containsExactlyElementsOf(published);
			assertThat(second.waitingReplays()).containsExactly(Map.entry("name:gone", 5));
			Thread.sleep(100);
			assertThat(second.store().health().pending()).as("'gone' still owes them").isEqualTo(5);
			assertThat(second.discardReplays("name:gone")).isEqualTo(5);
			assertThat(second.discardReplays("name:gone")).isZero();
			assertThat(second.waitingReplays()).isEmpty();
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
		}
		finally {
			second.close();
		}
	}

	@Test
	void messagesWaitingAtACrashStayWaitingAcrossAnotherRestart() throws Exception {
		DefaultMessageBus first = bus();
		first.subscribe(TOPIC, String.class, (message) -> {
		}, SubscribeOptions.group("absent")).pause();
		UUID id = first.publish(TOPIC, "kept").get(10, TimeUnit.SECONDS);
		first.close();
		DefaultMessageBus second = bus();
		try {
			assertThat(second.replay()).isZero();
			assertThat(second.waitingReplays()).containsEntry("group:absent", 1);
		}
		finally {
			second.close();
		}
		DefaultMessageBus third = bus();
		try {
			List<UUID> received = new CopyOnWriteArrayList<>();
			third.subscribe(TOPIC, String.class, (Message<String> message) -> received.add(message.getId()),
					SubscribeOptions.group("absent"));
			assertThat(third.replay()).isEqualTo(1);
			await().atMost(WAIT).until(() -> received.size() == 1);
			assertThat(received).containsExactly(id);
		}
		finally {
			third.close();
		}
	}

	@Test
	void aDurableNameWhoseSubscriptionNoLongerMatchesIsAcknowledgedNotStuck() throws Exception {
		DefaultMessageBus first = bus();
		first.subscribe("orders.*", String.class, (message) -> {
		}, SubscribeOptions.builder().durableName("moved").build()).pause();
		first.publish(TOPIC, "old topic").get(10, TimeUnit.SECONDS);
		first.publish("orders.created", "high", PublishOptions.builder().priority(Priority.HIGH).build())
			.get(10, TimeUnit.SECONDS);
		first.close();
		DefaultMessageBus second = bus();
		try {
			List<UUID> received = new CopyOnWriteArrayList<>();
			second.subscribe("invoices.*", String.class, (Message<String> message) -> received.add(message.getId()),
					SubscribeOptions.builder().durableName("moved").build());
			second.replay();
			await().atMost(WAIT).until(() -> second.store().health().pending() == 0);
			assertThat(received).isEmpty();
			assertThat(second.waitingReplays()).isEmpty();
		}
		finally {
			second.close();
		}
	}

	@Test
	void messagesLoggedWithoutNamesGoToEverySubscriptionAsBefore() throws Exception {
		List<UUID> logged = new ArrayList<>();
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			for (int i = 0; i < 3; i++) {
				var envelope = FileMessageStoreTests.envelope(TOPIC, "\"unnamed " + i + "\"");
				logged.add(envelope.id());
				store.append(envelope).get(10, TimeUnit.SECONDS);
			}
		}
		DefaultMessageBus bus = bus();
		try {
			List<UUID> group = new CopyOnWriteArrayList<>();
			List<UUID> broadcast = new CopyOnWriteArrayList<>();
			bus.subscribe(TOPIC, String.class, (Message<String> message) -> group.add(message.getId()),
					SubscribeOptions.group("any"));
			bus.subscribe(TOPIC, String.class, (Message<String> message) -> broadcast.add(message.getId()));
			assertThat(bus.replay()).isEqualTo(3);
			await().atMost(WAIT).until(() -> group.size() == 3 && broadcast.size() == 3);
			assertThat(group).containsExactlyElementsOf(logged);
			assertThat(broadcast).containsExactlyElementsOf(logged);
			await().atMost(WAIT).until(() -> bus.store().health().pending() == 0);
		}
		finally {
			bus.close();
		}
	}

	@Test
	void aDurableNameIsForBroadcastSubscriptionsAndMustBeReadable() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> SubscribeOptions.builder().group("g").durableName("d").build())
			.withMessageContaining("for broadcast subscriptions");
		assertThatIllegalArgumentException().isThrownBy(() -> SubscribeOptions.builder().durableName(" "))
			.withMessageContaining("durableName ' ' is not valid: it is blank");
		assertThatIllegalArgumentException().isThrownBy(() -> SubscribeOptions.builder().durableName("a\nb"))
			.withMessageContaining("control character");
		assertThatIllegalArgumentException().isThrownBy(() -> SubscribeOptions.builder().durableName("x".repeat(201)))
			.withMessageContaining("longer than 200 characters");
		assertThat(SubscribeOptions.builder().durableName("orderListener.onOrder-0 (ünïcode)").build().getDurableName())
			.isEqualTo("orderListener.onOrder-0 (ünïcode)");
		assertThat(SubscribeOptions.builder().durableName("audit").build().toBuilder().build().getDurableName())
			.isEqualTo("audit");
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).build();
		try {
			assertThat(bus.subscribe("a.*", String.class, (message) -> {
			}).durableName()).isEqualTo("pattern:a.*");
		}
		finally {
			bus.close();
		}
	}

	private DefaultMessageBus bus() {
		return DefaultMessageBus.builder()
			.adapter(new InMemoryBroker())
			.store(FileMessageStore.open(this.directory))
			.drainTimeout(Duration.ofSeconds(2))
			.build();
	}

}
