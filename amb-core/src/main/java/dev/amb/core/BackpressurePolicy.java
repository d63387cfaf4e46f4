package dev.amb.core;

/**
 * What a publisher experiences when a subscription's queue is at capacity.
 */
public enum BackpressurePolicy {

	/** The publisher waits for room, up to the block timeout, then fails with {@link BackpressureException}. */
	BLOCK,

	/** The publish fails at once with {@link BackpressureException}. */
	REJECT,

	/** The oldest waiting message of the lowest non-empty lane is dropped (and counted) to make room. */
	DROP_OLDEST

}
