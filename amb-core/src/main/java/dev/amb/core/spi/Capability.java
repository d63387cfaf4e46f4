package dev.amb.core.spi;

/**
 * What a backend can honour. The contract suite checks each clause a backend claims, and checks
 * that a backend lacking one fails clearly instead of misbehaving.
 */
public enum Capability {

	/** Messages survive a restart of the process (and of the broker, within its own guarantees). */
	DURABLE,

	/** A group's backlog is kept while none of its members is subscribed. */
	DURABLE_GROUPS,

	/** Subscription patterns with {@code *} and {@code #}. */
	WILDCARDS,

	/** Priority lanes, higher first under backlog. */
	PRIORITY,

	/** Messages with the same key and priority keep their publish order within a group. */
	KEY_ORDER,

	/** Publishers are slowed, then the backpressure policy applies, at the subscription queue's bounds. */
	BOUNDED_QUEUES,

	/** A subscription can be paused and resumed. */
	PAUSE

}
