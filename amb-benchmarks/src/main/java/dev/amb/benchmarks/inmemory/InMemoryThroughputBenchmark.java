package dev.amb.benchmarks.inmemory;

import java.util.concurrent.TimeUnit;

import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * Publish-to-delivery throughput of the in-memory bus, end to end: each invocation publishes
 * {@value Deliveries#BATCH} messages of 256 bytes and returns once the subscriber has received
 * them all. The raw {@link java.util.concurrent.ArrayBlockingQueue} hand-off runs in the same
 * structure as the physical bound.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class InMemoryThroughputBenchmark {

	/** One publisher, one subscriber. */
	@Benchmark
	@OperationsPerInvocation(Deliveries.BATCH)
	public void amb1P1S(OneToOne state) {
		long target = state.deliveries.expect(Deliveries.BATCH);
		for (int i = 0; i < Deliveries.BATCH; i++) {
			state.bus.publish(state.topic, state.payload);
		}
		state.deliveries.awaitReceived(target);
	}

	/** Four publishers, one group of two members. */
	@Benchmark
	@Threads(4)
	@OperationsPerInvocation(Deliveries.BATCH)
	public void amb4PGroup2(FourToGroup state) {
		long target = state.deliveries.expect(Deliveries.BATCH);
		for (int i = 0; i < Deliveries.BATCH; i++) {
			state.bus.publish(state.topic, state.payload);
		}
		state.deliveries.awaitReceived(target);
	}

	/** One publisher cycling HIGH, NORMAL, LOW, one subscriber. */
	@Benchmark
	@OperationsPerInvocation(Deliveries.BATCH)
	public void ambPriorityMix1P1S(PriorityMix state) {
		long target = state.deliveries.expect(Deliveries.BATCH);
		PublishOptions[] lanes = state.lanes;
		for (int i = 0; i < Deliveries.BATCH; i++) {
			state.bus.publish(state.topic, state.payload, lanes[i % lanes.length]);
		}
		state.deliveries.awaitReceived(target);
	}

	/** The physical bound: a raw hand-off between two threads through ArrayBlockingQueue(1024). */
	@Benchmark
	@OperationsPerInvocation(Deliveries.BATCH)
	public void abqHandOff(RawQueue state) throws InterruptedException {
		long target = state.deliveries.expect(Deliveries.BATCH);
		for (int i = 0; i < Deliveries.BATCH; i++) {
			state.queue.put(state.payload);
		}
		state.deliveries.awaitReceived(target);
	}

	/** A bus with one broadcast subscriber. */
	@State(Scope.Benchmark)
	public static class OneToOne extends BusState {

		@Setup(Level.Trial)
		public void start() {
			open("bench.inmemory.one-to-one", SubscribeOptions.DEFAULTS, 1);
		}

	}

	/** A bus with one group of two members, fed by every benchmark thread. */
	@State(Scope.Benchmark)
	public static class FourToGroup extends BusState {

		@Setup(Level.Trial)
		public void start() {
			open("bench.inmemory.group", SubscribeOptions.group("bench-workers"), 2);
		}

	}

	/** A bus with one subscriber taking all three lanes. */
	@State(Scope.Benchmark)
	public static class PriorityMix extends BusState {

		final PublishOptions[] lanes = { PublishOptions.priority(Priority.HIGH),
				PublishOptions.priority(Priority.NORMAL), PublishOptions.priority(Priority.LOW) };

		@Setup(Level.Trial)
		public void start() {
			open("bench.inmemory.priority-mix", SubscribeOptions.DEFAULTS, 1);
		}

	}

	/** The raw queue with its consumer thread. */
	@State(Scope.Benchmark)
	public static class RawQueue extends RawQueueState {

	}

}
