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
 */
public record ConsumerSpec(String id, TopicPattern pattern, String group, int concurrency, Set<Priority> lanes,
		Backpressure backpressure) {

	public ConsumerSpec {
		Objects.requireNonNull(id, "id must not be null");
		Objects.requireNonNull(pattern, "pattern must not be null");
		Objects.requireNonNull(lanes, "lanes must not be null");
		if (concurrency < 1) {
			throw new IllegalArgumentException("concurrency must be at least 1");
		}
	}

	/** @return whether this is a broadcast subscription */
	public boolean isBroadcast() {
		return this.group == null;
	}

}
