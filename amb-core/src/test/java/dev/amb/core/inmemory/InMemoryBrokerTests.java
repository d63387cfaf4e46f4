package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.BusClosedException;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * What the in-memory backend does beyond the shared contract.
 */
class InMemoryBrokerTests {

	private final InMemoryBroker broker = InMemoryBroker.builder().build();

	private final DefaultMessageBus bus = DefaultMessageBus.builder()
		.adapter(this.broker)
		.drainTimeout(Duration.ofSeconds(5))
		.build();

	@AfterEach
	void close() {
		this.bus.close();
	}

	@Test
	void declaresWhatItHonoursAndNotDurability() {
		assertThat(this.broker.name()).isEqualTo("in-memory");
		assertThat(this.broker.capabilities()).contains(Capability.WILDCARDS, Capability.PRIORITY,
				Capability.KEY_ORDER, Capability.BOUNDED_QUEUES, Capability.PAUSE)
			.doesNotContain(Capability.DURABLE, Capability.DURABLE_GROUPS);
		assertThat(this.broker.health().reachable()).isTrue();
	}

	@Test
	void routeCacheStaysBoundedWhateverTopicsArePublished() {
		List<String> received = new CopyOnWriteArrayList<>();
		this.bus.subscribe("conversation.#", String.class, (message) -> received.add(message.getPayload()));
		int topics = InMemoryBroker.MAX_CACHED_ROUTES * 3;
		for (int i = 0; i < topics; i++) {
			this.bus.publish("conversation.c" + i, "m" + i).join();
			assertThat(this.broker.cachedRoutes()).isLessThanOrEqualTo(InMemoryBroker.MAX_CACHED_ROUTES);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == topics);
	}

	@Test
	void groupMembersMustAgreeOnLanes() {
		this.bus.subscribe("lanes.t", String.class, (message) -> {
		}, SubscribeOptions.builder().group("g").lanes(EnumSet.of(Priority.HIGH)).build());
		assertThatIllegalStateException()
			.isThrownBy(() -> this.bus.subscribe("lanes.t", String.class, (message) -> {
			}, SubscribeOptions.builder().group("g").build()))
			.withMessageContaining("lanes");
	}

	@Test
	void subscriptionReceivesOnlyItsLanes() {
		List<String> received = new CopyOnWriteArrayList<>();
		this.bus.subscribe("lanes.only", String.class, (message) -> received.add(message.getPayload()),
				SubscribeOptions.builder().lanes(EnumSet.of(Priority.HIGH)).build());
		this.bus.publish("lanes.only", "low", PublishOptions.priority(Priority.LOW)).join();
		this.bus.publish("lanes.only", "high", PublishOptions.priority(Priority.HIGH)).join();
		await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
		assertThat(received).containsExactly("high");
	}

	@Test
	void closedBrokerRefusesNewWork() {
		this.bus.close();
		assertThat(this.broker.send(new dev.amb.core.spi.Envelope(dev.amb.core.MessageIds.next(), "t", null,
				Priority.NORMAL, 0, null, null, null, null, 0, null, new byte[0])))
			.failsWithin(Duration.ofSeconds(1))
			.withThrowableThat()
			.havingCause()
			.isInstanceOf(BusClosedException.class);
		assertThatExceptionOfType(BusClosedException.class).isThrownBy(() -> this.bus.publish("t", "late"));
	}

}
