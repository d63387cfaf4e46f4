package dev.amb.core.contract;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.Subscription;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The backpressure clauses of the contract (DESIGN.md section 2, clause 10). A backend whose
 * adapter declares {@link Capability#BOUNDED_QUEUES} runs it as a {@code @Nested} inner class of
 * its {@link BrokerContractTests} subclass (see the recipe there); the enclosing test provides the
 * adapter and the other hooks.
 */
public abstract class BoundedQueueContract extends ContractSupport {

	@Test
	void rejectPolicyFailsThePublishAndCountsIt() throws Exception {
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

}
