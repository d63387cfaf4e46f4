package dev.amb.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Exponential backoff between delivery attempts of a failing message.
 *
 * @param initial the wait before the second attempt
 * @param multiplier the factor applied to the wait after each further failure
 * @param max the longest wait
 */
public record Backoff(Duration initial, double multiplier, Duration max) {

	/** 100 ms, doubling, at most 5 s. */
	public static final Backoff DEFAULTS = new Backoff(Duration.ofMillis(100), 2.0, Duration.ofSeconds(5));

	/** No wait between attempts. */
	public static final Backoff NONE = new Backoff(Duration.ZERO, 1.0, Duration.ZERO);

	public Backoff {
		Objects.requireNonNull(initial, "initial must not be null");
		Objects.requireNonNull(max, "max must not be null");
		if (initial.isNegative() || max.isNegative()) {
			throw new IllegalArgumentException("backoff durations must not be negative");
		}
		if (multiplier < 1.0) {
			throw new IllegalArgumentException("multiplier must be at least 1, was " + multiplier);
		}
	}

	/**
	 * The wait after the given failed attempt.
	 * @param failedAttempt the attempt that failed, starting at 1
	 * @return the wait before the next attempt
	 */
	public Duration delayAfter(int failedAttempt) {
		double nanos = initial.toNanos() * Math.pow(multiplier, Math.max(0, failedAttempt - 1));
		long capped = (long) Math.min(nanos, max.toNanos());
		return Duration.ofNanos(Math.max(capped, 0));
	}

}
