package dev.amb.core.spi;

import java.util.Objects;
import java.util.Set;

import dev.amb.core.Backpressure;
import dev.amb.core.Priority;
import dev.amb.core.TopicPattern;

/**
 * What the bus asks a backend to consume for one subscription.
 *
 * @param id the subscription id, unique in the bus
 * @param pattern the topic or pattern
 * @param group the group, or null for a broadcast subscription
 * @param concurrency the number of workers
 * @param lanes the lanes to consume
 * @param backpressure the queue bounds, or null for the backend's own
 * @param durableName the identity the subscription keeps across restarts, which an in-process
 * backend hands to the {@link DeliveryTracker}; see {@link #durableName(String, String, TopicPattern)}
 */
public record ConsumerSpec(String id, TopicPattern pattern, String group, int concurrency, Set<Priority> lanes,
		Backpressure backpressure, String durableName) {

	public ConsumerSpec {
		Objects.requireNonNull(id, "id must not be null");
		Objects.requireNonNull(pattern, "pattern must not be null");
		Objects.requireNonNull(lanes, "lanes must not be null");
		Objects.requireNonNull(durableName, "durableName must not be null");
		if (concurrency < 1) {
			throw new IllegalArgumentException("concurrency must be at least 1");
		}
	}

	/**
	 * A spec with the durable name its group or pattern gives it.
	 * @param id the subscription id
	 * @param pattern the topic or pattern
	 * @param group the group, or null
	 * @param concurrency the number of workers
	 * @param lanes the lanes to consume
	 * @param backpressure the queue bounds, or null
	 */
	public ConsumerSpec(String id, TopicPattern pattern, String group, int concurrency, Set<Priority> lanes,
			Backpressure backpressure) {
		this(id, pattern, group, concurrency, lanes, backpressure, durableName(group, null, pattern));
	}

	/** @return whether this is a broadcast subscription */
	public boolean isBroadcast() {
		return this.group == null;
	}

	/**
	 * The durable name of a subscription: {@code group:<group>} for a group member (every member of
	 * a group shares it), {@code name:<durableName>} for a broadcast subscription given a durable
	 * name, and {@code pattern:<pattern>} for any other broadcast subscription (shared by every such
	 * subscription on the same pattern).
	 * @param group the group, or null
	 * @param durableName the broadcast subscription's durable name, or null
	 * @param pattern the topic or pattern
	 * @return the durable name
	 */
	public static String durableName(String group, String durableName, TopicPattern pattern) {
		if (group != null) {
			return "group:" + group;
		}
		return (durableName != null) ? "name:" + durableName : "pattern:" + pattern.pattern();
	}

}
