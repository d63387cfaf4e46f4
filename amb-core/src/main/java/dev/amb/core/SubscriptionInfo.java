package dev.amb.core;

import dev.amb.core.spi.ConsumerState;

/**
 * A snapshot of one subscription, for health and monitoring.
 *
 * @param id the subscription id
 * @param pattern the topic or pattern
 * @param group the group, or null for broadcast
 * @param concurrency the number of workers
 * @param maxAttempts deliveries before dead-lettering
 * @param state the backend's view: lane depths, capacity, in-flight, paused
 */
public record SubscriptionInfo(String id, String pattern, String group, int concurrency, int maxAttempts,
		ConsumerState state) {

}
