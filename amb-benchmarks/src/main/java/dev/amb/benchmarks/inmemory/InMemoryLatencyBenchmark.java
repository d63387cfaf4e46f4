package dev.amb.benchmarks.inmemory;

import java.util.concurrent.TimeUnit;

import dev.amb.core.SubscribeOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Publish-to-delivery latency of one message on an idle bus (the consumer is parked waiting, as
 * it is between bursts), sampled by JMH, beside the same measurement on the raw
 * {@link java.util.concurrent.ArrayBlockingQueue}. Read p50 and p99 from the sample percentiles.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class InMemoryLatencyBenchmark {

	/** Publish one message and wait until the subscriber has it. */
	@Benchmark
	public void amb1P1S(OneToOne state) {
		long target = state.deliveries.expect(1);
		state.bus.publish(state.topic, state.payload);
		state.deliveries.awaitReceived(target);
	}

	/** Put one payload on the raw queue and wait until its consumer has taken it. */
	@Benchmark
	public void abqHandOff(RawQueue state) throws InterruptedException {
		long target = state.deliveries.expect(1);
		state.queue.put(state.payload);
		state.deliveries.awaitReceived(target);
	}

	/** A bus with one broadcast subscriber. */
	@State(Scope.Benchmark)
	public static class OneToOne extends BusState {

		@Setup(Level.Trial)
		public void start() {
			open("bench.inmemory.latency", SubscribeOptions.DEFAULTS, 1);
		}

	}

	/** The raw queue with its consumer thread. */
	@State(Scope.Benchmark)
	public static class RawQueue extends RawQueueState {

	}

}
