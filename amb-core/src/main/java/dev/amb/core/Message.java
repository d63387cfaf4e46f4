package dev.amb.core;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * A message as a handler sees it: the payload read into the handler's type, with the envelope's
 * attributes. Immutable.
 *
 * @param <T> the payload type
 */
public final class Message<T> {

	private final UUID id;

	private final String topic;

	private final T payload;

	private final Map<String, String> headers;

	private final String key;

	private final Priority priority;

	private final long timestamp;

	private final String source;

	private final String correlationId;

	private final String replyTo;

	private final long expiresAt;

	private final int deliveryAttempt;

	Message(Builder<T> builder) {
		this.id = builder.id;
		this.topic = builder.topic;
		this.payload = builder.payload;
		this.headers = (builder.headers != null) ? builder.headers : Collections.emptyMap();
		this.key = builder.key;
		this.priority = builder.priority;
		this.timestamp = builder.timestamp;
		this.source = builder.source;
		this.correlationId = builder.correlationId;
		this.replyTo = builder.replyTo;
		this.expiresAt = builder.expiresAt;
		this.deliveryAttempt = builder.deliveryAttempt;
	}

	/** The delivery path's constructor: one allocation per delivery instead of a builder and a message. */
	Message(UUID id, String topic, T payload, Map<String, String> headers, String key, Priority priority,
			long timestamp, String source, String correlationId, String replyTo, long expiresAt, int deliveryAttempt) {
		this.id = id;
		this.topic = topic;
		this.payload = payload;
		this.headers = (headers == null || headers.isEmpty()) ? Collections.emptyMap()
				: Collections.unmodifiableMap(headers);
		this.key = key;
		this.priority = priority;
		this.timestamp = timestamp;
		this.source = source;
		this.correlationId = correlationId;
		this.replyTo = replyTo;
		this.expiresAt = expiresAt;
		this.deliveryAttempt = deliveryAttempt;
	}

	/**
	 * A builder for a message, mostly for tests and adapters.
	 * @param <T> the payload type
	 * @param topic the topic
	 * @param payload the payload
	 * @return the builder
	 */
	public static <T> Builder<T> builder(String topic, T payload) {
		return new Builder<>(topic, payload);
	}

	/** The unique, time-ordered id. Redeliveries keep it, so handlers can de-duplicate. @return the id */
	public UUID getId() {
		return this.id;
	}

	/** The topic the message was published to. @return the topic */
	public String getTopic() {
		return this.topic;
	}

	/** The payload, read into the handler's type. @return the payload */
	public T getPayload() {
		return this.payload;
	}

	/** The application headers, never null. @return an unmodifiable map */
	public Map<String, String> getHeaders() {
		return this.headers;
	}

	/**
	 * One application header.
	 * @param name the header name
	 * @return the value, or null
	 */
	public String getHeader(String name) {
		return this.headers.get(name);
	}

	/** The ordering key: messages with the same key and priority keep their publish order. @return the key, or null */
	public String getKey() {
		return this.key;
	}

	/** The lane the message travels in. @return the priority */
	public Priority getPriority() {
		return this.priority;
	}

	/** When it was published. @return the publish time */
	public Instant getTimestamp() {
		return Instant.ofEpochMilli(this.timestamp);
	}

	/** When it was published. @return Unix milliseconds */
	public long getTimestampMillis() {
		return this.timestamp;
	}

	/** Who published it (the CloudEvents {@code source}). @return the source, or null */
	public String getSource() {
		return this.source;
	}

	/** Ties a reply to its request. @return the correlation id, or null */
	public String getCorrelationId() {
		return this.correlationId;
	}

	/** Where a reply should go. @return the reply topic, or null */
	public String getReplyTo() {
		return this.replyTo;
	}

	/** When the message expires. @return the expiry, or null if it never expires */
	public Instant getExpiresAt() {
		return (this.expiresAt != 0) ? Instant.ofEpochMilli(this.expiresAt) : null;
	}

	/** When the message expires. @return Unix milliseconds, or 0 if it never expires */
	public long getExpiresAtMillis() {
		return this.expiresAt;
	}

	/**
	 * Whether the message has expired.
	 * @param nowMillis the current Unix time in milliseconds
	 * @return whether it has an expiry that has passed
	 */
	public boolean isExpired(long nowMillis) {
		return this.expiresAt != 0 && nowMillis >= this.expiresAt;
	}

	/** Which delivery attempt this is, starting at 1. @return the attempt */
	public int getDeliveryAttempt() {
		return this.deliveryAttempt;
	}

	@Override
	public String toString() {
		return "Message[id=" + this.id + ", topic=" + this.topic + ", priority=" + this.priority.wireName()
				+ ", key=" + this.key + ", attempt=" + this.deliveryAttempt + "]";
	}

	/**
	 * Builds a {@link Message}.
	 *
	 * @param <T> the payload type
	 */
	public static final class Builder<T> {

		private UUID id;

		private final String topic;

		private final T payload;

		private Map<String, String> headers;

		private String key;

		private Priority priority = Priority.NORMAL;

		private long timestamp;

		private String source;

		private String correlationId;

		private String replyTo;

		private long expiresAt;

		private int deliveryAttempt = 1;

		private Builder(String topic, T payload) {
			this.topic = Objects.requireNonNull(topic, "topic must not be null");
			this.payload = payload;
		}

		public Builder<T> id(UUID id) {
			this.id = id;
			return this;
		}

		public Builder<T> headers(Map<String, String> headers) {
			this.headers = (headers == null || headers.isEmpty()) ? null : Collections.unmodifiableMap(headers);
			return this;
		}

		public Builder<T> key(String key) {
			this.key = key;
			return this;
		}

		public Builder<T> priority(Priority priority) {
			this.priority = Objects.requireNonNull(priority, "priority must not be null");
			return this;
		}

		public Builder<T> timestamp(long epochMillis) {
			this.timestamp = epochMillis;
			return this;
		}

		public Builder<T> source(String source) {
			this.source = source;
			return this;
		}

		public Builder<T> correlationId(String correlationId) {
			this.correlationId = correlationId;
			return this;
		}

		public Builder<T> replyTo(String replyTo) {
			this.replyTo = replyTo;
			return this;
		}

		public Builder<T> expiresAt(long epochMillis) {
			this.expiresAt = epochMillis;
			return this;
		}

		public Builder<T> deliveryAttempt(int deliveryAttempt) {
			this.deliveryAttempt = deliveryAttempt;
			return this;
		}

		public Message<T> build() {
			if (this.timestamp == 0) {
				this.timestamp = System.currentTimeMillis();
			}
			if (this.id == null) {
				this.id = MessageIds.next(this.timestamp);
			}
			return new Message<>(this);
		}

	}

}
