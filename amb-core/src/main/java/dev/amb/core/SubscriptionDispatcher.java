package dev.amb.core;

import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.PayloadDecodingException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.DeliveryInterceptor;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * The failure pipeline every backend shares, for one subscription: expiry, decoding, the handler
 * with retries and backoff, replies, and the dead-letter topic.
 */
final class SubscriptionDispatcher implements DeliveryHandler {

	private static final System.Logger logger = System.getLogger(SubscriptionDispatcher.class.getName());

	/** The payload type under which the bus's own subscriptions get the envelope itself, undecoded. */
	static final Type RAW_ENVELOPE = Envelope.class;

	private final DefaultMessageBus bus;

	private final String subscriptionId;

	private final String deadLetterOwner;

	private final Type payloadType;

	private final RequestHandler<Object, Object> handler;

	private final int maxAttempts;

	private final Backoff backoff;

	private final PayloadCodec codec;

	private final BusCounters counters;

	private final List<DeliveryInterceptor> interceptors;

	private volatile boolean stopping;

	SubscriptionDispatcher(DefaultMessageBus bus, String subscriptionId, String group, Type payloadType,
			RequestHandler<Object, Object> handler, SubscribeOptions options) {
		this.bus = bus;
		this.subscriptionId = subscriptionId;
		this.deadLetterOwner = (group != null) ? group : subscriptionId;
		this.payloadType = payloadType;
		this.handler = handler;
		this.maxAttempts = options.getMaxAttempts();
		this.backoff = options.getBackoff();
		this.codec = bus.codec();
		this.counters = bus.counters();
		this.interceptors = bus.deliveryInterceptors();
	}

	/** No more retries or backoff waits: what is not handled now is left unacknowledged. */
	void stop() {
		this.stopping = true;
	}

	@Override
	public Disposition deliver(Envelope envelope) {
		try {
			return process(envelope);
		}
		catch (Throwable ex) {
			// The pipeline itself failed (not the handler): leave it for redelivery, keep the worker alive.
			logger.log(System.Logger.Level.ERROR, "Subscription '" + this.subscriptionId + "' could not process "
					+ envelope + "; it stays unacknowledged", ex);
			return Disposition.REQUEUE;
		}
	}

	private Disposition process(Envelope envelope) {
		if (envelope.expiresAt() != 0 && envelope.isExpired(System.currentTimeMillis())) {
			this.counters.expired.increment();
			return Disposition.ACK;
		}
		Object payload;
		try {
			payload = (this.payloadType == RAW_ENVELOPE) ? envelope
					: this.codec.decode(envelope.payload(), envelope.contentType(), this.payloadType);
		}
		catch (RuntimeException ex) {
			// Whatever a codec throws, the same bytes will fail the same way: dead-letter them rather
			// than leave them to be redelivered ahead of everything behind them, forever.
			this.counters.undecodable.increment();
			return deadLetter(envelope, "undecodable payload: " + describeDecoding(ex), ex, 0);
		}
		Throwable lastFailure = null;
		for (int attempt = 1; attempt <= this.maxAttempts; attempt++) {
			if (attempt > 1) {
				if (this.stopping || !pause(this.backoff.delayAfter(attempt - 1))) {
					return Disposition.REQUEUE;
				}
				this.counters.retried.increment();
			}
			Message<Object> message = toMessage(envelope, payload, attempt);
			Object reply;
			try {
				reply = invoke(message);
			}
			catch (Throwable ex) {
				if (this.stopping && interruptedBy(ex)) {
					// Interrupted by the close after the drain timeout: shutdown is not the handler's
					// failure, so the message stays unacknowledged instead of being dead-lettered.
					return Disposition.REQUEUE;
				}
				this.counters.failed.increment();
				lastFailure = ex;
				logger.log(System.Logger.Level.DEBUG, () -> "Attempt " + message.getDeliveryAttempt() + " of "
						+ this.maxAttempts + " failed for " + message + " in '" + this.subscriptionId + "'", ex);
				continue;
			}
			this.counters.delivered.increment();
			if (reply != null && envelope.replyTo() != null) {
				reply(envelope, reply);
			}
			return Disposition.ACK;
		}
		return deadLetter(envelope, "handler failed " + this.maxAttempts + " time(s): " + describe(lastFailure),
				lastFailure, this.maxAttempts);
	}

