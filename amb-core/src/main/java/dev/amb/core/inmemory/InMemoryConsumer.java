package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Envelope;

/**
 * One subscription's workers on a queue: the queue's only consumer for a broadcast subscription,
 * one member among others for a group.
 */
final class InMemoryConsumer implements BrokerConsumer {

	private static final System.Logger logger = System.getLogger(InMemoryConsumer.class.getName());

	private static final long IDLE_EXIT_NANOS = Duration.ofMillis(200).toNanos();

	private static final long INTERRUPTED_EXIT_NANOS = Duration.ofSeconds(1).toNanos();

	private final InMemoryBroker broker;

	private final ConsumerSpec spec;

	private final InMemoryQueue queue;

	private final List<Thread> threads = new ArrayList<>();

	private final AtomicInteger liveWorkers = new AtomicInteger();

	private final AtomicLong unhandled = new AtomicLong();

	private volatile boolean paused;

	private volatile boolean draining;

	private volatile boolean stopNow;

	InMemoryConsumer(InMemoryBroker broker, ConsumerSpec spec, InMemoryQueue queue, DeliveryHandler handler,
			int firstPartition) {
		this.broker = broker;
		this.spec = spec;
		this.queue = queue;
		for (int i = 0; i < spec.concurrency(); i++) {
			InMemoryWorker worker = new InMemoryWorker(this, queue, handler, firstPartition + i);
			Thread thread = new Thread(worker, "amb-" + spec.id() + "-" + (i + 1));
			thread.setDaemon(true);
			this.threads.add(thread);
		}
	}

	void start() {
		this.liveWorkers.set(this.threads.size());
		this.threads.forEach(Thread::start);
	}

	ConsumerSpec spec() {
		return this.spec;
	}

	boolean isPausedFlag() {
		return this.paused;
	}

	boolean isStopping() {
		return this.draining || this.stopNow;
	}

	boolean shouldStop(int queueSize) {
		return this.stopNow || (this.draining && queueSize == 0);
	}

	void recordUnhandled(Envelope envelope) {
		this.unhandled.incrementAndGet();
		logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + this.spec.id() + "' closed before " + envelope
				+ " was handled; it is not acknowledged");
	}

	void workerExited(InMemoryWorker worker) {
		this.liveWorkers.decrementAndGet();
	}

	@Override
	public void pause() {
		this.paused = true;
		this.queue.wakeAll();
	}

	@Override
	public void resume() {
		this.paused = false;
		this.queue.wakeAll();
	}

	@Override
	public ConsumerState state() {
		return new ConsumerState(this.queue.laneDepths(), this.queue.backpressure().maxQueueSize(),
				this.queue.backpressure().thresholdDepth(), this.queue.inFlight(), this.paused,
				this.queue.lastDeliveryMillis());
	}

	@Override
	public void close(Duration drainTimeout) {
		boolean lastMember = this.broker.detach(this);
		long deadline = System.nanoTime() + drainTimeout.toNanos();
		if (lastMember && !this.paused) {
			// Nothing new arrives now: handle what is queued, within the drain timeout.
			this.draining = true;
			this.queue.wakeAll();
			joinUntil(deadline);
		}
		this.stopNow = true;
		this.queue.wakeAll();
		// Idle workers leave at once; a handler still busy past the drain timeout is interrupted.
		joinUntil(Math.max(deadline, System.nanoTime() + IDLE_EXIT_NANOS));
		for (Thread thread : this.threads) {
			if (thread.isAlive()) {
				logger.log(System.Logger.Level.WARNING, "Handler thread '" + thread.getName()
						+ "' is still busy after the drain timeout of " + drainTimeout + "; interrupting it");
				thread.interrupt();
			}
		}
		joinUntil(System.nanoTime() + INTERRUPTED_EXIT_NANOS);
		if (lastMember) {
			int left = this.queue.clear();
			if (left > 0) {
				logger.log(System.Logger.Level.WARNING, "Subscription '" + this.spec.id() + "' closed with " + left
						+ " message(s) still queued; they were not handled and are not acknowledged");
			}
		}
	}

	private void joinUntil(long deadlineNanos) {
		for (Thread thread : this.threads) {
			long remaining = deadlineNanos - System.nanoTime();
			if (remaining > 0 && thread != Thread.currentThread()) {
				try {
					thread.join(Math.max(1, remaining / 1_000_000));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					return;
				}
			}
		}
	}

	long unhandled() {
		return this.unhandled.get();
	}

}
