package dev.amb.core;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import dev.amb.core.persistence.MessageStore;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.DeliveryTracker;
import dev.amb.core.spi.Envelope;

/**
 * The bus's side of the write-ahead log. For an in-process backend, a message is logged, handed to
 * the backend at once (so the subscription queues' backpressure applies to the publisher as without
 * a log), and acknowledged in the log when every subscription is done with it. For a durable
 * backend, the log is an outbox: a message is forwarded once it is logged, acknowledged when the
 * broker has it, and forwarded again with backoff while the broker is unreachable.
 */
final class StoreForwarder {

	private static final System.Logger logger = System.getLogger(StoreForwarder.class.getName());

	private static final long FIRST_RETRY_MILLIS = 100;

	private static final long MAX_RETRY_MILLIS = 30_000;

	private static final int REPLAY_ATTEMPTS = 30;

	private final DefaultMessageBus bus;

	private final MessageStore store;

	private final BrokerAdapter adapter;

	private final boolean outbox;

	private final ScheduledExecutorService retries;

	private final AtomicBoolean replayed = new AtomicBoolean();

	private final LongAdder forwardRetries = new LongAdder();

	private final AtomicBoolean failing = new AtomicBoolean();

	private volatile boolean closed;

	StoreForwarder(DefaultMessageBus bus, MessageStore store, BrokerAdapter adapter) {
		this.bus = bus;
		this.store = store;
		this.adapter = adapter;
		this.outbox = adapter.capabilities().contains(Capability.DURABLE);
		if (this.outbox) {
			ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, (task) -> {
				Thread thread = new Thread(task, "amb-wal-outbox");
				thread.setDaemon(true);
				return thread;
			});
			executor.setRemoveOnCancelPolicy(true);
			this.retries = executor;
		}
		else {
			this.retries = null;
		}
	}

	boolean isOutbox() {
		return this.outbox;
	}

	MessageStore store() {
		return this.store;
	}

	long forwardRetries() {
		return this.forwardRetries.sum();
	}

	CompletableFuture<UUID> publish(Envelope envelope) {
		CompletableFuture<Void> logged;
		try {
			logged = this.store.append(envelope);
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
		if (this.outbox) {
			return logged.thenApply((ignored) -> {
				forward(envelope, 0);
				this.bus.recordPublished(envelope.topic());
				return envelope.id();
			});
		}
		Acknowledger acknowledger = new Acknowledger(this.store, envelope.id());
		envelope.attachTracker(acknowledger);
		CompletableFuture<Void> sent = sendQuietly(envelope);
		// The publisher hears about a refusal, so the refused subscriptions are finished with it
		acknowledger.release();
		if (sent.isDone() && !sent.isCompletedExceptionally()) {
			return logged.thenApply((ignored) -> {
				this.bus.recordPublished(envelope.topic());
				return envelope.id();
			});
		}
		return logged.thenCombine(sent, (ignored, alsoIgnored) -> {
			this.bus.recordPublished(envelope.topic());
			return envelope.id();
		});
	}

	/**
	 * Sends the messages recovered from the log, once.
	 * @return how many
	 */
	int replay() {
		if (!this.replayed.compareAndSet(false, true)) {
			return 0;
		}
		List<Envelope> recovered = this.store.takeRecovered();
		if (recovered.isEmpty()) {
			return 0;
		}
		logger.log(System.Logger.Level.INFO, "Replaying " + recovered.size() + " unacknowledged messages from the write-ahead log");
		for (Envelope envelope : recovered) {
			if (this.closed) {
				break;
			}
			if (this.outbox) {
				forward(envelope, 0);
			}
			else {
				replayInProcess(envelope);
			}
		}
		return recovered.size();
	}

	/** Hands a recovered message to the in-process backend, waiting out backpressure rather than losing it. */
	private void replayInProcess(Envelope envelope) {
		Acknowledger acknowledger = new Acknowledger(this.store, envelope.id());
		envelope.attachTracker(acknowledger);
		long pause = FIRST_RETRY_MILLIS;
		for (int attempt = 1; attempt <= REPLAY_ATTEMPTS && !this.closed; attempt++) {
			Throwable failure = failureOf(sendQuietly(envelope));
			if (failure == null) {
				acknowledger.release();
				return;
			}
			if (!(failure instanceof BackpressureException)) {
				logger.log(System.Logger.Level.WARNING, "Replaying " + envelope + " failed; it stays in the write-ahead log "
						+ "for the next start", failure);
				return;
			}
			try {
				Thread.sleep(pause);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			pause = Math.min(pause * 2, 1000);
		}
		logger.log(System.Logger.Level.WARNING, "Replaying " + envelope + " was refused by backpressure " + REPLAY_ATTEMPTS
				+ " times; it stays in the write-ahead log for the next start");
	}

	private static Throwable failureOf(CompletableFuture<Void> sent) {
		try {
			sent.join();
			return null;
		}
		catch (CompletionException ex) {
			return (ex.getCause() != null) ? ex.getCause() : ex;
		}
		catch (RuntimeException ex) {
			return ex;
		}
	}

	/** Sends to a durable backend and acknowledges in the log once the broker has it; retries with backoff. */
	private void forward(Envelope envelope, int attempt) {
		if (this.closed) {
			return;
		}
		sendQuietly(envelope).whenComplete((ignored, failure) -> {
			if (failure == null) {
				this.store.acknowledge(envelope.id());
				if (this.failing.compareAndSet(true, false)) {
					logger.log(System.Logger.Level.INFO, "Forwarding from the write-ahead log to " + this.adapter.name()
							+ " works again");
				}
				return;
			}
			if (this.closed) {
				return;
			}
			this.forwardRetries.increment();
			long delay = Math.min(MAX_RETRY_MILLIS, FIRST_RETRY_MILLIS << Math.min(attempt, 20));
			if (this.failing.compareAndSet(false, true)) {
				logger.log(System.Logger.Level.WARNING, "Forwarding " + envelope + " to " + this.adapter.name()
						+ " failed (" + failure + "); it and the messages after it are kept in the write-ahead log "
						+ "and retried with backoff until the broker takes them");
			}
			try {
				this.retries.schedule(() -> forward(envelope, attempt + 1), delay, TimeUnit.MILLISECONDS);
			}
			catch (RuntimeException rejected) {
				// Closing: the message stays in the log for the next start
			}
		});
	}

	private CompletableFuture<Void> sendQuietly(Envelope envelope) {
		try {
			return this.adapter.send(envelope);
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	/** Stops forwarding; what was not acknowledged stays in the log. Closes the store. */
	void close() {
		this.closed = true;
		if (this.retries != null) {
			this.retries.shutdownNow();
		}
		this.store.close();
	}

	/**
	 * Counts the subscriptions still working on one message, plus one for the sender while it
	 * sends, and acknowledges the message in the log when the count reaches zero.
	 */
	static final class Acknowledger extends AtomicInteger implements DeliveryTracker {

		private static final long serialVersionUID = 1L;

		private final transient MessageStore store;

		private final UUID id;

		Acknowledger(MessageStore store, UUID id) {
			super(1);
			this.store = store;
			this.id = id;
		}

		@Override
		public void expect(int subscriptions) {
			addAndGet(subscriptions);
		}

		@Override
		public void done() {
			if (decrementAndGet() == 0) {
				this.store.acknowledge(this.id);
			}
		}

		/** The sender is finished sending. */
		void release() {
			done();
		}

	}

}