	/**
	 * Sends a handler's reply. The request was handled, so a reply that cannot be sent (too large,
	 * not encodable, a reply-to that is not a topic) is logged, and the handler is not run again.
	 */
	private void reply(Envelope request, Object reply) {
		try {
			Topics.validateTopic(request.replyTo());
			this.bus.sendReply(request, reply);
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "Subscription '" + this.subscriptionId + "' handled " + request
					+ " but could not send its reply to '" + request.replyTo() + "'; the requester will time out", ex);
		}
	}

	private Object invoke(Message<Object> message) throws Exception {
		if (this.interceptors.isEmpty()) {
			return this.handler.handle(message);
		}
		return invoke(message, 0);
	}

	private Object invoke(Message<Object> message, int index) throws Exception {
		if (index == this.interceptors.size()) {
			return this.handler.handle(message);
		}
		return this.interceptors.get(index)
			.aroundDelivery(message, this.subscriptionId, () -> invoke(message, index + 1));
	}

	private Disposition deadLetter(Envelope envelope, String reason, Throwable failure, int attempts) {
		if (Topics.isDeadLetterTopic(envelope.topic())) {
			this.bus.recordDeadLetterLoss();
			logger.log(System.Logger.Level.ERROR, "Handler of dead-letter topic '" + envelope.topic() + "' gave up on "
					+ envelope + " (" + reason + "); it is not dead-lettered again");
			return Disposition.ACK;
		}
		Map<String, String> headers = new LinkedHashMap<>(envelope.headers());
		headers.put(WireHeaders.DLQ_REASON, reason);
		if (failure != null) {
			headers.put(WireHeaders.DLQ_EXCEPTION, failure.getClass().getName());
		}
		headers.put(WireHeaders.DLQ_ATTEMPTS, Integer.toString(attempts));
		headers.put(WireHeaders.DLQ_ORIGINAL_TOPIC, envelope.topic());
		headers.put(WireHeaders.DLQ_SUBSCRIPTION, this.deadLetterOwner);
		headers.put(WireHeaders.DLQ_TIME, Instant.now().toString());
		Envelope deadLetter = envelope.withTopicAndHeaders(Topics.deadLetterTopic(envelope.topic()), headers);
		try {
			this.bus.sendDeadLetter(deadLetter).get(30, TimeUnit.SECONDS);
			this.counters.deadLettered.increment();
			logger.log(System.Logger.Level.WARNING, () -> "Dead-lettered " + envelope + " to '" + deadLetter.topic()
					+ "': " + reason);
			return Disposition.ACK;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return Disposition.REQUEUE;
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.ERROR, "Could not dead-letter " + envelope + " to '" + deadLetter.topic()
					+ "'; it stays unacknowledged for redelivery", ex);
			return Disposition.REQUEUE;
		}
	}

	private static Message<Object> toMessage(Envelope envelope, Object payload, int attempt) {
		return new Message<>(envelope.id(), envelope.topic(), payload, envelope.headers(), envelope.key(),
				envelope.priority(), envelope.timestamp(), envelope.source(), envelope.correlationId(),
				envelope.replyTo(), envelope.expiresAt(), attempt);
	}

	private static boolean pause(Duration delay) {
		if (delay.isZero()) {
			return true;
		}
		try {
			Thread.sleep(delay.toMillis(), (int) (delay.toNanos() % 1_000_000));
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	private static String describeDecoding(RuntimeException failure) {
		return (failure instanceof PayloadDecodingException) ? failure.getMessage() : describe(failure);
	}

	private static boolean interruptedBy(Throwable failure) {
		if (Thread.currentThread().isInterrupted()) {
			return true;
		}
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof InterruptedException || cause instanceof java.io.InterruptedIOException
					|| cause instanceof java.nio.channels.ClosedByInterruptException) {
				return true;
			}
		}
		return false;
	}

	private static String describe(Throwable failure) {
		if (failure == null) {
			return "unknown";
		}
		return failure.getClass().getSimpleName() + ((failure.getMessage() != null) ? ": " + failure.getMessage() : "");
	}

}
