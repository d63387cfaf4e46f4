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
import dev.amb.core.BackpressurePolicy;
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
	 * The most envelopes a worker takes from one partition's lane in one lock acquisition. It
	 * hands them to the bus one by one, and gives the rest back as soon as another lane has a
	 * message, the consumer pauses or stops, or one is requeued, so priority, key order and
	 * pause behave exactly as with one envelope per acquisition.
	 */
	static final int BATCH = 32;

	private static final VarHandle SIGNAL = MethodHandles.arrayElementVarHandle(long[].class);

	private static final VarHandle HANDED;

	static {
		try {
			HANDED = MethodHandles.lookup().findVarHandle(InMemoryWorker.class, "handedSinceLock", int.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private static final int LANES = Priority.laneCount();

	/** Longs between two signals: 128 bytes, so no two share a cache line (or an adjacent-line prefetch). */
	private static final int SIGNAL_SPACING = 16;

	/** Where the count of blocked publishers sits among the signals; lane {@code n}'s occupancy is at {@code n + 1}. */
	private static final int WAITING_PUBLISHERS_SIGNAL = 0;

	private final String name;

	/** The durable name of the subscription or group consuming it, for the delivery tracker. */
	private final String durableName;

	private final Backpressure backpressure;

	private final int thresholdDepth;

	private final int starvationBound;

	private final BusCounters counters;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition notEmpty = this.lock.newCondition();

	private final Condition notFull = this.lock.newCondition();

	private final ArrayDeque<Envelope>[][] partitions;

	/**
	 * Whether workers may take batches: not under drop-oldest, which must be able to drop any
	 * waiting envelope, and a batched one is out of its reach.
	 */
	private final boolean batching;

	/** The workers taking from this queue, for exact counts while they hold batches; copied on change. */
	private InMemoryWorker[] workers = new InMemoryWorker[0];

	/** Counts {@link #clear()} calls, so a worker never settles a batch the queue has forgotten. */
	private int generation;

	private final boolean[] claimed;

	private final long[] laneDepths = new long[LANES];

	/**
	 * What a worker handing on its batch must watch without the lock: whether other lanes hold
	 * messages and whether publishers are blocked. Each sits on its own cache line and is written
	 * only when it changes, so a publisher adding to one lane does not take the line from the
	 * worker on every message, as the lane depths and this object's own fields would.
	 */
	private final long[] signals = new long[(LANES + 2) * SIGNAL_SPACING];

	private int size;

	private int inFlight;

	private int nextPartition;

	private int waitingWorkers;

	private int waitingPublishers;

	/** The last delivery time of workers that have exited; the others keep their own. */
	private long retiredLastDeliveryMillis;

	@SuppressWarnings("unchecked")
	InMemoryQueue(String name, String durableName, int partitionCount, Backpressure backpressure, int starvationBound,
			BusCounters counters) {
		this.name = name;
		this.durableName = durableName;
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
		this.batching = backpressure.policy() != BackpressurePolicy.DROP_OLDEST;
	}

	String name() {
		return this.name;
	}

	String durableName() {
		return this.durableName;
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
		lock.lockInterruptibly();
		try {
			int occupied = (this.size >= this.thresholdDepth) ? occupiedLocked() : this.size;
			if (occupied >= this.capacity()) {
				switch (this.backpressure.policy()) {
					case REJECT -> throw reject("is full (" + occupied + " messages) and the policy is reject");
					case DROP_OLDEST -> dropped = dropOldestLocked();
					case BLOCK -> awaitRoomLocked();
				}
			}
			else if (occupied >= this.thresholdDepth) {
				throttleNanos = throttleNanosLocked(occupied);
			}
			int lane = envelope.priority().lane();
			this.partitions[partitionOf(envelope)][lane].addLast(envelope);
			this.size++;
			if (this.laneDepths[lane]++ == 0) {
				signalLocked(lane + 1, 1);
			}
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

	private void lowerDepthLocked(int lane, int by) {
		if ((this.laneDepths[lane] -= by) == 0) {
			signalLocked(lane + 1, 0);
		}
	}

	private void signalLocked(int signal, long value) {
		SIGNAL.setOpaque(this.signals, signal * SIGNAL_SPACING, value);
	}

	private int capacity() {
		return this.backpressure.maxQueueSize();
	}

	private long throttleNanosLocked(int occupied) {
		int headroom = Math.max(1, this.capacity() - this.thresholdDepth);
		return MAX_THROTTLE_NANOS * (occupied - this.thresholdDepth + 1) / headroom;
	}

	private void awaitRoomLocked() throws InterruptedException {
		long remaining = this.backpressure.blockTimeout().toNanos();
		this.counters.recordThrottled();
		signalLocked(WAITING_PUBLISHERS_SIGNAL, ++this.waitingPublishers);
		try {
			while (occupiedLocked() >= this.capacity()) {
				if (remaining <= 0) {
					throw reject("stayed full (" + occupiedLocked() + " messages) for the block timeout of "
							+ this.backpressure.blockTimeout());
				}
				remaining = this.notFull.awaitNanos(remaining);
			}
		}
		finally {
			signalLocked(WAITING_PUBLISHERS_SIGNAL, --this.waitingPublishers);
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
				lowerDepthLocked(lane, 1);
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
		Envelope envelope = (worker.batchNext < worker.batchEnd && mayContinueBatch(worker)) ? nextOfBatch(worker)
				: takeLocked(worker);
		if (envelope != null) {
			// Kept on the worker, outside the lock and off this object, whose fields publishers read on every send.
			worker.lastDeliveryMillis = System.currentTimeMillis();
		}
		return envelope;
	}

	private Envelope takeLocked(InMemoryWorker worker) throws InterruptedException {
		ReentrantLock lock = this.lock;
		lock.lockInterruptibly();
		try {
			settleBatchLocked(worker);
			releaseLocked(worker);
			while (true) {
				if (worker.shouldStop(this.size)) {
					return null;
				}
				if (!worker.isPaused()) {
					Envelope envelope = pollLocked(worker);
					if (envelope != null) {
						return envelope;
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
	 * Whether the worker may hand on the next envelope of its batch without the lock: only while
	 * no other lane has messages (a racy read: a message arriving meanwhile waits no longer than
	 * it would for the envelope being handled) and the consumer is neither paused nor stopping.
	 */
	private boolean mayContinueBatch(InMemoryWorker worker) {
		if (worker.isPaused() || worker.shouldStop(Integer.MAX_VALUE)) {
			return false;
		}
		for (int lane = 0; lane < LANES; lane++) {
			if (lane != worker.batchLane && (long) SIGNAL.getOpaque(this.signals, (lane + 1) * SIGNAL_SPACING) != 0) {
				return false;
			}
		}
		return true;
	}

	private Envelope nextOfBatch(InMemoryWorker worker) {
		Envelope[] batch = worker.batch;
		Envelope envelope = batch[worker.batchNext];
		batch[worker.batchNext++] = null;
		HANDED.setOpaque(worker, worker.handedSinceLock + 1);
		if ((long) SIGNAL.getOpaque(this.signals, WAITING_PUBLISHERS_SIGNAL * SIGNAL_SPACING) > 0) {
			// A blocked publisher waits for room: make it now, as an unbatched take would.
			this.lock.lock();
			try {
				settleHandedLocked(worker);
			}
			finally {
				this.lock.unlock();
			}
		}
		return envelope;
	}

	/**
	 * The envelopes waiting, exactly: the size less the batched envelopes workers have handed on
	 * since they last held the lock. Only needed near the threshold and for monitoring; a worker
	 * handing one on meanwhile only makes the answer one too high for an instant.
	 */
	private int occupiedLocked() {
		int occupied = this.size;
		for (InMemoryWorker worker : this.workers) {
			occupied -= handedUnsettledLocked(worker);
		}
		return occupied;
	}

	private int handedUnsettledLocked(InMemoryWorker worker) {
		return (worker.batchGeneration == this.generation) ? (int) HANDED.getOpaque(worker) : 0;
	}

	/**
	 * Registers a worker, so its batch is counted exactly.
	 * @param worker the worker
	 */
	void register(InMemoryWorker worker) {
		this.lock.lock();
		try {
			InMemoryWorker[] workers = Arrays.copyOf(this.workers, this.workers.length + 1);
			workers[workers.length - 1] = worker;
			this.workers = workers;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Forgets a worker that has exited, giving back what it still held.
	 * @param worker the worker
	 */
	void unregister(InMemoryWorker worker) {
		this.lock.lock();
		try {
			settleBatchLocked(worker);
			releaseLocked(worker);
			this.retiredLastDeliveryMillis = Math.max(this.retiredLastDeliveryMillis, worker.lastDeliveryMillis);
			InMemoryWorker[] workers = new InMemoryWorker[this.workers.length];
			int count = 0;
			for (InMemoryWorker registered : this.workers) {
				if (registered != worker) {
					workers[count++] = registered;
				}
			}
			this.workers = Arrays.copyOf(workers, count);
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Accounts for the batched envelopes handed on since the worker last held the lock (they stay
	 * in the size and lane depth until then, so publishers never see room that is not there),
	 * and puts any not handed on back at the head of their lane, in order.
	 */
	private void settleBatchLocked(InMemoryWorker worker) {
		settleHandedLocked(worker);
		if (worker.batchNext < worker.batchEnd) {
			Envelope[] batch = worker.batch;
			if (worker.batchGeneration == this.generation) {
				ArrayDeque<Envelope> lane = this.partitions[worker.claimedPartition][worker.batchLane];
				for (int i = worker.batchEnd - 1; i >= worker.batchNext; i--) {
					lane.addFirst(batch[i]);
				}
			}
			Arrays.fill(batch, worker.batchNext, worker.batchEnd, null);
		}
		worker.batchNext = 0;
		worker.batchEnd = 0;
	}

	private void settleHandedLocked(InMemoryWorker worker) {
		int handed = worker.handedSinceLock;
		HANDED.setOpaque(worker, 0);
		if (handed > 0 && worker.batchGeneration == this.generation) {
			this.size -= handed;
			lowerDepthLocked(worker.batchLane, handed);
			if (this.waitingPublishers > 0) {
				this.notFull.signalAll();
			}
		}
	}

	/**
	 * Takes more envelopes of the same partition and lane into the worker's batch, while no other
	 * lane waits; they stay counted in the size and lane depth until handed on.
	 */
	private void fillBatchLocked(InMemoryWorker worker, int partition, int lane) {
		for (int other = 0; other < LANES; other++) {
			if (other != lane && this.laneDepths[other] != 0) {
				return;
			}
		}
		ArrayDeque<Envelope> source = this.partitions[partition][lane];
		Envelope[] batch = worker.batch;
		int count = 0;
		Envelope next;
		while (count < batch.length && (next = source.pollFirst()) != null) {
			batch[count++] = next;
		}
		worker.batchNext = 0;
		worker.batchEnd = count;
		worker.batchLane = lane;
		worker.batchGeneration = this.generation;
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
					lowerDepthLocked(lane, 1);
					this.inFlight++;
					this.claimed[partition] = true;
					worker.claimedPartition = partition;
					worker.highLaneStreak = (lane == LANES - 1 || !lowerLanesWaitLocked(lane)) ? 0
							: worker.highLaneStreak + 1;
					if (this.waitingPublishers > 0) {
						this.notFull.signal();
					}
					if (this.batching) {
						fillBatchLocked(worker, partition, lane);
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
			settleBatchLocked(worker);
			int partition = (worker.claimedPartition >= 0) ? worker.claimedPartition : partitionOf(envelope);
			this.partitions[partition][envelope.priority().lane()].addFirst(envelope);
			this.size++;
			int lane = envelope.priority().lane();
			if (this.laneDepths[lane]++ == 0) {
				signalLocked(lane + 1, 1);
			}
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
			int cleared = occupiedLocked();
			for (ArrayDeque<Envelope>[] lanes : this.partitions) {
				for (ArrayDeque<Envelope> lane : lanes) {
					lane.clear();
				}
			}
			this.size = 0;
			Arrays.fill(this.laneDepths, 0);
			for (int lane = 0; lane < LANES; lane++) {
				signalLocked(lane + 1, 0);
			}
			this.generation++;
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
			long[] depths = this.laneDepths.clone();
			for (InMemoryWorker worker : this.workers) {
				depths[worker.batchLane] -= handedUnsettledLocked(worker);
			}
			return depths;
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
			return occupiedLocked();
		}
		finally {
			this.lock.unlock();
		}
	}

	Backpressure backpressure() {
		return this.backpressure;
	}

	long lastDeliveryMillis() {
		this.lock.lock();
		try {
			long last = this.retiredLastDeliveryMillis;
			for (InMemoryWorker worker : this.workers) {
				last = Math.max(last, worker.lastDeliveryMillis);
			}
			return last;
		}
		finally {
			this.lock.unlock();
		}
	}

	/** This queue is done with an envelope: handled, dead-lettered, expired or dropped. */
	void finished(Envelope envelope) {
		DeliveryTracker tracker = envelope.tracker();
		if (tracker != null) {
			tracker.done(this.durableName);
		}
	}

}
