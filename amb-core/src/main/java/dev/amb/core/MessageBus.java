package dev.amb.core;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.amb.core.spi.BrokerAdapter;

/**
 * Publish/subscribe between agents over a pluggable backend.
 * <p>
 * Every backend honours the same contract: a payload reaches its subscribers intact; subscriptions
 * without a group each get every message, subscriptions sharing a group share the stream;
 * messages with the same key and priority keep their order; higher lanes go first; a failing
 * message is retried with backoff then dead-lettered; expired messages are not delivered; and
 * memory stays bounded. A backend that cannot honour a clause says so through its
 * {@link BrokerAdapter#capabilities() capabilities}.
 */
public interface MessageBus extends AutoCloseable {

	/**
	 * A builder for the default implementation.
	 * @return the builder
	 */
	static DefaultMessageBus.Builder builder() {
		return DefaultMessageBus.builder();
	}

	/**
	 * Publishes a payload with default options.
	 * @param topic the topic
	 * @param payload the payload: a record or bean, a map, a string or bytes; not null
	 * @return completes with the message id once the backend (or the write-ahead log) has the message
	 * @throws InvalidTopicException if the topic is not valid
	 * @throws InvalidMessageException if the payload is null
	 * @throws MessageTooLargeException if the encoded payload is over the limit
	 */
	default CompletableFuture<UUID> publish(String topic, Object payload) {
		return publish(topic, payload, PublishOptions.DEFAULTS);
	}

	/**
	 * Publishes a payload.
	 * @param topic the topic
	 * @param payload the payload; not null
	 * @param options key, priority, headers, time to live
	 * @return completes with the message id once the backend (or the write-ahead log) has the
	 * message; fails with {@link BackpressureException} if the policy refused it
	 */
	CompletableFuture<UUID> publish(String topic, Object payload, PublishOptions options);

	/**
	 * Subscribes a handler with default options.
	 * @param <T> the payload type
	 * @param pattern a topic, or a pattern with {@code *} and {@code #}
	 * @param payloadType the type to read payloads into
	 * @param handler the handler
	 * @return the subscription
	 */
	default <T> Subscription subscribe(String pattern, Class<T> payloadType, MessageHandler<T> handler) {
		return subscribe(pattern, payloadType, handler, SubscribeOptions.DEFAULTS);
	}

	/**
	 * Subscribes a handler.
	 * @param <T> the payload type
	 * @param pattern a topic, or a pattern with {@code *} and {@code #}
	 * @param payloadType the type to read payloads into
	 * @param handler the handler
	 * @param options group, concurrency, attempts, backoff, lanes
	 * @return the subscription
	 */
	default <T> Subscription subscribe(String pattern, Class<T> payloadType, MessageHandler<T> handler,
			SubscribeOptions options) {
		return subscribe(pattern, (Type) payloadType, handler, options);
	}

	/**
	 * Subscribes a handler, reading payloads into a generic type such as {@code List<Task>}.
	 * @param <T> the payload type
	 * @param pattern a topic, or a pattern with {@code *} and {@code #}
	 * @param payloadType the type to read payloads into
	 * @param handler the handler
	 * @param options group, concurrency, attempts, backoff, lanes
	 * @return the subscription
	 */
	<T> Subscription subscribe(String pattern, Type payloadType, MessageHandler<T> handler, SubscribeOptions options);

	/**
	 * Subscribes a handler whose return value answers requests.
	 * @param <T> the request payload type
	 * @param <R> the reply payload type
	 * @param pattern a topic, or a pattern
	 * @param payloadType the type to read requests into
	 * @param handler the handler
	 * @param options group, concurrency, attempts, backoff, lanes
	 * @return the subscription
	 */
	default <T, R> Subscription respond(String pattern, Class<T> payloadType, RequestHandler<T, R> handler,
			SubscribeOptions options) {
		return respond(pattern, (Type) payloadType, handler, options);
	}

	/**
	 * Subscribes a handler whose return value answers requests, reading payloads into a generic type.
	 * @param <T> the request payload type
	 * @param <R> the reply payload type
	 * @param pattern a topic, or a pattern
	 * @param payloadType the type to read requests into
	 * @param handler the handler
	 * @param options group, concurrency, attempts, backoff, lanes
	 * @return the subscription
	 */
	<T, R> Subscription respond(String pattern, Type payloadType, RequestHandler<T, R> handler,
			SubscribeOptions options);

	/**
	 * Sends a request and waits, without blocking a thread, for its reply.
	 * @param <R> the reply type
	 * @param topic the topic
	 * @param payload the request payload
	 * @param replyType the type to read the reply into
	 * @param timeout how long to wait for the reply
	 * @return completes with the reply payload, or fails with {@link RequestTimeoutException}
	 */
	default <R> CompletableFuture<R> request(String topic, Object payload, Class<R> replyType, Duration timeout) {
		return request(topic, payload, replyType, timeout, PublishOptions.DEFAULTS);
	}

	/**
	 * Sends a request and waits, without blocking a thread, for its reply.
	 * @param <R> the reply type
	 * @param topic the topic
	 * @param payload the request payload
	 * @param replyType the type to read the reply into
	 * @param timeout how long to wait for the reply
	 * @param options key, priority, headers (reply-to and correlation id are set by the bus)
	 * @return completes with the reply payload, or fails with {@link RequestTimeoutException}
	 */
	<R> CompletableFuture<R> request(String topic, Object payload, Class<R> replyType, Duration timeout,
			PublishOptions options);

	/**
	 * Closes the bus: stops taking publishes, drains in-flight handlers, closes the backend.
	 */
	@Override
	void close();

}
