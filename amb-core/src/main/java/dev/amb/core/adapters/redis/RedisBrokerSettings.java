package dev.amb.core.adapters.redis;

import java.time.Duration;
import java.util.Objects;

/**
 * The Redis backend's own settings; the connection itself comes from the
 * {@link org.springframework.data.redis.connection.RedisConnectionFactory}. Immutable; start from
 * {@link #defaults()} or {@link #builder()}. Each setting maps to one {@code amb.redis.*} property.
 */
public final class RedisBrokerSettings {

	private static final RedisBrokerSettings DEFAULTS = builder().build();

	private final String streamPrefix;

	private final Trimming trimming;

	private final Duration claimTimeout;

	private final int batchSize;

	private final Duration blockTimeout;

	private final Duration topicRefreshInterval;

	private final int starvationBound;

	private final int maxPendingSends;

	private final Duration sendTimeout;

	private RedisBrokerSettings(Builder builder) {
		this.streamPrefix = builder.streamPrefix;
		this.trimming = builder.trimming;
		this.claimTimeout = builder.claimTimeout;
		this.batchSize = builder.batchSize;
		this.blockTimeout = builder.blockTimeout;
		this.topicRefreshInterval = builder.topicRefreshInterval;
		this.starvationBound = builder.starvationBound;
		this.maxPendingSends = builder.maxPendingSends;
		this.sendTimeout = builder.sendTimeout;
	}

	/** @return the defaults: prefix {@code amb:}, MAXLEN ~ 1,000,000, claim after 60 s, batches of 100 */
	public static RedisBrokerSettings defaults() {
		return DEFAULTS;
	}

	/** @return a builder starting from the defaults */
	public static Builder builder() {
		return new Builder();
	}

	/** @return a builder starting from these settings */
	public Builder toBuilder() {
		return new Builder(this);
	}

	/** @return the prefix of every key AMB writes ({@code amb.redis.stream-prefix}) */
	public String streamPrefix() {
		return this.streamPrefix;
	}

	/** @return how streams are trimmed on each XADD ({@code amb.redis.trimming.*}) */
	public Trimming trimming() {
		return this.trimming;
	}

	/** @return how long an entry stays pending before another member claims it ({@code amb.redis.claim-timeout}) */
	public Duration claimTimeout() {
		return this.claimTimeout;
	}

	/** @return the COUNT of each XREADGROUP, the most acknowledgements per XACK ({@code amb.redis.batch-size}) */
	public int batchSize() {
		return this.batchSize;
	}

	/** @return how long an idle XREADGROUP blocks ({@code amb.redis.block-timeout}) */
	public Duration blockTimeout() {
		return this.blockTimeout;
	}

	/** @return how often wildcard subscriptions look for new topics ({@code amb.redis.topic-refresh-interval}) */
	public Duration topicRefreshInterval() {
		return this.topicRefreshInterval;
	}

	/** @return entries served ahead of a waiting lower lane before it gets one ({@code amb.redis.starvation-bound}) */
	public int starvationBound() {
		return this.starvationBound;
	}

	/** @return sends queued or awaiting Redis's reply before publishers wait ({@code amb.redis.max-pending-sends}) */
	public int maxPendingSends() {
		return this.maxPendingSends;
	}

	/** @return how long a publisher waits for room among the pending sends ({@code amb.redis.send-timeout}) */
	public Duration sendTimeout() {
		return this.sendTimeout;
	}

	@Override
	public String toString() {
		return "RedisBrokerSettings[streamPrefix=" + this.streamPrefix + ", trimming=" + this.trimming + ", claimTimeout="
				+ this.claimTimeout + ", batchSize=" + this.batchSize + ", blockTimeout=" + this.blockTimeout
				+ ", topicRefreshInterval=" + this.topicRefreshInterval + ", starvationBound=" + this.starvationBound
				+ ", maxPendingSends=" + this.maxPendingSends + ", sendTimeout=" + this.sendTimeout + "]";
	}

	/**
	 * How streams are trimmed, as part of each XADD.
	 *
	 * @param strategy what bounds a stream
	 * @param maxLength the length kept with {@link Strategy#MAXLEN}
	 * @param maxAge the age kept with {@link Strategy#MINID}
	 * @param approximate whether Redis may trim lazily ({@code ~}), which is much cheaper
	 */
	public record Trimming(Strategy strategy, long maxLength, Duration maxAge, boolean approximate) {

		public Trimming {
			Objects.requireNonNull(strategy, "strategy must not be null");
			Objects.requireNonNull(maxAge, "maxAge must not be null");
			if (maxLength < 1) {
				throw new IllegalArgumentException("trimming maxLength must be at least 1, was " + maxLength);
			}
			if (maxAge.isNegative() || maxAge.isZero()) {
				throw new IllegalArgumentException("trimming maxAge must be positive, was " + maxAge);
			}
		}

		/** @return no trimming: streams grow until something else trims them */
		public static Trimming none() {
			return new Trimming(Strategy.NONE, 1_000_000, Duration.ofDays(1), true);
		}

		/**
		 * Keeps about the newest entries of each stream ({@code XADD MAXLEN ~ n}).
		 * @param maxLength how many
		 * @return the trimming
		 */
		public static Trimming maxLength(long maxLength) {
			return new Trimming(Strategy.MAXLEN, maxLength, Duration.ofDays(1), true);
		}

