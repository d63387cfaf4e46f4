package dev.amb.core.adapters.redis;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import dev.amb.core.support.LaneQueues;

/**
 * One worker's bounded hand-off from the reader: a queue per lane, taken highest lane first with
 * a starvation bound, one short lock. Its capacity is what bounds the entries a subscription holds
 * in memory; the rest stays in Redis.
 */
final class LaneBuffer {

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition notEmpty = this.lock.newCondition();

	private final Condition notFull = this.lock.newCondition();

	private final LaneQueues<StreamEntry> lanes;

	private final int capacity;

	private volatile boolean putterWaiting;

	LaneBuffer(int capacity, int starvationBound) {
		this.capacity = capacity;
		this.lanes = new LaneQueues<>(starvationBound);
	}

	/**
	 * Adds a read's entries at once (one wake-up for the worker), waiting while the buffer is full;
	 * so the buffer holds at most its capacity plus one read.
	 * @param entries the entries
	 * @param stop checked while waiting
	 * @return whether they were added (false once {@code stop} said so)
	 */
	boolean putAll(List<StreamEntry> entries, BooleanSupplier stop) throws InterruptedException {
		this.lock.lock();
		try {
			while (this.lanes.size() >= this.capacity) {
				if (stop.getAsBoolean()) {
					return false;
				}
				this.putterWaiting = true;
				try {
					this.notFull.await(50, TimeUnit.MILLISECONDS);
				}
				finally {
					this.putterWaiting = false;
				}
			}
			for (StreamEntry entry : entries) {
				this.lanes.add(entry.stream().lane(), entry);
			}
			this.notEmpty.signal();
			return true;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Takes up to {@code max} entries under one lock, highest lane first, except that after
	 * {@code starvationBound} entries taken ahead of a waiting lower lane, the lowest waiting lane
	 * gets one.
	 * @param into where to put them
	 * @param max the most to take
	 * @param timeoutMillis how long to wait for the first
	 * @return how many were taken
	 */
	int drain(List<StreamEntry> into, int max, long timeoutMillis) throws InterruptedException {
		this.lock.lock();
		try {
			long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
			while (this.lanes.isEmpty()) {
				if (nanos <= 0) {
					return 0;
				}
				nanos = this.notEmpty.awaitNanos(nanos);
			}
			int taken = 0;
			while (taken < max && !this.lanes.isEmpty()) {
				into.add(this.lanes.poll());
				taken++;
			}
			this.notFull.signal();
			return taken;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Gives back entries a worker took but may not handle yet (it was paused meanwhile), so that
	 * when it resumes the lanes decide again which goes first.
	 * @param entries the entries, in the order they were taken
	 */
	void giveBack(List<StreamEntry> entries) {
		this.lock.lock();
		try {
			for (int i = entries.size() - 1; i >= 0; i--) {
				StreamEntry entry = entries.get(i);
				this.lanes.addFirst(entry.stream().lane(), entry);
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/** @return whether the reader waits for room */
	boolean isPutterWaiting() {
		return this.putterWaiting;
	}

	/** @return whether nothing waits */
	boolean isEmpty() {
		this.lock.lock();
		try {
			return this.lanes.isEmpty();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Removes everything waiting.
	 * @param into where to put it
	 */
	void drainTo(List<StreamEntry> into) {
		this.lock.lock();
		try {
			this.lanes.drainTo(into);
			this.notFull.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

}
