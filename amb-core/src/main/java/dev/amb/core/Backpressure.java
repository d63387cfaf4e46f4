package dev.amb.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Bounds on a subscription's queue and what happens at them.
 *
 * @param maxQueueSize the most messages a subscription may hold waiting, across its lanes
 * @param threshold the fill ratio (0 to 1) above which publishers are slowed
 * @param policy what happens at capacity
 * @param blockTimeout how long a publisher waits for room under {@link BackpressurePolicy#BLOCK}
 */
public record Backpressure(int maxQueueSize, double threshold, BackpressurePolicy policy, Duration blockTimeout) {

	/** The defaults of the seed: 10,000 messages, slowing publishers at 80%, blocking up to 5 s at capacity. */
	public static final Backpressure DEFAULTS = new Backpressure(10_000, 0.8, BackpressurePolicy.BLOCK,
			Duration.ofSeconds(5));

	public Backpressure {
		if (maxQueueSize < 1) {
			throw new IllegalArgumentException("maxQueueSize must be at least 1, was " + maxQueueSize);
		}
		if (!(threshold > 0 && threshold <= 1)) {
			throw new IllegalArgumentException("threshold must be in (0, 1], was " + threshold);
		}
		Objects.requireNonNull(policy, "policy must not be null");
		Objects.requireNonNull(blockTimeout, "blockTimeout must not be null");
		if (blockTimeout.isNegative()) {
			throw new IllegalArgumentException("blockTimeout must not be negative, was " + blockTimeout);
		}
	}

	/**
	 * The queue depth above which publishers are slowed.
	 * @return the threshold depth
	 */
	public int thresholdDepth() {
		return (int) Math.min(maxQueueSize, Math.ceil(maxQueueSize * threshold));
	}

}
