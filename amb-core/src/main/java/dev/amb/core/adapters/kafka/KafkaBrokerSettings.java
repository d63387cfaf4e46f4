package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * AMB's own Kafka settings ({@code amb.kafka.*}); the connection and client settings come from
 * the producer, consumer and admin properties ({@code spring.kafka.*}). Immutable; see
 * {@link #builder()} for the defaults.
 * <p>
 * Kafka topic names: {@code <topicPrefix><topic>} for the normal lane,
 * {@code <topicPrefix><topic><highLaneSuffix>} and {@code <topicPrefix><topic><lowLaneSuffix>} for
 * the high and low lanes. The default suffixes {@code ..high} and {@code ..low} contain an empty
 * segment, which no AMB topic can have, so a lane topic never collides with another AMB topic.
 */
public final class KafkaBrokerSettings {

	/** The defaults listed on {@link Builder}. */
	public static final KafkaBrokerSettings DEFAULTS = builder().build();

	private final String topicPrefix;

	private final String highLaneSuffix;

	private final String lowLaneSuffix;

	private final String groupPrefix;

	private final int partitions;

	private final short replicationFactor;

	private final Duration pollTimeout;

	private final Duration linger;

	private final int batchSize;

	private final int starvationBound;

	private final Duration metadataMaxAge;

	private final Duration operationTimeout;

	private final Duration subscribeTimeout;

	private final Duration healthTimeout;

	private final boolean deleteBroadcastGroups;

	private KafkaBrokerSettings(Builder builder) {
		this.topicPrefix = builder.topicPrefix;
		this.highLaneSuffix = builder.highLaneSuffix;
		this.lowLaneSuffix = builder.lowLaneSuffix;
		this.groupPrefix = builder.groupPrefix;
		this.partitions = builder.partitions;
		this.replicationFactor = builder.replicationFactor;
		this.pollTimeout = builder.pollTimeout;
		this.linger = builder.linger;
		this.batchSize = builder.batchSize;
		this.starvationBound = builder.starvationBound;
		this.metadataMaxAge = builder.metadataMaxAge;
		this.operationTimeout = builder.operationTimeout;
		this.subscribeTimeout = builder.subscribeTimeout;
		this.healthTimeout = builder.healthTimeout;
		this.deleteBroadcastGroups = builder.deleteBroadcastGroups;
		if (this.highLaneSuffix.equals(this.lowLaneSuffix)) {
			throw new IllegalArgumentException("highLaneSuffix and lowLaneSuffix must differ, both are '"
					+ this.highLaneSuffix + "'");
		}
	}

	/** @return a builder with the defaults */
	public static Builder builder() {
		return new Builder();
	}

	/** @return a builder seeded with these settings */
	public Builder toBuilder() {
		return new Builder().topicPrefix(this.topicPrefix)
			.highLaneSuffix(this.highLaneSuffix)
			.lowLaneSuffix(this.lowLaneSuffix)
			.groupPrefix(this.groupPrefix)
			.partitions(this.partitions)
			.replicationFactor(this.replicationFactor)
			.pollTimeout(this.pollTimeout)
			.linger(this.linger)
			.batchSize(this.batchSize)
			.starvationBound(this.starvationBound)
			.metadataMaxAge(this.metadataMaxAge)
			.operationTimeout(this.operationTimeout)
			.subscribeTimeout(this.subscribeTimeout)
			.healthTimeout(this.healthTimeout)
			.deleteBroadcastGroups(this.deleteBroadcastGroups);
	}

	/** @return the prefix of every Kafka topic AMB uses */
	public String getTopicPrefix() {
		return this.topicPrefix;
	}

	/** @return the suffix of a topic's high-lane Kafka topic */
	public String getHighLaneSuffix() {
		return this.highLaneSuffix;
	}

	/** @return the suffix of a topic's low-lane Kafka topic */
	public String getLowLaneSuffix() {
		return this.lowLaneSuffix;
	}

	/** @return the prefix of every consumer group id AMB uses */
	public String getGroupPrefix() {
		return this.groupPrefix;
	}

	/** @return the partitions of each topic AMB creates */
	public int getPartitions() {
		return this.partitions;
	}

	/** @return the replication factor of each topic AMB creates */
	public short getReplicationFactor() {
		return this.replicationFactor;
	}

	/** @return the longest a consumer waits in one poll */
	public Duration getPollTimeout() {
		return this.pollTimeout;
	}

	/** @return the producer's {@code linger.ms} unless the producer properties set it */
	public Duration getLinger() {
		return this.linger;
	}

	/** @return the producer's {@code batch.size} unless the producer properties set it */
	public int getBatchSize() {
		return this.batchSize;
	}

	/** @return consecutive polls that may defer a waiting lower lane before it gets a turn */
	public int getStarvationBound() {
		return this.starvationBound;
	}

	/** @return how often a wildcard subscription looks for new matching topics */
	public Duration getMetadataMaxAge() {
		return this.metadataMaxAge;
	}

	/** @return how long an admin operation (topic creation, describe) may take */
	public Duration getOperationTimeout() {
		return this.operationTimeout;
	}

	/** @return how long subscribing waits for the consumers' partition assignment */
	public Duration getSubscribeTimeout() {
		return this.subscribeTimeout;
	}

	/** @return how long a health check waits for the cluster to answer */
	public Duration getHealthTimeout() {
		return this.healthTimeout;
	}

	/** @return whether closing a broadcast subscription deletes its (single-use) consumer group */
	public boolean isDeleteBroadcastGroups() {
		return this.deleteBroadcastGroups;
	}

	/**
	 * Builds {@link KafkaBrokerSettings}. Property names under {@code amb.kafka.} are the method
	 * names in kebab case ({@code topic-prefix}, {@code high-lane-suffix}, ...).
	 */
	public static final class Builder {

		private String topicPrefix = "";

		private String highLaneSuffix = "..high";

		private String lowLaneSuffix = "..low";

		private String groupPrefix = "amb.";

		private int partitions = 4;

		private short replicationFactor = 1;

		private Duration pollTimeout = Duration.ofMillis(100);

		private Duration linger = Duration.ofMillis(5);

		private int batchSize = 64 * 1024;

		private int starvationBound = 16;

		private Duration metadataMaxAge = Duration.ofSeconds(1);

		private Duration operationTimeout = Duration.ofSeconds(30);

		private Duration subscribeTimeout = Duration.ofSeconds(60);

		private Duration healthTimeout = Duration.ofSeconds(2);

		private boolean deleteBroadcastGroups = true;

		private Builder() {
		}

		/** Prefix of every Kafka topic AMB uses; empty by default. */
		public Builder topicPrefix(String topicPrefix) {
			this.topicPrefix = checkTopicChars(Objects.requireNonNull(topicPrefix, "topicPrefix must not be null"),
					"topicPrefix", true);
			return this;
		}

		/** Suffix of the high lane's Kafka topic; {@code ..high} by default. */
		public Builder highLaneSuffix(String highLaneSuffix) {
			this.highLaneSuffix = checkTopicChars(highLaneSuffix, "highLaneSuffix", false);
			return this;
		}

		/** Suffix of the low lane's Kafka topic; {@code ..low} by default. */
		public Builder lowLaneSuffix(String lowLaneSuffix) {
			this.lowLaneSuffix = checkTopicChars(lowLaneSuffix, "lowLaneSuffix", false);
			return this;
		}

		/** Prefix of the consumer group ids; {@code amb.} by default. */
		public Builder groupPrefix(String groupPrefix) {
			this.groupPrefix = Objects.requireNonNull(groupPrefix, "groupPrefix must not be null");
			return this;
		}

		/** Partitions of the topics AMB creates: the most members of a group that work at once; 4 by default. */
		public Builder partitions(int partitions) {
			if (partitions < 1) {
				throw new IllegalArgumentException("partitions must be at least 1, was " + partitions);
			}
			this.partitions = partitions;
			return this;
		}

		/** Replication factor of the topics AMB creates; 1 by default (use 3 on a production cluster). */
		public Builder replicationFactor(int replicationFactor) {
			if (replicationFactor < 1 || replicationFactor > Short.MAX_VALUE) {
				throw new IllegalArgumentException("replicationFactor must be at least 1, was " + replicationFactor);
			}
			this.replicationFactor = (short) replicationFactor;
			return this;
		}

		/** Longest wait of one poll, which is also how quickly pause and close take effect; 100 ms by default. */
		public Builder pollTimeout(Duration pollTimeout) {
			this.pollTimeout = positive(pollTimeout, "pollTimeout");
			return this;
		}

		/** Producer {@code linger.ms} where the producer properties set none; 5 ms by default. */
		public Builder linger(Duration linger) {
			Objects.requireNonNull(linger, "linger must not be null");
			if (linger.isNegative()) {
				throw new IllegalArgumentException("linger must not be negative, was " + linger);
			}
			this.linger = linger;
			return this;
		}

		/** Producer {@code batch.size} where the producer properties set none; 64 KiB by default. */
		public Builder batchSize(int batchSize) {
			if (batchSize < 0) {
				throw new IllegalArgumentException("batchSize must not be negative, was " + batchSize);
			}
			this.batchSize = batchSize;
			return this;
		}

		/** Polls in a row that may defer a waiting lower lane before it is served; 16 by default. */
		public Builder starvationBound(int starvationBound) {
			if (starvationBound < 1) {
				throw new IllegalArgumentException("starvationBound must be at least 1, was " + starvationBound);
			}
			this.starvationBound = starvationBound;
			return this;
		}

		/** How often wildcard subscriptions look for new topics ({@code metadata.max.age.ms}); 1 s by default. */
		public Builder metadataMaxAge(Duration metadataMaxAge) {
			this.metadataMaxAge = positive(metadataMaxAge, "metadataMaxAge");
			return this;
		}

		/** Longest an admin operation such as creating a topic may take; 30 s by default. */
		public Builder operationTimeout(Duration operationTimeout) {
			this.operationTimeout = positive(operationTimeout, "operationTimeout");
			return this;
		}

		/** Longest subscribing waits for the partition assignment; 60 s by default. */
		public Builder subscribeTimeout(Duration subscribeTimeout) {
			this.subscribeTimeout = positive(subscribeTimeout, "subscribeTimeout");
			return this;
		}

		/** Longest a health check waits for the cluster; 2 s by default. */
		public Builder healthTimeout(Duration healthTimeout) {
			this.healthTimeout = positive(healthTimeout, "healthTimeout");
			return this;
		}

		/** Whether closing a broadcast subscription deletes its single-use consumer group; true by default. */
		public Builder deleteBroadcastGroups(boolean deleteBroadcastGroups) {
			this.deleteBroadcastGroups = deleteBroadcastGroups;
			return this;
		}

		/** @return the settings */
		public KafkaBrokerSettings build() {
			return new KafkaBrokerSettings(this);
		}

		private static Duration positive(Duration duration, String name) {
			Objects.requireNonNull(duration, name + " must not be null");
			if (duration.isNegative() || duration.isZero()) {
				throw new IllegalArgumentException(name + " must be positive, was " + duration);
			}
			return duration;
		}

		private static String checkTopicChars(String value, String name, boolean emptyAllowed) {
			Objects.requireNonNull(value, name + " must not be null");
			if (value.isEmpty() && !emptyAllowed) {
				throw new IllegalArgumentException(name + " must not be empty");
			}
			for (int i = 0; i < value.length(); i++) {
				char c = value.charAt(i);
				boolean legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
						|| c == '_' || c == '-';
				if (!legal) {
					throw new IllegalArgumentException(name + " '" + value + "' has the character '" + c
							+ "', which Kafka topic names do not allow; use letters, digits, '.', '_' and '-'");
				}
			}
			return value;
		}

	}

}
