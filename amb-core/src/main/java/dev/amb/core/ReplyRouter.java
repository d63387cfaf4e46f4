package dev.amb.core;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.amb.core.spi.Envelope;

/**
 * Request/reply: each bus has its own reply topic, and each request waits for the reply carrying
 * its correlation id, so a reply reaches only its requester. A reply that arrives after its
 * request timed out is logged and dropped.
 */
final class ReplyRouter {

	private static final System.Logger logger = System.getLogger(ReplyRouter.class.getName());

	private final DefaultMessageBus bus;

	private final String replyTopic;

	private final ConcurrentHashMap<String, CompletableFuture<Envelope>> pending = new ConcurrentHashMap<>();

	private volatile Subscription subscription;

	ReplyRouter(DefaultMessageBus bus, String replyTopic) {
		this.bus = bus;
		this.replyTopic = replyTopic;
	}

	<R> CompletableFuture<R> request(String topic, Object payload, Class<R> replyType, Duration timeout,
			PublishOptions options) {
		ensureSubscribed();
		String correlationId = UUID.randomUUID().toString();
		CompletableFuture<Envelope> reply = new CompletableFuture<>();
		this.pending.put(correlationId, reply);
		try {
			this.bus.publishValidated(topic, payload, options, correlationId, this.replyTopic)
				.whenComplete((id, failure) -> {
					if (failure != null) {
						fail(correlationId, failure);
					}
				});
		}
		catch (RuntimeException ex) {
			this.pending.remove(correlationId);
			throw ex;
		}
		// Async: the caller's continuations must not run on the reply worker (a continuation waiting
		// for another reply would wait for itself) nor on the JDK's single timeout thread.
		return reply.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).handleAsync((envelope, failure) -> {
			this.pending.remove(correlationId);
			if (failure != null) {
				Throwable cause = (failure instanceof CompletionException) ? failure.getCause() : failure;
				if (cause instanceof TimeoutException) {
					this.bus.counters().requestTimeouts.increment();
					throw new RequestTimeoutException("No reply to the request on '" + topic + "' within " + timeout
							+ " (correlation id " + correlationId + ")");
				}
				throw (cause instanceof RuntimeException runtime) ? runtime : new CompletionException(cause);
			}
			return replyType.cast(this.bus.codec().decode(envelope.payload(), envelope.contentType(), replyType));
		});
	}

	private void fail(String correlationId, Throwable failure) {
		CompletableFuture<Envelope> reply = this.pending.remove(correlationId);
		if (reply != null) {
			reply.completeExceptionally(failure);
		}
	}

	private void ensureSubscribed() {
		if (this.subscription == null) {
			synchronized (this) {
				if (this.subscription == null) {
					this.subscription = this.bus.register(this.replyTopic, SubscriptionDispatcher.RAW_ENVELOPE,
							this::onReply, SubscribeOptions.builder().name(this.replyTopic).maxAttempts(1).build());
				}
			}
		}
	}

	private Object onReply(Message<Object> message) {
		Envelope envelope = (Envelope) message.getPayload();
		String correlationId = envelope.correlationId();
		CompletableFuture<Envelope> reply = (correlationId != null) ? this.pending.get(correlationId) : null;
		if (reply == null) {
			logger.log(System.Logger.Level.INFO,
					() -> "Reply " + envelope + " matches no waiting request: it came after its request timed out");
			return null;
		}
		reply.complete(envelope);
		return null;
	}

	void close() {
		this.pending.forEach((correlationId, reply) -> reply
			.completeExceptionally(new BusClosedException("The message bus closed before the reply arrived")));
		this.pending.clear();
	}

}
