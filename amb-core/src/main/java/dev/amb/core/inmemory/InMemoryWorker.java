package dev.amb.core.inmemory;

import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * One consumer thread: takes from its queue, hands each envelope to the bus, and puts back what
 * the bus could not finish with.
 */
final class InMemoryWorker implements Runnable {

	private static final System.Logger logger = System.getLogger(InMemoryWorker.class.getName());

	private static final long REQUEUE_PAUSE_MILLIS = 100;

	private final InMemoryConsumer consumer;

	private final InMemoryQueue queue;

	private final DeliveryHandler handler;

	final int preferredPartition;

	int claimedPartition = -1;

	int highLaneStreak;

	/** Envelopes taken in one lock acquisition, handed on one by one; see {@link InMemoryQueue#BATCH}. */
	final Envelope[] batch = new Envelope[InMemoryQueue.BATCH - 1];

	int batchNext;

	int batchEnd;

	int batchLane;

	int batchGeneration;

	/** Batched envelopes handed on since the worker last held the queue's lock. */
	int handedSinceLock;

	/** When this worker last handed a message to the bus, in Unix milliseconds, or 0. */
	volatile long lastDeliveryMillis;

	InMemoryWorker(InMemoryConsumer consumer, InMemoryQueue queue, DeliveryHandler handler, int preferredPartition) {
		this.consumer = consumer;
		this.queue = queue;
		this.handler = handler;
		this.preferredPartition = preferredPartition;
		queue.register(this);
	}

	boolean isPaused() {
		return this.consumer.isPausedFlag();
	}

	boolean shouldStop(int queueSize) {
		return this.consumer.shouldStop(queueSize);
	}

	@Override
	public void run() {
		try {
			Envelope envelope;
			while ((envelope = this.queue.take(this)) != null) {
				Disposition disposition = this.handler.deliver(envelope);
				if (disposition == Disposition.ACK) {
					this.queue.finished(envelope);
				}
				else if (this.consumer.isStopping()) {
					this.consumer.recordUnhandled(envelope);
				}
				else {
					this.queue.requeue(this, envelope);
					Thread.sleep(REQUEUE_PAUSE_MILLIS);
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Throwable ex) {
			logger.log(System.Logger.Level.ERROR, "Worker of '" + this.queue.name() + "' stopped unexpectedly", ex);
		}
		finally {
			this.queue.unregister(this);
			this.consumer.workerExited(this);
		}
	}

}
