package dev.amb.core.adapters.rabbitmq;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import dev.amb.core.Priority;
import dev.amb.core.support.LaneQueues;

/**
 * The workers of a subscription with a concurrency above one: each delivery goes to the worker
 * its key hashes to, so one key's messages are handled one after another in arrival order, while
 * different keys run in parallel. Each worker keeps a queue per lane and takes the highest lane
 * first, with a starvation bound. What a worker holds is bounded by the channel's prefetch.
 */
final class LaneWorkers {

	private final Worker[] workers;

	private final List<Thread> threads = new ArrayList<>();

	/** The AMQP client dispatches one channel's deliveries one at a time, so a plain counter is enough. */
	private int nextUnkeyed;

	/**
	 * @param name the subscription's id, for the thread names
	 * @param concurrency the number of workers
	 * @param starvationBound higher-lane deliveries before a waiting lower lane goes
	 * @param processor handles one delivery
	 * @param idle called by a worker that ran out of work, before it waits
	 */
	LaneWorkers(String name, int concurrency, int starvationBound, Consumer<RabbitDelivery> processor,
			Runnable idle) {
		this.workers = new Worker[concurrency];
		for (int i = 0; i < concurrency; i++) {
			this.workers[i] = new Worker(starvationBound, processor, idle);
			Thread thread = new Thread(this.workers[i], "amb-" + name + "-" + (i + 1));
			thread.setDaemon(true);
			this.threads.add(thread);
		}
	}

	void start() {
		this.threads.forEach(Thread::start);
	}

	void submit(RabbitDelivery delivery) {
		String key = delivery.envelope().key();
		int index = (key != null) ? Math.floorMod(key.hashCode(), this.workers.length)
				: Math.floorMod(this.nextUnkeyed++, this.workers.length);
		this.workers[index].offer(delivery);
	}

	/** @return deliveries waiting in the workers, all lanes */
	int waiting() {
		int total = 0;
		for (Worker worker : this.workers) {
			total += worker.size();
		}
		return total;
	}

	/** @return deliveries waiting in the workers per lane, index 0 the highest */
	long[] laneDepths() {
		long[] depths = new long[Priority.laneCount()];
		for (Worker worker : this.workers) {
			worker.addLaneDepths(depths);
		}
		return depths;
	}

	/**
	 * Takes back what the workers have not started.
	 * @return the deliveries, for the caller to hand back to the broker
	 */
	List<RabbitDelivery> drainWaiting() {
		List<RabbitDelivery> drained = new ArrayList<>();
		for (Worker worker : this.workers) {
			worker.drainTo(drained);
		}
		return drained;
	}

	/**
	 * Stops the workers after their current delivery, waiting up to the deadline.
	 * @param deadlineNanos the {@link System#nanoTime()} deadline
	 */
	void stop(long deadlineNanos) {
		for (Worker worker : this.workers) {
			worker.stop();
		}
		for (Thread thread : this.threads) {
			long remaining = deadlineNanos - System.nanoTime();
			if (remaining > 0) {
				try {
					TimeUnit.NANOSECONDS.timedJoin(thread, remaining);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
		}
	}

	private static final class Worker implements Runnable {

		private final ReentrantLock lock = new ReentrantLock();

		private final Condition notEmpty = this.lock.newCondition();

		private final LaneQueues<RabbitDelivery> lanes;

		private final Consumer<RabbitDelivery> processor;

		private final Runnable idle;

		private boolean stopped;

		Worker(int starvationBound, Consumer<RabbitDelivery> processor, Runnable idle) {
			this.lanes = new LaneQueues<>(starvationBound);
			this.processor = processor;
			this.idle = idle;
		}

		void offer(RabbitDelivery delivery) {
			this.lock.lock();
			try {
				this.lanes.add(delivery.envelope().priority().lane(), delivery);
				this.notEmpty.signal();
			}
			finally {
				this.lock.unlock();
			}
		}

		int size() {
			this.lock.lock();
			try {
				return this.lanes.size();
			}
			finally {
				this.lock.unlock();
			}
		}

		void addLaneDepths(long[] depths) {
			this.lock.lock();
			try {
				this.lanes.addDepthsTo(depths);
			}
			finally {
				this.lock.unlock();
			}
		}

		void drainTo(List<RabbitDelivery> target) {
			this.lock.lock();
			try {
				this.lanes.drainTo(target);
			}
			finally {
				this.lock.unlock();
			}
		}

		void stop() {
			this.lock.lock();
			try {
				this.stopped = true;
				this.notEmpty.signalAll();
			}
			finally {
				this.lock.unlock();
			}
		}

		private RabbitDelivery take() throws InterruptedException {
			this.lock.lock();
			try {
				if (this.lanes.isEmpty() && !this.stopped) {
					// Out of work: what was held back for later (acknowledgements) goes now, not
					// while this worker's lock is held, so the connection's thread can go on.
					this.lock.unlock();
					try {
						this.idle.run();
					}
					finally {
						this.lock.lock();
					}
				}
				while (this.lanes.isEmpty() && !this.stopped) {
					this.notEmpty.await();
				}
				return this.stopped ? null : this.lanes.poll();
			}
			finally {
				this.lock.unlock();
			}
		}

		@Override
		public void run() {
			try {
				RabbitDelivery delivery;
				while ((delivery = take()) != null) {
					this.processor.accept(delivery);
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}
