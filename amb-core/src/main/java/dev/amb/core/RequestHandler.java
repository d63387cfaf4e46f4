package dev.amb.core;

/**
 * Answers requests: the returned value is published to the request's reply topic with its
 * correlation id. A null return sends no reply. Failures are retried and dead-lettered like any
 * handler's.
 *
 * @param <T> the request payload type
 * @param <R> the reply payload type
 */
@FunctionalInterface
public interface RequestHandler<T, R> {

	/**
	 * Answers one request.
	 * @param request the request
	 * @return the reply payload, or null for none
	 * @throws Exception to have the request delivered again, or dead-lettered after the last attempt
	 */
	R handle(Message<T> request) throws Exception;

}
