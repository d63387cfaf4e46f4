package dev.amb.core.spi;

import dev.amb.core.Message;

/**
 * Wraps each handler invocation, on the consumer thread: for timing, tracing or logging.
 */
@FunctionalInterface
public interface DeliveryInterceptor {

	/**
	 * Invokes the handler, or the next interceptor.
	 * @param message the message
	 * @param subscriptionId the subscription handling it
	 * @param invocation the rest of the chain
	 * @return the handler's result (a reply payload, or null)
	 * @throws Exception what the handler threw
	 */
	Object aroundDelivery(Message<?> message, String subscriptionId, Invocation invocation) throws Exception;

	/**
	 * The rest of the chain.
	 */
	@FunctionalInterface
	interface Invocation {

		/**
		 * Proceeds.
		 * @return the handler's result
		 * @throws Exception what the handler threw
		 */
		Object proceed() throws Exception;

	}

}
