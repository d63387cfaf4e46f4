package dev.amb.core;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.amb.core.codec.WireHeaders;

/**
 * How one message is published: its key, lane, headers, time to live and reply routing.
 * Immutable; {@link #DEFAULTS} for none of them.
 */
public final class PublishOptions {

	/** Normal priority, no key, no headers, no expiry. */
	public static final PublishOptions DEFAULTS = builder().build();

	private final String key;

	private final Priority priority;

	private final Map<String, String> headers;

	private final Duration ttl;

	private final String correlationId;

	private final String replyTo;

	private final String source;

	private PublishOptions(Builder builder) {
		this.key = builder.key;
		this.priority = builder.priority;
		this.headers = builder.headers.isEmpty() ? Collections.emptyMap()
				: Collections.unmodifiableMap(new LinkedHashMap<>(builder.headers));
		this.ttl = builder.ttl;
		this.correlationId = builder.correlationId;
		this.replyTo = builder.replyTo;
		this.source = builder.source;
	}

	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Options with only a priority.
	 * @param priority the lane
	 * @return the options
	 */
	public static PublishOptions priority(Priority priority) {
		return builder().priority(priority).build();
	}

	/**
	 * Options with only a key.
	 * @param key the ordering key
	 * @return the options
	 */
	public static PublishOptions key(String key) {
		return builder().key(key).build();
	}

	public String getKey() {
		return this.key;
	}

	public Priority getPriority() {
		return this.priority;
	}

	public Map<String, String> getHeaders() {
		return this.headers;
	}

	public Duration getTtl() {
		return this.ttl;
	}

	public String getCorrelationId() {
		return this.correlationId;
	}

	public String getReplyTo() {
		return this.replyTo;
	}

	public String getSource() {
		return this.source;
	}

	/**
	 * A builder seeded with these options.
	 * @return the builder
	 */
	public Builder toBuilder() {
		Builder builder = new Builder();
		builder.key = this.key;
		builder.priority = this.priority;
		builder.headers.putAll(this.headers);
		builder.ttl = this.ttl;
		builder.correlationId = this.correlationId;
		builder.replyTo = this.replyTo;
		builder.source = this.source;
		return builder;
	}

	/**
	 * Builds {@link PublishOptions}.
	 */
	public static final class Builder {

		private String key;

		private Priority priority = Priority.NORMAL;

		private final Map<String, String> headers = new LinkedHashMap<>();

		private Duration ttl;

		private String correlationId;

		private String replyTo;

		private String source;

		private Builder() {
		}

		/** Messages with the same key and priority keep their publish order. */
		public Builder key(String key) {
			this.key = key;
			return this;
		}

		public Builder priority(Priority priority) {
			this.priority = Objects.requireNonNull(priority, "priority must not be null");
			return this;
		}

		/** An application header; names starting with {@code amb} or CloudEvents attribute names are reserved. */
		public Builder header(String name, String value) {
			Objects.requireNonNull(name, "header name must not be null");
			Objects.requireNonNull(value, () -> "value of header '" + name + "' must not be null");
			if (WireHeaders.isReserved(name)) {
				throw new InvalidMessageException("Header '" + name
						+ "' is reserved: CloudEvents attribute names and names starting with 'amb' belong to the envelope");
			}
			this.headers.put(name, value);
			return this;
		}

		public Builder headers(Map<String, String> headers) {
			headers.forEach(this::header);
			return this;
		}

		/** After this long the message is not delivered; it is counted as expired instead. */
		public Builder ttl(Duration ttl) {
			if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
				throw new InvalidMessageException("ttl must be positive, was " + ttl);
			}
			this.ttl = ttl;
			return this;
		}

		public Builder correlationId(String correlationId) {
			this.correlationId = correlationId;
			return this;
		}

		/** The topic a reply should go to. */
		public Builder replyTo(String replyTo) {
			this.replyTo = (replyTo != null) ? Topics.validateTopic(replyTo) : null;
			return this;
		}

		/** Who publishes (the CloudEvents {@code source}); defaults to the bus's source. */
		public Builder source(String source) {
			this.source = source;
			return this;
		}

		public PublishOptions build() {
			return new PublishOptions(this);
		}

	}

}
