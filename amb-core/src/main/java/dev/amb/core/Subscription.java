package dev.amb.core;

/**
 * A live subscription. Closing it stops delivery after the in-flight messages are handled.
 */
public interface Subscription extends AutoCloseable {

	/** A name unique in this bus, for monitoring. @return the id */
	String id();

	/** The topic or pattern subscribed to. @return the pattern */
	String pattern();

	/** The group, or null for a broadcast subscription. @return the group */
	String group();

	/**
	 * The identity the write-ahead log knows this subscription by across restarts:
	 * {@code group:<group>}, {@code name:<durableName>} or {@code pattern:<pattern>} (see
	 * {@link SubscribeOptions.Builder#durableName(String)}). @return the durable name
	 */
	String durableName();

	/** Stops taking new messages; queued ones wait (and count toward backpressure). */
	void pause();

	/** Takes messages again after {@link #pause()}. */
	void resume();

	/** @return whether the subscription is paused */
	boolean isPaused();

	/** @return whether the subscription is still open */
	boolean isActive();

	/** Stops delivery after the in-flight messages are handled; unhandled ones are not acknowledged. */
	@Override
	void close();

}
