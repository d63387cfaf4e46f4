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

	private SubscribeOptions(Builder builder) {
		this.group = builder.group;
		this.concurrency = builder.concurrency;
		this.maxAttempts = builder.maxAttempts;
		this.backoff = builder.backoff;
		this.lanes = Set.copyOf(builder.lanes);
		this.backpressure = builder.backpressure;
		this.name = builder.name;
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

		public SubscribeOptions build() {
			return new SubscribeOptions(this);
		}

	}

}
