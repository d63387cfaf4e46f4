package dev.amb.core;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * How a subscription consumes: as one member of a group or on its own (broadcast), with how many
 * workers, how many attempts and which backoff before a failing message is dead-lettered, which
 * lanes, and its queue bounds. Immutable; {@link #DEFAULTS} for a broadcast subscription with one
 * worker, three attempts and the backend's backpressure settings.
 */
public final class SubscribeOptions {

	/** Broadcast, one worker, three attempts with the default backoff, every lane. */
	public static final SubscribeOptions DEFAULTS = builder().build();

	private final String group;

	private final int concurrency;

	private final int maxAttempts;

	private final Backoff backoff;

	private final Set<Priority> lanes;

	private final Backpressure backpressure;

	private final String name;

	private final String durableName;

	private SubscribeOptions(Builder builder) {
		this.group = builder.group;
		this.concurrency = builder.concurrency;
		this.maxAttempts = builder.maxAttempts;
		this.backoff = builder.backoff;
		this.lanes = Set.copyOf(builder.lanes);
		this.backpressure = builder.backpressure;
		this.name = builder.name;
		this.durableName = builder.durableName;
	}

	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Options for one member of a group.
	 * @param group the group name
	 * @return the options
	 */
	public static SubscribeOptions group(String group) {
		return builder().group(group).build();
	}

	/** The group, or null for a broadcast subscription that receives every message. @return the group */
	public String getGroup() {
		return this.group;
	}

	public int getConcurrency() {
		return this.concurrency;
	}

	public int getMaxAttempts() {
		return this.maxAttempts;
	}

	public Backoff getBackoff() {
		return this.backoff;
	}

	public Set<Priority> getLanes() {
		return this.lanes;
	}

	/** Queue bounds for this subscription, or null for the backend's own. @return the bounds */
	public Backpressure getBackpressure() {
		return this.backpressure;
	}

	/** A name for monitoring (the listener id), or null to let the bus choose one. @return the name */
	public String getName() {
		return this.name;
	}

	/**
	 * The name a broadcast subscription acknowledges messages under in the write-ahead log, or null
	 * to use its topic pattern. See {@link Builder#durableName(String)}.
	 * @return the durable name
	 */
	public String getDurableName() {
		return this.durableName;
	}

	/**
	 * A builder seeded with these options.
	 * @return the builder
	 */
	public Builder toBuilder() {
		Builder builder = new Builder();
		builder.group = this.group;
		builder.concurrency = this.concurrency;
		builder.maxAttempts = this.maxAttempts;
		builder.backoff = this.backoff;
		builder.lanes = EnumSet.copyOf(this.lanes);
		builder.backpressure = this.backpressure;
		builder.name = this.name;
		builder.durableName = this.durableName;
		return builder;
	}

	/**
	 * Builds {@link SubscribeOptions}.
	 */
	public static final class Builder {

		private String group;

		private int concurrency = 1;

		private int maxAttempts = 3;

		private Backoff backoff = Backoff.DEFAULTS;

		private Set<Priority> lanes = EnumSet.allOf(Priority.class);

		private Backpressure backpressure;

		private String name;

		private String durableName;

		private Builder() {
		}

		/** Subscriptions sharing a group share the stream: each message goes to one member. */
		public Builder group(String group) {
			if (group != null) {
				if (group.isBlank()) {
					throw new IllegalArgumentException("group must not be blank; use null for a broadcast subscription");
				}
				Topics.validateTopic(group);
			}
			this.group = group;
			return this;
		}

		public Builder concurrency(int concurrency) {
			if (concurrency < 1) {
				throw new IllegalArgumentException("concurrency must be at least 1, was " + concurrency);
			}
			this.concurrency = concurrency;
			return this;
		}

		/** Deliveries of one message before it goes to the dead-letter topic, the first one included. */
		public Builder maxAttempts(int maxAttempts) {
			if (maxAttempts < 1) {
				throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
			}
			this.maxAttempts = maxAttempts;
			return this;
		}

		public Builder backoff(Backoff backoff) {
			this.backoff = Objects.requireNonNull(backoff, "backoff must not be null");
			return this;
		}

		/** Consume only these lanes; every lane by default. */
		public Builder lanes(Set<Priority> lanes) {
			if (lanes == null || lanes.isEmpty()) {
				throw new IllegalArgumentException("lanes must name at least one priority");
			}
			this.lanes = EnumSet.copyOf(lanes);
			return this;
		}

		public Builder backpressure(Backpressure backpressure) {
			this.backpressure = backpressure;
			return this;
		}

		public Builder name(String name) {
			this.name = name;
			return this;
		}

		/**
		 * The identity a broadcast subscription keeps across restarts in the write-ahead log: the log
		 * records which durable names each message was meant for and which acknowledged it, and after
		 * a crash replays a message only to the durable names that had not. It must stay the same from
		 * one run to the next and differ between broadcast subscriptions that should each get every
		 * message. Without one, a broadcast subscription's durable name comes from its topic pattern,
		 * shared by every unnamed broadcast subscription on that pattern. A group subscription's
		 * durable name is its group, so this is for broadcast subscriptions only. At most
		 * {@value Topics#MAX_LENGTH} characters, not blank, no control characters.
		 */
		public Builder durableName(String durableName) {
			if (durableName != null) {
				String problem = null;
				if (durableName.isBlank()) {
					problem = "it is blank";
				}
				else if (durableName.length() > Topics.MAX_LENGTH) {
					problem = "it is longer than " + Topics.MAX_LENGTH + " characters";
				}
				else if (durableName.chars().anyMatch(Character::isISOControl)) {
					problem = "it contains a control character";
				}
				if (problem != null) {
					throw new IllegalArgumentException("durableName '" + durableName + "' is not valid: " + problem);
				}
			}
			this.durableName = durableName;
			return this;
		}

		public SubscribeOptions build() {
			if (this.group != null && this.durableName != null) {
				throw new IllegalArgumentException("durableName '" + this.durableName + "' is for broadcast subscriptions; "
						+ "a member of group '" + this.group + "' acknowledges under its group's name");
			}
			return new SubscribeOptions(this);
		}

	}

}
