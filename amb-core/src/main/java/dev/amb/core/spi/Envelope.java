package dev.amb.core.spi;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

import dev.amb.core.Priority;

/**
 * A message as it travels: the encoded payload and the attributes every backend carries as its
 * native headers (see {@link dev.amb.core.codec.WireHeaders} for their names). Adapters send and
 * receive envelopes; the bus turns them into {@link dev.amb.core.Message}s for handlers.
 * Immutable, except for the tracker, which never leaves the process.
 */
public final class Envelope {

	private final UUID id;

	private final String topic;

	private final String key;

	private final Priority priority;

	private final long timestamp;

	private final String source;

	private final String contentType;

	private final String correlationId;

	private final String replyTo;

	private final long expiresAt;

	private final Map<String, String> headers;

	private final byte[] payload;

	private volatile DeliveryTracker tracker;

	/**
	 * Creates an envelope.
	 * @param id the message id
	 * @param topic the topic
	 * @param key the ordering key, or null
	 * @param priority the lane
	 * @param timestamp the publish time in Unix milliseconds
	 * @param source who published it, or null
	 * @param contentType the payload's media type
	 * @param correlationId ties a reply to its request, or null
	 * @param replyTo the reply topic, or null
	 * @param expiresAt when it expires in Unix milliseconds, or 0 for never
	 * @param headers the application headers, not null
	 * @param payload the encoded payload, not null
	 */
	public Envelope(UUID id, String topic, String key, Priority priority, long timestamp, String source,
			String contentType, String correlationId, String replyTo, long expiresAt, Map<String, String> headers,
			byte[] payload) {
		this.id = Objects.requireNonNull(id, "id must not be null");
		this.topic = Objects.requireNonNull(topic, "topic must not be null");
		this.key = key;
		this.priority = Objects.requireNonNull(priority, "priority must not be null");
		this.timestamp = timestamp;
		this.source = source;
		this.contentType = contentType;
		this.correlationId = correlationId;
		this.replyTo = replyTo;
		this.expiresAt = expiresAt;
		this.headers = (headers != null) ? headers : Collections.emptyMap();
		this.payload = Objects.requireNonNull(payload, "payload must not be null");
	}

	public UUID id() {
		return this.id;
	}

	public String topic() {
		return this.topic;
	}

	public String key() {
		return this.key;
	}

	public Priority priority() {
		return this.priority;
	}

	public long timestamp() {
		return this.timestamp;
	}

	public String source() {
		return this.source;
	}

	public String contentType() {
		return this.contentType;
	}

	public String correlationId() {
		return this.correlationId;
	}

	public String replyTo() {
		return this.replyTo;
	}

	public long expiresAt() {
		return this.expiresAt;
	}

	public Map<String, String> headers() {
		return this.headers;
	}

	/** The encoded payload; callers must not modify it. @return the bytes */
	public byte[] payload() {
		return this.payload;
	}

	/**
	 * Whether the envelope has expired.
	 * @param nowMillis the current Unix time in milliseconds
	 * @return whether it has an expiry that has passed
	 */
	public boolean isExpired(long nowMillis) {
		return this.expiresAt != 0 && nowMillis >= this.expiresAt;
	}

	/**
	 * A copy with other application headers and another topic, as used for dead letters.
	 * @param topic the new topic
	 * @param headers the new headers
	 * @return the copy, with the same id
	 */
	public Envelope withTopicAndHeaders(String topic, Map<String, String> headers) {
		return new Envelope(this.id, topic, this.key, this.priority, this.timestamp, this.source, this.contentType,
				this.correlationId, this.replyTo, this.expiresAt, headers, this.payload);
	}

	/**
	 * Tracks, inside this process, when every subscription the message was dispatched to has
	 * finished with it; used by the write-ahead log to acknowledge messages of in-process backends.
	 * @return the tracker, or null
	 */
	public DeliveryTracker tracker() {
		return this.tracker;
	}

	/**
	 * Attaches a tracker before the envelope is sent.
	 * @param tracker the tracker
	 */
	public void attachTracker(DeliveryTracker tracker) {
		this.tracker = tracker;
	}

	@Override
	public String toString() {
		return "Envelope[id=" + this.id + ", topic=" + this.topic + ", priority=" + this.priority.wireName() + ", key="
				+ this.key + ", " + this.payload.length + " bytes]";
	}

}
