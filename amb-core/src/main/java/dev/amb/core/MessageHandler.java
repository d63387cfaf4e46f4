package dev.amb.core;

/**
 * Handles the messages of a subscription. A handler that throws gets the message again, with
 * backoff, up to the subscription's maximum attempts; then the message goes to the dead-letter
 * topic.
 *
 * @param <T> the payload type
 */
@FunctionalInterface
public interface MessageHandler<T> {

	/**
	 * Handles one message.
	 * @param message the message
	 * @throws Exception to have the message delivered again, or dead-lettered after the last attempt
	 */
	void handle(Message<T> message) throws Exception;

}
