package dev.amb.core.spi;

import java.util.Map;

/**
 * Sees each publish before it is encoded, on the publishing thread: adds headers (trace
 * context, for example) and learns when the publish completes. Only called when registered, so
 * the publish path allocates nothing for it otherwise.
 */
@FunctionalInterface
public interface PublishInterceptor {

	/**
	 * Called before the message is encoded.
	 * @param topic the topic
	 * @param headers the message's application headers, which may be added to
	 * @return called when the publish completes, or null
	 */
	Completion beforePublish(String topic, Map<String, String> headers);

	/**
	 * Learns how a publish ended.
	 */
	@FunctionalInterface
	interface Completion {

		/**
		 * The publish completed.
		 * @param failure why it failed, or null on success
		 */
		void onComplete(Throwable failure);

	}

}
