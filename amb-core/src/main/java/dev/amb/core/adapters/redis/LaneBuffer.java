package dev.amb.core.adapters.redis;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import dev.amb.core.Priority;

/**
 * One worker's bounded hand-off from the reader: a queue per lane, taken highest lane first with
 * a starvation bound, one short lock. Its capacity is what bounds the entries a subscription holds
 * in memory; the rest stays in Redis.
 */
final class LaneBuffer {

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition notEmpty = this.lock.newCondition();

	private final Condition notFull = this.lock.newCondition();

	private final ArrayDeque<StreamEntry>[] lanes;

	private final int capacity;

	private final int starvationBound;

	private int size;

	private volatile boolean putterWaiting;

	private int servedAhead;

	@SuppressWarnings("unchecked")
	LaneBuffer(int capacity, int starvationBound) {
		this.capacity = capacity;
		this.starvationBound = starvationBound;
		this.lanes = new ArrayDeque[Priority.laneCount()];
		for (int i = 0; i < this.lanes.length; i++) {
			this.lanes[i] = new ArrayDeque<>();
		}
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
			while (this.size >= this.capacity) {
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
				this.lanes[entry.stream().lane()].addLast(entry);
			}
			this.size += entries.size();
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
			while (this.size == 0) {
				if (nanos <= 0) {
					return 0;
				}
				nanos = this.notEmpty.awaitNanos(nanos);
			}
			int taken = 0;
			while (taken < max && this.size > 0) {
				into.add(next());
				taken++;
			}
			this.notFull.signal();
			return taken;
		}
		finally {
			this.lock.unlock();
		}
	}

	private StreamEntry next() {
		int highest = -1;
		int lowest = -1;
		for (int lane = 0; lane < this.lanes.length; lane++) {
			if (!this.lanes[lane].isEmpty()) {
				if (highest < 0) {
					highest = lane;
				}
				lowest = lane;
			}
		}
		int from = highest;
		if (lowest != highest) {
			if (this.servedAhead >= this.starvationBound) {
				from = lowest;
				this.servedAhead = 0;
			}
			else {
				this.servedAhead++;
			}
		}
		else {
			this.servedAhead = 0;
		}
		this.size--;
		return this.lanes[from].pollFirst();
	}

	/** @return whether the reader waits for room */
	boolean isPutterWaiting() {
		return this.putterWaiting;
	}

	/** @return whether nothing waits */
	boolean isEmpty() {
		this.lock.lock();
		try {
			return this.size == 0;
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
			for (ArrayDeque<StreamEntry> lane : this.lanes) {
				into.addAll(lane);
				lane.clear();
			}
			this.size = 0;
			this.notFull.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

}