		/**
		 * Keeps about the entries younger than an age ({@code XADD MINID ~ <now - age>}).
		 * @param maxAge how old
		 * @return the trimming
		 */
		public static Trimming maxAge(Duration maxAge) {
			return new Trimming(Strategy.MINID, 1_000_000, maxAge, true);
		}

		/**
		 * The same trimming, exact or approximate.
		 * @param approximate whether Redis may trim lazily
		 * @return the trimming
		 */
		public Trimming withApproximate(boolean approximate) {
			return new Trimming(this.strategy, this.maxLength, this.maxAge, approximate);
		}

		/**
		 * What bounds a stream.
		 */
		public enum Strategy {

			/** Nothing: streams grow without bound. */
			NONE,

			/** A number of entries ({@code MAXLEN}). */
			MAXLEN,

			/** An age: entries older than it are removed ({@code MINID}, since Redis 6.2). */
			MINID

		}

	}

	/**
	 * Builds {@link RedisBrokerSettings}.
	 */
	public static final class Builder {

		private String streamPrefix = "amb:";

		private Trimming trimming = Trimming.maxLength(1_000_000);

		private Duration claimTimeout = Duration.ofSeconds(60);

		private int batchSize = 100;

		private Duration blockTimeout = Duration.ofMillis(500);

		private Duration topicRefreshInterval = Duration.ofSeconds(1);

		private int starvationBound = 16;

		private int maxPendingSends = 10_000;

		private Duration sendTimeout = Duration.ofSeconds(10);

		private Builder() {
		}

		private Builder(RedisBrokerSettings settings) {
			this.streamPrefix = settings.streamPrefix;
			this.trimming = settings.trimming;
			this.claimTimeout = settings.claimTimeout;
			this.batchSize = settings.batchSize;
			this.blockTimeout = settings.blockTimeout;
			this.topicRefreshInterval = settings.topicRefreshInterval;
			this.starvationBound = settings.starvationBound;
			this.maxPendingSends = settings.maxPendingSends;
			this.sendTimeout = settings.sendTimeout;
		}

		/** The prefix of every key AMB writes; {@code amb:} by default. */
		public Builder streamPrefix(String streamPrefix) {
			Objects.requireNonNull(streamPrefix, "streamPrefix must not be null");
			this.streamPrefix = streamPrefix;
			return this;
		}

		/** How streams are trimmed; {@code MAXLEN ~ 1000000} by default. */
		public Builder trimming(Trimming trimming) {
			this.trimming = Objects.requireNonNull(trimming, "trimming must not be null");
			return this;
		}

		/** How long an entry stays pending (unacknowledged) before it is claimed for redelivery; 60 s by default. */
		public Builder claimTimeout(Duration claimTimeout) {
			this.claimTimeout = positive(claimTimeout, "claimTimeout");
			return this;
		}

		/** Entries per XREADGROUP and acknowledgements per XACK (the writer sends up to four times as many commands at once); 100 by default. */
		public Builder batchSize(int batchSize) {
			if (batchSize < 1) {
				throw new IllegalArgumentException("batchSize must be at least 1, was " + batchSize);
			}
			this.batchSize = batchSize;
			return this;
		}

		/** How long an idle XREADGROUP blocks; bounds how long closing a subscription waits; 500 ms by default. */
		public Builder blockTimeout(Duration blockTimeout) {
			this.blockTimeout = positive(blockTimeout, "blockTimeout");
			return this;
		}

		/** How often wildcard subscriptions read the topic registry; 1 s by default. */
		public Builder topicRefreshInterval(Duration topicRefreshInterval) {
			this.topicRefreshInterval = positive(topicRefreshInterval, "topicRefreshInterval");
			return this;
		}

		/** Entries taken from higher lanes in a row while a lower lane waits before the lowest gets one; 16 by default. */
		public Builder starvationBound(int starvationBound) {
			if (starvationBound < 1) {
				throw new IllegalArgumentException("starvationBound must be at least 1, was " + starvationBound);
			}
			this.starvationBound = starvationBound;
			return this;
		}

		/** Sends (and, separately, acknowledgements) queued or awaiting Redis's reply before publishers wait; 10,000 by default. */
		public Builder maxPendingSends(int maxPendingSends) {
			if (maxPendingSends < 1) {
				throw new IllegalArgumentException("maxPendingSends must be at least 1, was " + maxPendingSends);
			}
			this.maxPendingSends = maxPendingSends;
			return this;
		}

		/** How long a publisher waits for room among the pending sends before its publish fails; 10 s by default. */
		public Builder sendTimeout(Duration sendTimeout) {
			this.sendTimeout = positive(sendTimeout, "sendTimeout");
			return this;
		}

		/** @return the settings */
		public RedisBrokerSettings build() {
			return new RedisBrokerSettings(this);
		}

		private static Duration positive(Duration duration, String name) {
			Objects.requireNonNull(duration, name + " must not be null");
			if (duration.isNegative() || duration.isZero()) {
				throw new IllegalArgumentException(name + " must be positive, was " + duration);
			}
			return duration;
		}

	}

}
