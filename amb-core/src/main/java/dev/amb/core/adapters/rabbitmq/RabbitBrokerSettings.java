package dev.amb.core.adapters.rabbitmq;

import java.time.Duration;
import java.util.Objects;

/**
 * AMB's own settings for the RabbitMQ backend (the connection itself comes from the
 * {@code ConnectionFactory}). Immutable; {@link #DEFAULTS} or {@link #builder()}. Each builder
 * method matches one {@code amb.rabbitmq.*} property, named in its Javadoc.
 */
public final class RabbitBrokerSettings {

	/** The defaults: exchanges {@code amb}, {@code amb.dlq}, {@code amb.internal}, prefetch 250, 500 outstanding confirms. */
	public static final RabbitBrokerSettings DEFAULTS = builder().build();

	private final String exchange;

	private final String deadLetterExchange;

	private final String internalExchange;

	private final String unroutedDeadLetterQueue;

	private final String queuePrefix;

	private final int prefetch;

	private final int maxOutstandingConfirms;

	private final Duration confirmTimeout;

	private final boolean singleActiveConsumer;

	private final Duration broadcastQueueExpiry;

	private final Duration requeueDelay;

	private final Duration recoveryInterval;

	private final int starvationBound;

	private final boolean persistent;

	private final boolean mandatory;

	private RabbitBrokerSettings(Builder builder) {
		this.exchange = builder.exchange;
		this.deadLetterExchange = (builder.deadLetterExchange != null) ? builder.deadLetterExchange
				: builder.exchange + ".dlq";
		this.internalExchange = (builder.internalExchange != null) ? builder.internalExchange
				: builder.exchange + ".internal";
		this.unroutedDeadLetterQueue = (builder.unroutedDeadLetterQueue != null) ? builder.unroutedDeadLetterQueue
				: this.deadLetterExchange + ".unrouted";
		this.queuePrefix = (builder.queuePrefix != null) ? builder.queuePrefix : builder.exchange + ".";
		this.prefetch = builder.prefetch;
		this.maxOutstandingConfirms = builder.maxOutstandingConfirms;
		this.confirmTimeout = builder.confirmTimeout;
		this.singleActiveConsumer = builder.singleActiveConsumer;
		this.broadcastQueueExpiry = builder.broadcastQueueExpiry;
		this.requeueDelay = builder.requeueDelay;
		this.recoveryInterval = builder.recoveryInterval;
		this.starvationBound = builder.starvationBound;
		this.persistent = builder.persistent;
		this.mandatory = builder.mandatory;
	}

	public static Builder builder() {
		return new Builder();
	}

	/** @return the topic exchange for ordinary topics ({@code amb.rabbitmq.exchange}) */
	public String exchange() {
		return this.exchange;
	}

	/** @return the topic exchange for dead-letter topics, those ending in {@code .dlq} ({@code amb.rabbitmq.dead-letter-exchange}) */
	public String deadLetterExchange() {
		return this.deadLetterExchange;
	}

	/** @return the topic exchange for AMB's internal {@code _amb.} topics ({@code amb.rabbitmq.internal-exchange}) */
	public String internalExchange() {
		return this.internalExchange;
	}

	/** @return the durable queue that keeps dead letters no subscription takes ({@code amb.rabbitmq.unrouted-dead-letter-queue}) */
	public String unroutedDeadLetterQueue() {
		return this.unroutedDeadLetterQueue;
	}

	/** @return the prefix of every queue the adapter declares ({@code amb.rabbitmq.queue-prefix}) */
	public String queuePrefix() {
		return this.queuePrefix;
	}

	/** @return the most unacknowledged deliveries per subscription ({@code amb.rabbitmq.prefetch}) */
	public int prefetch() {
		return this.prefetch;
	}

	/** @return the most published messages awaiting a confirm ({@code amb.rabbitmq.max-outstanding-confirms}) */
	public int maxOutstandingConfirms() {
		return this.maxOutstandingConfirms;
	}

	/** @return how long a publish waits for its confirm, or for room in the confirm window ({@code amb.rabbitmq.confirm-timeout}) */
	public Duration confirmTimeout() {
		return this.confirmTimeout;
	}

	/** @return whether group queues have one active consumer, which keeps key order across members ({@code amb.rabbitmq.single-active-consumer}) */
	public boolean singleActiveConsumer() {
		return this.singleActiveConsumer;
	}

	/** @return how long an unused broadcast queue outlives a lost connection ({@code amb.rabbitmq.broadcast-queue-expiry}) */
	public Duration broadcastQueueExpiry() {
		return this.broadcastQueueExpiry;
	}

	/** @return the pause before a message the bus did not finish is handed back to the broker ({@code amb.rabbitmq.requeue-delay}) */
	public Duration requeueDelay() {
		return this.requeueDelay;
	}

	/** @return the pause between attempts to restart a consumer after its connection was lost ({@code amb.rabbitmq.recovery-interval}) */
	public Duration recoveryInterval() {
		return this.recoveryInterval;
	}

	/** @return deliveries from higher lanes after which a waiting lower-lane message goes first ({@code amb.rabbitmq.starvation-bound}) */
	public int starvationBound() {
		return this.starvationBound;
	}

	/** @return whether messages are published persistent, to survive a broker restart ({@code amb.rabbitmq.persistent}) */
	public boolean persistent() {
		return this.persistent;
	}

	/** @return whether every publish that reaches no queue fails, not only replies ({@code amb.rabbitmq.mandatory}) */
	public boolean mandatory() {
		return this.mandatory;
	}

