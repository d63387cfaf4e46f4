package dev.amb.core.spi;

/**
 * Follows one message through an in-process backend's queues, by the queues' durable names
 * ({@link ConsumerSpec#durableName()}; a group's members share one queue and one name). The backend
 * calls {@link #expect(String)} before it queues the message for a queue, and then exactly one of
 * {@link #done(String)} (handled, dead-lettered, expired or dropped) or {@link #refused(String)}
 * (backpressure, an interrupted publisher) for each queue it was queued for or refused by.
 */
public interface DeliveryTracker {

	/**
	 * The message is about to be queued for a queue.
	 * @param durableName the queue's durable name
	 * @return whether to queue it there; false skips that queue (a replay goes only to the
	 * subscriptions that had not finished with the message)
	 */
	boolean expect(String durableName);

	/**
	 * A queue has finished with the message.
	 * @param durableName the queue's durable name
	 */
	void done(String durableName);

	/**
	 * A queue did not take the message it was about to get; the send fails.
	 * @param durableName the queue's durable name
	 */
	void refused(String durableName);

}
