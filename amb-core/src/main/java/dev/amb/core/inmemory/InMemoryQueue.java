package dev.amb.core.inmemory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BusCounters;
import dev.amb.core.Priority;
import dev.amb.core.spi.DeliveryTracker;
import dev.amb.core.spi.Envelope;

/**
 * The bounded queue of one broadcast subscription or one group: partitions by key (so messages
 * with the same key keep their order while several workers consume), a queue per lane inside
 * each partition, and one lock, held briefly, as in {@link java.util.concurrent.ArrayBlockingQueue}.
 * A worker that takes from a partition claims it until it comes back for the next message, so no
 * two workers handle one partition at once.
 */
final class InMemoryQueue {

	/** The longest a publisher is slowed for one message above the threshold. */
	private static final long MAX_THROTTLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

	/**
	 * How long a worker that found the queue empty watches it before parking: a publisher then
	 * hands over without the cost of waking a parked thread, which otherwise dominates a busy
	 * stream. Short enough to cost nothing noticeable on an idle subscription.
	 */
	private static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(20);

	/** How often a thread retries a held lock before it parks. */
	private static final int SPIN_LOCK_TRIES = 64;

	private static final VarHandle SIZE;

	static {
		try {
			SIZE = MethodHandles.lookup().findVarHandle(InMemoryQueue.class, "size", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private static final int LANES = Priority.laneCount();

	private final String name;

	private final Backpressure backpressure;

	private final int thresholdDepth;

	private final int starvationBound;

	private final BusCounters counters;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition notEmpty = this.lock.newCondition();

	private final Condition notFull = this.lock.newCondition();

	private final ArrayDeque<Envelope>[][] partitions;

	private final boolean[] claimed;

	private final long[] laneDepths = new long[LANES];

	private int size;

	private int inFlight;

	private int nextPartition;

	private int waitingWorkers;

	private int waitingPublishers;

	private volatile long lastDeliveryMillis;

	@SuppressWarnings("unchecked")
	InMemoryQueue(String name, int partitionCount, Backpressure backpressure, int starvationBound,
			BusCounters counters) {
		this.name = name;
		this.backpressure = backpressure;
		this.thresholdDepth = backpressure.thresholdDepth();
		this.starvationBound = starvationBound;
		this.counters = counters;
		this.partitions = new ArrayDeque[partitionCount][LANES];
		for (ArrayDeque<Envelope>[] lanes : this.partitions) {
			for (int lane = 0; lane < LANES; lane++) {
				lanes[lane] = new ArrayDeque<>();
			}
		}
		this.claimed = new boolean[partitionCount];
	}

	String name() {
		return this.name;
	}

	/**
	 * Queues an envelope, applying the backpressure policy at capacity.
	 * @param envelope the envelope
	 * @throws BackpressureException if the policy refused it
	 * @throws InterruptedException if the publisher was interrupted while blocked
	 */
	void offer(Envelope envelope) throws InterruptedException {
		long throttleNanos = 0;
		Envelope dropped = null;
		ReentrantLock lock = this.lock;
		lockBriefly(lock);
		try {
			if (this.size >= this.capacity()) {
				switch (this.backpressure.policy()) {
					case REJECT -> throw reject("is full (" + this.size + " messages) and the policy is reject");
					case DROP_OLDEST -> dropped = dropOldestLocked();
					case BLOCK -> awaitRoomLocked();
				}
			}
			else if (this.size >= this.thresholdDepth) {
				throttleNanos = throttleNanosLocked();
			}
			ArrayDeque<Envelope>[] lanes = this.partitions[partitionOf(envelope)];
			lanes[envelope.priority().lane()].addLast(envelope);
			this.size++;
			this.laneDepths[envelope.priority().lane()]++;
			if (this.waitingWorkers > 0) {
				this.notEmpty.signal();
			}
		}
		finally {
			lock.unlock();
		}
		if (dropped != null) {
			this.counters.recordDropped();
			finished(dropped);
		}
		if (throttleNanos > 0) {
			this.counters.recordThrottled();
			LockSupport.parkNanos(throttleNanos);
		}
	}

	/**
	 * Takes the lock, spinning briefly first: the lock is only ever held for a few instructions,
	 * and parking a thread that would have had it a moment later costs two system calls.
	 */
	private static void lockBriefly(ReentrantLock lock) throws InterruptedException {
		for (int i = 0; i < SPIN_LOCK_TRIES; i++) {
			if (!lock.isLocked() && lock.tryLock()) {
				return;
			}
			Thread.onSpinWait();
		}
		lock.lockInterruptibly();
	}

	private int capacity() {
		return this.backpressure.maxQueueSize();
	}

	private long throttleNanosLocked() {
		int headroom = Math.max(1, this.capacity() - this.thresholdDepth);
		return MAX_THROTTLE_NANOS * (this.size - this.thresholdDepth + 1) / headroom;
	}

	private void awaitRoomLocked() throws InterruptedException {
		long remaining = this.backpressure.blockTimeout().toNanos();
		this.counters.recordThrottled();
		this.waitingPublishers++;
		try {
			while (this.size >= this.capacity()) {
				if (remaining <= 0) {
					throw reject("stayed full (" + this.size + " messages) for the block timeout of "
							+ this.backpressure.blockTimeout());
				}
				remaining = this.notFull.awaitNanos(remaining);
			}
		}
		finally {
			this.waitingPublishers--;
		}
	}

	private BackpressureException reject(String why) {
		this.counters.recordRejected();
		return new BackpressureException("Subscription queue '" + this.name + "' " + why + "; capacity "
				+ this.capacity() + " (amb.backpressure.max-queue-size)", this.name, this.backpressure.policy());
	}

	private Envelope dropOldestLocked() {
		for (int lane = LANES - 1; lane >= 0; lane--) {
			if (this.laneDepths[lane] == 0) {
				continue;
			}
			ArrayDeque<Envelope> oldest = null;
			for (ArrayDeque<Envelope>[] lanes : this.partitions) {
				Envelope head = lanes[lane].peekFirst();
				if (head != null && (oldest == null || head.timestamp() < oldest.peekFirst().timestamp())) {
					oldest = lanes[lane];
				}
			}
			if (oldest != null) {
				this.size--;
				this.laneDepths[lane]--;
				return oldest.pollFirst();
			}
		}
		throw new IllegalStateException("queue '" + this.name + "' is full but holds nothing");
	}

	private int partitionOf(Envelope envelope) {
		int count = this.partitions.length;
		if (count == 1) {
			return 0;
		}
		String key = envelope.key();
		if (key != null) {
			return (key.hashCode() & Integer.MAX_VALUE) % count;
		}
		int next = this.nextPartition;
		this.nextPartition = (next + 1 == count) ? 0 : next + 1;
		return next;
	}

	/**
	 * Releases the worker's previous partition, then waits for the next envelope.
	 * @param worker the worker's state
	 * @return the next envelope, or null when the worker should stop
	 * @throws InterruptedException if the worker was interrupted
	 */
	Envelope take(InMemoryWorker worker) throws InterruptedException {
		Envelope envelope = takeLocked(worker);
		if (envelope != null) {
			// Read the clock outside the lock: publishers wait for it otherwise.
			this.lastDeliveryMillis = System.currentTimeMillis();
		}
		return envelope;
	}

	private Envelope takeLocked(InMemoryWorker worker) throws InterruptedException {
		ReentrantLock lock = this.lock;
		lockBriefly(lock);
		try {
			releaseLocked(worker);
			boolean spun = false;
			while (true) {
				if (worker.shouldStop(this.size)) {
					return null;
				}
				if (!worker.isPaused()) {
					Envelope envelope = pollLocked(worker);
					if (envelope != null) {
						return envelope;
					}
					if (!spun) {
						spun = true;
						lock.unlock();
						try {
							spinWhileEmpty();
						}
						finally {
							lock.lock();
						}
						continue;
					}
				}
				this.waitingWorkers++;
				try {
					this.notEmpty.await(100, TimeUnit.MILLISECONDS);
				}
				finally {
					this.waitingWorkers--;
				}
			}
		}
		finally {
			lock.unlock();
		}
	}

	/**
	 * Watches the size without the lock until something arrives or the spin time is up; the
	 * caller polls again under the lock, so a stale read only costs a retry.
	 */
	private void spinWhileEmpty() {
		long deadline = System.nanoTime() + SPIN_NANOS;
		int spins = 0;
		while ((int) SIZE.getOpaque(this) == 0) {
			Thread.onSpinWait();
			if ((++spins & 63) == 0 && System.nanoTime() - deadline > 0) {
				return;
			}
		}
	}

	private Envelope pollLocked(InMemoryWorker worker) {
		if (this.size == 0) {
			return null;
		}
		boolean lowestFirst = worker.highLaneStreak >= this.starvationBound;
		int partitionCount = this.partitions.length;
		for (int step = 0; step < LANES; step++) {
			int lane = lowestFirst ? LANES - 1 - step : step;
			if (this.laneDepths[lane] == 0) {
				continue;
			}
			for (int i = 0; i < partitionCount; i++) {
				int partition = (worker.preferredPartition + i) % partitionCount;
				if (this.claimed[partition]) {
					continue;
				}
				Envelope envelope = this.partitions[partition][lane].pollFirst();
				if (envelope != null) {
					this.size--;
					this.laneDepths[lane]--;
					this.inFlight++;
					this.claimed[partition] = true;
					worker.claimedPartition = partition;
					worker.highLaneStreak = (lane == LANES - 1 || !lowerLanesWaitLocked(lane)) ? 0
							: worker.highLaneStreak + 1;
					if (this.waitingPublishers > 0) {
						this.notFull.signal();
					}
					return envelope;
				}
			}
		}
		return null;
	}

	private boolean lowerLanesWaitLocked(int lane) {
		for (int lower = lane + 1; lower < LANES; lower++) {
			if (this.laneDepths[lower] > 0) {
				return true;
			}
		}
		return false;
	}

	private void releaseLocked(InMemoryWorker worker) {
		int partition = worker.claimedPartition;
		if (partition >= 0) {
			this.claimed[partition] = false;
			this.inFlight--;
			worker.claimedPartition = -1;
			if (this.waitingWorkers > 0 && this.size > 0) {
				this.notEmpty.signal();
			}
		}
	}

	/**
	 * Puts an envelope the bus could not finish with back at the head of its lane, ahead of
	 * capacity, so it is delivered again and its order kept.
	 * @param worker the worker that held it
	 * @param envelope the envelope
	 */
	void requeue(InMemoryWorker worker, Envelope envelope) {
		this.lock.lock();
		try {
			int partition = (worker.claimedPartition >= 0) ? worker.claimedPartition : partitionOf(envelope);
			this.partitions[partition][envelope.priority().lane()].addFirst(envelope);
			this.size++;
			this.laneDepths[envelope.priority().lane()]++;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Wakes every waiting worker, to see a pause, resume or stop. */
	void wakeAll() {
		this.lock.lock();
		try {
			this.notEmpty.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Empties the queue when its last consumer has gone, so nothing waits unseen.
	 * @return how many envelopes were waiting
	 */
	int clear() {
		this.lock.lock();
		try {
			int cleared = this.size;
			for (ArrayDeque<Envelope>[] lanes : this.partitions) {
				for (ArrayDeque<Envelope> lane : lanes) {
					lane.clear();
				}
			}
			this.size = 0;
			Arrays.fill(this.laneDepths, 0);
			this.notFull.signalAll();
			return cleared;
		}
		finally {
			this.lock.unlock();
		}
	}

	long[] laneDepths() {
		this.lock.lock();
		try {
			return this.laneDepths.clone();
		}
		finally {
			this.lock.unlock();
		}
	}

	int inFlight() {
		this.lock.lock();
		try {
			return this.inFlight;
		}
		finally {
			this.lock.unlock();
		}
	}

	int size() {
		this.lock.lock();
		try {
			return this.size;
		}
		finally {
			this.lock.unlock();
		}
	}

	Backpressure backpressure() {
		return this.backpressure;
	}

	long lastDeliveryMillis() {
		return this.lastDeliveryMillis;
	}

	static void finished(Envelope envelope) {
		DeliveryTracker tracker = envelope.tracker();
		if (tracker != null) {
			tracker.done();
		}
	}

}