	/**
	 * Builds {@link RabbitBrokerSettings}.
	 */
	public static final class Builder {

		private String exchange = "amb";

		private String deadLetterExchange;

		private String internalExchange;

		private String unroutedDeadLetterQueue;

		private String queuePrefix;

		private int prefetch = 250;

		private int maxOutstandingConfirms = 500;

		private Duration confirmTimeout = Duration.ofSeconds(30);

		private boolean singleActiveConsumer = true;

		private Duration broadcastQueueExpiry = Duration.ofMinutes(1);

		private Duration requeueDelay = Duration.ofSeconds(1);

		private Duration recoveryInterval = Duration.ofSeconds(1);

		private int starvationBound = 16;

		private boolean persistent = true;

		private boolean mandatory;

		private Builder() {
		}

		/** The topic exchange for ordinary topics; {@code amb} by default; the other names derive from it. */
		public Builder exchange(String exchange) {
			this.exchange = requireName(exchange, "exchange");
			return this;
		}

		/** The dead-letter topic exchange; {@code <exchange>.dlq} by default. */
		public Builder deadLetterExchange(String deadLetterExchange) {
			this.deadLetterExchange = requireName(deadLetterExchange, "deadLetterExchange");
			return this;
		}

		/** The exchange of internal topics such as reply topics; {@code <exchange>.internal} by default. */
		public Builder internalExchange(String internalExchange) {
			this.internalExchange = requireName(internalExchange, "internalExchange");
			return this;
		}

		/** The queue of dead letters no subscription takes; {@code <dead-letter-exchange>.unrouted} by default. */
		public Builder unroutedDeadLetterQueue(String unroutedDeadLetterQueue) {
			this.unroutedDeadLetterQueue = requireName(unroutedDeadLetterQueue, "unroutedDeadLetterQueue");
			return this;
		}

		/** The prefix of subscription queues; {@code <exchange>.} by default. */
		public Builder queuePrefix(String queuePrefix) {
			this.queuePrefix = Objects.requireNonNull(queuePrefix, "queuePrefix must not be null");
			return this;
		}

		/** Unacknowledged deliveries per subscription; 250 by default. */
		public Builder prefetch(int prefetch) {
			this.prefetch = requirePositive(prefetch, "prefetch");
			return this;
		}

		/** Messages awaiting a confirm before publishers wait; 500 by default. */
		public Builder maxOutstandingConfirms(int maxOutstandingConfirms) {
			this.maxOutstandingConfirms = requirePositive(maxOutstandingConfirms, "maxOutstandingConfirms");
			return this;
		}

		/** How long a publish waits for its confirm; 30 s by default. */
		public Builder confirmTimeout(Duration confirmTimeout) {
			this.confirmTimeout = requirePositive(confirmTimeout, "confirmTimeout");
			return this;
		}

		/** One active consumer per group queue (key order across members); true by default. */
		public Builder singleActiveConsumer(boolean singleActiveConsumer) {
			this.singleActiveConsumer = singleActiveConsumer;
			return this;
		}

		/** How long an unused broadcast queue is kept; one minute by default. */
		public Builder broadcastQueueExpiry(Duration broadcastQueueExpiry) {
			this.broadcastQueueExpiry = requirePositive(broadcastQueueExpiry, "broadcastQueueExpiry");
			return this;
		}

		/** The pause before a message is requeued; one second by default. */
		public Builder requeueDelay(Duration requeueDelay) {
			Objects.requireNonNull(requeueDelay, "requeueDelay must not be null");
			if (requeueDelay.isNegative()) {
				throw new IllegalArgumentException("requeueDelay must not be negative, was " + requeueDelay);
			}
			this.requeueDelay = requeueDelay;
			return this;
		}

		/** The pause between consumer restarts; one second by default. */
		public Builder recoveryInterval(Duration recoveryInterval) {
			this.recoveryInterval = requirePositive(recoveryInterval, "recoveryInterval");
			return this;
		}

		/** Higher-lane deliveries after which a waiting lower lane goes first; 16 by default. */
		public Builder starvationBound(int starvationBound) {
			this.starvationBound = requirePositive(starvationBound, "starvationBound");
			return this;
		}

		/** Persistent messages; true by default. */
		public Builder persistent(boolean persistent) {
			this.persistent = persistent;
			return this;
		}

		/** Fail every publish that reaches no queue; false by default (pub/sub without subscribers is legal). */
		public Builder mandatory(boolean mandatory) {
			this.mandatory = mandatory;
			return this;
		}

		public RabbitBrokerSettings build() {
			return new RabbitBrokerSettings(this);
		}

		private static String requireName(String name, String property) {
			if (name == null || name.isBlank()) {
				throw new IllegalArgumentException(property + " must not be empty");
			}
			if (name.startsWith("amq.")) {
				throw new IllegalArgumentException(property + " '" + name + "' starts with 'amq.', which RabbitMQ reserves");
			}
			return name;
		}

		private static int requirePositive(int value, String property) {
			if (value < 1) {
				throw new IllegalArgumentException(property + " must be at least 1, was " + value);
			}
			return value;
		}

		private static Duration requirePositive(Duration value, String property) {
			Objects.requireNonNull(value, property + " must not be null");
			if (value.isNegative() || value.isZero()) {
				throw new IllegalArgumentException(property + " must be positive, was " + value);
			}
			return value;
		}

	}

}
