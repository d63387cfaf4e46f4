package dev.amb.core.persistence;

import java.util.Arrays;
import java.util.function.LongConsumer;

/**
 * How long the forces took: the last one, a window of recent ones for the 99th percentile, the
 * count, and an optional listener for a metrics timer. Recorded by the writer thread, read by any.
 */
final class FsyncStats {

	private static final System.Logger logger = System.getLogger(FileMessageStore.class.getName());

	private static final int SAMPLES = 1024;

	private final long[] samples = new long[SAMPLES];

	private final LongConsumer listener;

	private long count;

	private volatile long last;

	FsyncStats(LongConsumer listener) {
		this.listener = listener;
	}

	void record(long nanos) {
		this.last = nanos;
		synchronized (this.samples) {
			this.samples[(int) (this.count % SAMPLES)] = nanos;
			this.count++;
		}
		if (this.listener != null) {
			try {
				this.listener.accept(nanos);
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.WARNING, "The fsync listener failed", ex);
			}
		}
	}

	long lastNanos() {
		return this.last;
	}

	long count() {
		synchronized (this.samples) {
			return this.count;
		}
	}

	/** @return the 99th percentile of the last {@value #SAMPLES} forces, 0 before the first */
	long p99Nanos() {
		long taken;
		long[] copy;
		synchronized (this.samples) {
			taken = Math.min(this.count, SAMPLES);
			copy = Arrays.copyOf(this.samples, (int) taken);
		}
		if (taken == 0) {
			return 0;
		}
		Arrays.sort(copy);
		return copy[(int) Math.max(0, Math.ceil(taken * 0.99) - 1)];
	}

}
