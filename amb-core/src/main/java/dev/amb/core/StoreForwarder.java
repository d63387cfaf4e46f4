package dev.amb.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import dev.amb.core.persistence.MessageStore;
import dev.amb.core.persistence.RecoveredMessage;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryTracker;
import dev.amb.core.spi.Envelope;

/**
 * The bus's side of the write-ahead log. For an in-process backend, a message is logged with the
 * durable names of the subscriptions it reaches, handed to the backend at once (so the subscription
 * queues' backpressure applies to the publisher as without a log), and acknowledged in the log by
 * each durable name as its subscription is done with it. After a restart, each recovered message
 * goes only to the durable names that had not acknowledged it, once a subscription with that name
 * is open. For a durable backend, the log is an outbox: a message is forwarded once it is logged,
 * acknowledged when the broker has it, and forwarded again with backoff while the broker is
 * unreachable.
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

	private final DurableRoutes routes = new DurableRoutes();

	/** Guards the replays: one runs at a time, whether from {@link #replay()} or a new subscription. */
	private final Object replayLock = new Object();

	/** Recovered messages some durable name still waits for, in log order; null until {@link #replay()}. */
	private List<Replay> waiting;

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
		if (this.outbox) {
			CompletableFuture<Void> logged;
			try {
				logged = this.store.append(envelope);
			}
			catch (RuntimeException ex) {
				return CompletableFuture.failedFuture(ex);
			}
			return logged.thenApply((ignored) -> {
				forward(envelope, 0);
				this.bus.recordPublished(envelope.topic());
				return envelope.id();
			});
		}
		String[] names = this.routes.namesFor(envelope.topic(), envelope.priority().lane());
		CompletableFuture<Void> logged;
		try {
			// Logged before it is queued, so that no acknowledgement can come before its record
			logged = this.store.append(envelope, names);
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
		Acknowledger acknowledger = null;
		if (names.length > 0) {
			acknowledger = new Acknowledger(this.store, envelope.id(), names);
			envelope.attachTracker(acknowledger);
		}
		CompletableFuture<Void> sent = sendQuietly(envelope);
		if (acknowledger != null) {
			// The publisher hears about a refusal, so the refused subscriptions are finished with it
			acknowledger.release();
		}
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
	 * A subscription was made: from now on the messages it reaches are logged for its durable name,
	 * and, once {@link #replay()} ran, the recovered messages waiting for that name are replayed to it.
	 * @param spec the subscription
	 * @param internal whether it is one of the bus's own (reply topics), which nothing is logged for
	 */
	void subscribed(ConsumerSpec spec, boolean internal) {
		if (this.outbox || internal) {
			return;
		}
		this.routes.add(spec);
		synchronized (this.replayLock) {
			if (this.waiting != null && !this.waiting.isEmpty()) {
				int count = replayWaiting(Set.of(spec.durableName()));
				if (count > 0) {
					logger.log(System.Logger.Level.INFO, "Replayed " + count + " message(s) from the write-ahead log to '"
							+ spec.durableName() + "' as it subscribed");
				}
			}
		}
	}

	void unsubscribed(ConsumerSpec spec) {
		this.routes.remove(spec);
	}

	/**
	 * Sends the messages recovered from the log, once: an outbox forwards them all; an in-process
	 * backend gets each for the durable names that had not acknowledged it and have a subscription
	 * now. The others wait for a subscription with their name.
	 * @return how many messages were sent to at least one subscription (or forwarded)
	 */
	int replay() {
		if (!this.replayed.compareAndSet(false, true)) {
			return 0;
		}
		List<RecoveredMessage> recovered = this.store.takeRecovered();
		if (this.outbox) {
			if (!recovered.isEmpty()) {
				logger.log(System.Logger.Level.INFO, "Forwarding " + recovered.size()
						+ " unacknowledged messages from the write-ahead log");
			}
			for (RecoveredMessage message : recovered) {
				forward(message.envelope(), 0);
			}
			return recovered.size();
		}
		synchronized (this.replayLock) {
			this.waiting = new ArrayList<>(recovered.size());
			for (RecoveredMessage message : recovered) {
				this.waiting.add(new Replay(this.store, message));
			}
			if (this.waiting.isEmpty()) {
				return 0;
			}
			logger.log(System.Logger.Level.INFO, "Replaying " + recovered.size()
					+ " unacknowledged messages from the write-ahead log to the subscriptions that had not handled them");
			int count = replayWaiting(this.routes.names());
			Map<String, Integer> left = waitingReplays();
			if (!left.isEmpty()) {
				logger.log(System.Logger.Level.WARNING, "Recovered messages wait in the write-ahead log for durable names "
						+ "no subscription has now: " + left + ". They are replayed when a subscription with that name "
						+ "is made, and keep their segments (and disk space) until then; "
						+ "DefaultMessageBus.discardReplays(name) drops them");
			}
			return count;
		}
	}

	/** Replays, in log order, what waits for any of these names. Holds the replay lock. */
	private int replayWaiting(Set<String> names) {
		int count = 0;
		Map<String, Integer> untaken = new LinkedHashMap<>();
		for (Iterator<Replay> each = this.waiting.iterator(); each.hasNext() && !this.closed;) {
			Replay replay = each.next();
			if (replay.select(names) && replay.deliver(untaken)) {
				count++;
			}
			if (replay.isSettled()) {
				each.remove();
			}
		}
		if (!untaken.isEmpty()) {
			logger.log(System.Logger.Level.WARNING, "Recovered messages that no open subscription takes any more (its "
					+ "pattern or lanes changed), by durable name: " + untaken + "; they are acknowledged for it");
		}
		return count;
	}

	/** @return the recovered messages still waiting, by durable name */
	Map<String, Integer> waitingReplays() {
		synchronized (this.replayLock) {
			Map<String, Integer> counts = new LinkedHashMap<>();
			if (this.waiting != null) {
				for (Replay replay : this.waiting) {
					replay.countWaiting(counts);
				}
			}
			return counts;
		}
	}

	/**
	 * Gives up the recovered messages waiting for a durable name: they are acknowledged for it.
	 * @param durableName the name
	 * @return how many
	 */
	int discardReplays(String durableName) {
		synchronized (this.replayLock) {
			int count = 0;
			if (this.waiting != null) {
				for (Iterator<Replay> each = this.waiting.iterator(); each.hasNext();) {
					Replay replay = each.next();
					if (replay.discard(durableName)) {
						count++;
					}
					if (replay.isSettled()) {
						each.remove();
					}
				}
			}
			if (count > 0) {
				logger.log(System.Logger.Level.WARNING, "Discarded " + count + " recovered message(s) that waited for '"
						+ durableName + "' in the write-ahead log; they are acknowledged for it and not delivered to it");
			}
			return count;
		}
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

	private static int indexOf(String[] names, String name) {
		for (int i = 0; i < names.length; i++) {
			if (names[i] == name || names[i].equals(name)) {
				return i;
			}
		}
		return -1;
	}

	/**
	 * Follows one published message: per durable name, the queues still working on it plus one for
	 * the sender while it sends; a name is acknowledged in the log when its count reaches zero. A
	 * name the message was logged for but that no queue took (its subscription closed meanwhile) is
	 * acknowledged when the sender is done. Queues of subscriptions made after the message was
	 * routed get it without being tracked.
	 */
	static final class Acknowledger implements DeliveryTracker {

		private final MessageStore store;

		private final UUID id;

		private final String[] names;

		private final AtomicIntegerArray counts;

		Acknowledger(MessageStore store, UUID id, String[] names) {
			this.store = store;
			this.id = id;
			this.names = names;
			this.counts = new AtomicIntegerArray(names.length);
			for (int i = 0; i < names.length; i++) {
				this.counts.lazySet(i, 1);
			}
		}

		@Override
		public boolean expect(String durableName) {
			int i = indexOf(this.names, durableName);
			if (i >= 0) {
				this.counts.incrementAndGet(i);
			}
			return true;
		}

		@Override
		public void done(String durableName) {
			int i = indexOf(this.names, durableName);
			if (i >= 0) {
				settle(i);
			}
		}

		@Override
		public void refused(String durableName) {
			// The publisher hears about the refusal: nothing is owed to that subscription
			done(durableName);
		}

		/** The sender is finished sending. */
		void release() {
			for (int i = 0; i < this.names.length; i++) {
				settle(i);
			}
		}

		private void settle(int i) {
			if (this.counts.decrementAndGet(i) == 0) {
				this.store.acknowledge(this.id, this.names[i]);
			}
		}

	}

	/**
	 * One recovered message on its way back to the subscriptions that had not finished with it.
	 * Per durable name (or one slot for a message logged without names, which goes to every
	 * subscription and is acknowledged once for all), a count of the queues working on it plus one
	 * while the name still waits for its replay. The replaying fields are only touched by the thread
	 * holding the replay lock, which is also the one the in-process backend calls
	 * {@link #expect(String)} and {@link #refused(String)} on.
	 */
	final class Replay implements DeliveryTracker {

		private final MessageStore store;

		private final Envelope envelope;

		/** Null for a message logged without names. */
		private final String[] names;

		private final AtomicIntegerArray counts;

		private final boolean[] waiting;

		private final boolean[] sending;

		private final boolean[] queued;

		private final boolean[] refusedNow;

		Replay(MessageStore store, RecoveredMessage message) {
			this.store = store;
			this.envelope = message.envelope();
			this.names = message.isUnnamed() ? null : message.durableNames().toArray(new String[0]);
			int slots = (this.names != null) ? this.names.length : 1;
			this.counts = new AtomicIntegerArray(slots);
			this.waiting = new boolean[slots];
			this.sending = new boolean[slots];
			this.queued = new boolean[slots];
			this.refusedNow = new boolean[slots];
			for (int i = 0; i < slots; i++) {
				this.counts.set(i, 1);
				this.waiting[i] = true;
			}
			this.envelope.attachTracker(this);
		}

		/** Marks for sending the waiting names among these; a message without names goes to all. @return whether any */
		boolean select(Set<String> open) {
			boolean any = false;
			for (int i = 0; i < this.waiting.length; i++) {
				this.sending[i] = this.waiting[i] && (this.names == null || open.contains(this.names[i]));
				any |= this.sending[i];
			}
			return any;
		}

		/**
		 * Sends to the selected names, waiting out backpressure rather than losing the message.
		 * @param untaken counts, by durable name, the messages no subscription with that name took
		 * @return whether some subscription got it
		 */
		boolean deliver(Map<String, Integer> untaken) {
			boolean delivered = false;
			long pause = FIRST_RETRY_MILLIS;
			for (int attempt = 1; attempt <= REPLAY_ATTEMPTS && !StoreForwarder.this.closed; attempt++) {
				Arrays.fill(this.queued, false);
				Arrays.fill(this.refusedNow, false);
				Throwable failure = failureOf(sendQuietly(this.envelope));
				boolean retry = false;
				for (int i = 0; i < this.sending.length; i++) {
					if (!this.sending[i]) {
						continue;
					}
					delivered |= this.queued[i] && !this.refusedNow[i];
					if (this.refusedNow[i]) {
						retry = true;
					}
					else if (failure == null || failure instanceof BackpressureException || this.queued[i]) {
						this.sending[i] = false;
						this.waiting[i] = false;
						if (!this.queued[i]) {
							untaken.merge((this.names != null) ? this.names[i] : "(any)", 1, Integer::sum);
						}
						settle(i);
					}
				}
				if (failure != null && !(failure instanceof BackpressureException)) {
					logger.log(System.Logger.Level.WARNING, "Replaying " + this.envelope + " failed; it stays in the "
							+ "write-ahead log for the next start", failure);
					stopSending();
					return delivered;
				}
				if (!retry) {
					return delivered;
				}
				try {
					Thread.sleep(pause);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					stopSending();
					return delivered;
				}
				pause = Math.min(pause * 2, 1000);
			}
			if (stopSending() && !StoreForwarder.this.closed) {
				logger.log(System.Logger.Level.WARNING, "Replaying " + this.envelope + " was refused by backpressure "
						+ REPLAY_ATTEMPTS + " times; it stays in the write-ahead log for the next start");
			}
			return delivered;
		}

		/** Leaves the names still being sent waiting in the log for the next start. @return whether any */
		private boolean stopSending() {
			boolean any = false;
			for (int i = 0; i < this.sending.length; i++) {
				if (this.sending[i]) {
					// Their hold is kept: never acknowledged in this run
					this.sending[i] = false;
					this.waiting[i] = false;
					any = true;
				}
			}
			return any;
		}

		boolean discard(String durableName) {
			if (this.names == null) {
				return false;
			}
			int i = indexOf(this.names, durableName);
			if (i < 0 || !this.waiting[i]) {
				return false;
			}
			this.waiting[i] = false;
			settle(i);
			return true;
		}

		boolean isSettled() {
			for (boolean each : this.waiting) {
				if (each) {
					return false;
				}
			}
			return true;
		}

		void countWaiting(Map<String, Integer> counts) {
			for (int i = 0; this.names != null && i < this.waiting.length; i++) {
				if (this.waiting[i]) {
					counts.merge(this.names[i], 1, Integer::sum);
				}
			}
		}

		@Override
		public boolean expect(String durableName) {
			int i = slot(durableName);
			if (i < 0 || !this.sending[i]) {
				return false;
			}
			this.counts.incrementAndGet(i);
			this.queued[i] = true;
			return true;
		}

		@Override
		public void done(String durableName) {
			int i = slot(durableName);
			if (i >= 0) {
				settle(i);
			}
		}

		@Override
		public void refused(String durableName) {
			int i = slot(durableName);
			if (i >= 0) {
				this.refusedNow[i] = true;
				settle(i);
			}
		}

		private int slot(String durableName) {
			return (this.names != null) ? indexOf(this.names, durableName) : 0;
		}

		private void settle(int i) {
			if (this.counts.decrementAndGet(i) == 0) {
				if (this.names != null) {
					this.store.acknowledge(this.envelope.id(), this.names[i]);
				}
				else {
					this.store.acknowledge(this.envelope.id());
				}
			}
		}

	}

}
