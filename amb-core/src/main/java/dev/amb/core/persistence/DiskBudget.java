package dev.amb.core.persistence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;

/**
 * The disk-usage cap: the bytes the segment files take plus what is queued for them. A publisher
 * reserves its record's bytes before queueing it and waits, up to the cap wait, for acknowledged
 * segments to be deleted when they do not fit.
 */
final class DiskBudget {

	private final Path directory;

	private final long maxBytes;

	private final long waitNanos;

	private final AtomicLong reserved = new AtomicLong();

	private final Object room = new Object();

	DiskBudget(Path directory, long maxBytes, Duration wait) {
		this.directory = directory;
		this.maxBytes = maxBytes;
		this.waitNanos = wait.toNanos();
	}

	long maxBytes() {
		return this.maxBytes;
	}

	/** Counts bytes whatever the cap: recovered segments, headers, acknowledgements (which make room). */
	void add(long bytes) {
		this.reserved.addAndGet(bytes);
	}

	/** Gives back bytes, and wakes the publishers waiting for room. */
	void release(long bytes) {
		this.reserved.addAndGet(-bytes);
		synchronized (this.room) {
			this.room.notifyAll();
		}
	}

	/**
	 * Takes room for a record, waiting for acknowledged segments to be deleted if needed.
	 * @param bytes the record's size
	 * @param pending how many messages are unfinished, for the error message
	 * @param closed whether the store closed meanwhile
	 * @throws BackpressureException if no room was made within the cap wait
	 */
	void reserve(int bytes, LongSupplier pending, BooleanSupplier closed) {
		if (this.reserved.addAndGet(bytes) <= this.maxBytes) {
			return;
		}
		this.reserved.addAndGet(-bytes);
		long deadline = System.nanoTime() + this.waitNanos;
		synchronized (this.room) {
			while (true) {
				long used = this.reserved.get();
				if (used + bytes <= this.maxBytes) {
					if (this.reserved.compareAndSet(used, used + bytes)) {
						return;
					}
					continue;
				}
				long remaining = deadline - System.nanoTime();
				if (remaining <= 0 || closed.getAsBoolean()) {
					throw new BackpressureException("The write-ahead log in " + this.directory + " is at its disk-usage cap of "
							+ this.maxBytes + " bytes (amb.persistence.max-disk-size): " + used + " bytes hold "
							+ pending.getAsLong() + " unacknowledged messages; a " + bytes + "-byte record did not fit within "
							+ Duration.ofNanos(this.waitNanos).toMillis() + " ms. Nothing was lost; the publish was refused",
							null, BackpressurePolicy.BLOCK);
				}
				try {
					TimeUnit.NANOSECONDS.timedWait(this.room, Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw new MessageStoreException("Interrupted while waiting for room in the write-ahead log", ex);
				}
			}
		}
	}

}
