package dev.amb.core.spi;

/**
 * Counts the subscriptions that still have to finish with one message. An in-process backend
 * calls {@link #expect(int)} before it queues the message for that many subscriptions and
 * {@link #done()} as each one acknowledges it (handled, dead-lettered or expired).
 */
public interface DeliveryTracker {

	/**
	 * The message is queued for this many more subscriptions.
	 * @param subscriptions how many, zero included
	 */
	void expect(int subscriptions);

	/** One subscription has finished with the message. */
	void done();

}
