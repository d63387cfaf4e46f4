package dev.amb.core.codec;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import dev.amb.core.InvalidMessageException;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.Topics;
import dev.amb.core.spi.Envelope;

/**
 * The envelope's attributes as string headers, named after CloudEvents 1.0 so that agents in
 * other languages can read and write the same topics: {@code id}, {@code source}, {@code type},
 * {@code specversion}, {@code time}, {@code datacontenttype}, and the extensions
 * {@code ambtopic}, {@code ambkey}, {@code ambpriority}, {@code ambcorrelationid},
 * {@code ambreplyto}, {@code ambexpiresat}. Every other header is an application header. Each
 * adapter carries these as its broker's native headers (Kafka record headers, AMQP application
 * properties, Redis stream fields); the payload travels as the body.
 */
public final class WireHeaders {

	public static final String ID = "id";

	public static final String SOURCE = "source";

	public static final String TYPE = "type";

	public static final String SPEC_VERSION = "specversion";

	public static final String TIME = "time";

	public static final String CONTENT_TYPE = "datacontenttype";

	public static final String TOPIC = "ambtopic";

	public static final String KEY = "ambkey";

	public static final String PRIORITY = "ambpriority";

	public static final String CORRELATION_ID = "ambcorrelationid";

	public static final String REPLY_TO = "ambreplyto";

	public static final String EXPIRES_AT = "ambexpiresat";

	/** The CloudEvents type of every AMB message. */
	public static final String MESSAGE_TYPE = "dev.amb.message";

	/** Dead-letter header: why the message was dead-lettered. */
	public static final String DLQ_REASON = "ambdlqreason";

	/** Dead-letter header: the exception class of the last failure, if any. */
	public static final String DLQ_EXCEPTION = "ambdlqexception";

	/** Dead-letter header: how many delivery attempts were made. */
	public static final String DLQ_ATTEMPTS = "ambdlqattempts";

	/** Dead-letter header: the topic the message was published to. */
	public static final String DLQ_ORIGINAL_TOPIC = "ambdlqtopic";

	/** Dead-letter header: the subscription (group or id) that gave up on it. */
	public static final String DLQ_SUBSCRIPTION = "ambdlqsubscription";

	/** Dead-letter header: when it was dead-lettered. */
	public static final String DLQ_TIME = "ambdlqtime";

	/** Dead-letter header prefix for the reserved headers of wire data that could not be read. */
	public static final String RAW_PREFIX = "ambraw-";

	private static final Set<String> RESERVED = Set.of(ID, SOURCE, TYPE, SPEC_VERSION, TIME, CONTENT_TYPE, "subject",
			"data", "dataschema");

	private WireHeaders() {
	}

	/**
	 * Whether an application may use a header name: CloudEvents attribute names and names starting
	 * with {@code amb} are reserved.
	 * @param name the header name
	 * @return whether it is reserved
	 */
	public static boolean isReserved(String name) {
		return RESERVED.contains(name) || name.startsWith("amb");
	}

	/**
	 * Checks application header names before publishing.
	 * @param headers the application headers
	 * @throws InvalidMessageException naming the first reserved one
	 */
	public static void checkApplicationHeaders(Map<String, String> headers) {
		for (String name : headers.keySet()) {
			if (isReserved(name)) {
				throw new InvalidMessageException("Header '" + name
						+ "' is reserved: CloudEvents attribute names and names starting with 'amb' belong to the envelope");
			}
		}
	}

	/**
	 * Writes an envelope's attributes and application headers as one map.
	 * @param envelope the envelope
	 * @return a new map, in a stable order
	 */
	public static Map<String, String> write(Envelope envelope) {
		Map<String, String> headers = new LinkedHashMap<>(16 + envelope.headers().size());
		headers.put(SPEC_VERSION, "1.0");
		headers.put(ID, envelope.id().toString());
		headers.put(SOURCE, (envelope.source() != null) ? envelope.source() : "/amb");
		headers.put(TYPE, MESSAGE_TYPE);
		headers.put(TIME, Instant.ofEpochMilli(envelope.timestamp()).toString());
		if (envelope.contentType() != null) {
			headers.put(CONTENT_TYPE, envelope.contentType());
		}
		headers.put(TOPIC, envelope.topic());
		headers.put(PRIORITY, envelope.priority().wireName());
		putIfSet(headers, KEY, envelope.key());
		putIfSet(headers, CORRELATION_ID, envelope.correlationId());
		putIfSet(headers, REPLY_TO, envelope.replyTo());
		if (envelope.expiresAt() != 0) {
			headers.put(EXPIRES_AT, Instant.ofEpochMilli(envelope.expiresAt()).toString());
		}
		headers.putAll(envelope.headers());
		return headers;
	}

	/**
	 * Reads an envelope from headers and a body.
	 * @param headers the headers as received
	 * @param body the body
	 * @param fallbackTopic the topic to use if the headers do not name one (the broker's topic)
	 * @return the envelope
	 * @throws MalformedEnvelopeException if the headers do not make an envelope
	 */
	public static Envelope read(Map<String, String> headers, byte[] body, String fallbackTopic) {
		String idText = headers.get(ID);
		if (idText == null) {
			throw new MalformedEnvelopeException("Header '" + ID + "' is missing");
		}
		UUID id;
		try {
			id = UUID.fromString(idText);
		}
		catch (IllegalArgumentException ex) {
			throw new MalformedEnvelopeException("Header '" + ID + "' is not a UUID: '" + abbreviate(idText) + "'", ex);
		}
		String topic = headers.getOrDefault(TOPIC, fallbackTopic);
		try {
			Topics.validateTopic(topic);
		}
		catch (RuntimeException ex) {
			throw new MalformedEnvelopeException("Header '" + TOPIC + "' is not a valid topic: " + ex.getMessage(), ex);
		}
		Priority priority;
		try {
			String priorityText = headers.get(PRIORITY);
			priority = (priorityText != null) ? Priority.parse(priorityText) : Priority.NORMAL;
		}
		catch (IllegalArgumentException ex) {
			throw new MalformedEnvelopeException("Header '" + PRIORITY + "': " + ex.getMessage(), ex);
		}
		long time = parseTime(headers.get(TIME), TIME, MessageIds.epochMillis(id));
		long expiresAt = parseTime(headers.get(EXPIRES_AT), EXPIRES_AT, 0);
		Map<String, String> application = null;
		for (Map.Entry<String, String> header : headers.entrySet()) {
			String name = header.getKey();
			if (!isReserved(name) || name.startsWith("ambdlq") || name.startsWith(RAW_PREFIX)) {
				if (application == null) {
					application = new LinkedHashMap<>();
				}
				application.put(name, header.getValue());
			}
		}
		return new Envelope(id, topic, headers.get(KEY), priority, (time > 0) ? time : System.currentTimeMillis(),
				headers.get(SOURCE), headers.get(CONTENT_TYPE), headers.get(CORRELATION_ID), headers.get(REPLY_TO),
				expiresAt, application, body);
	}

	/**
	 * An envelope for wire data that could not be read, so it can go to the dead-letter topic with
	 * the reason instead of being lost.
	 * @param topic the topic it arrived on
	 * @param headers the headers as received
	 * @param body the body as received
	 * @param reason why it could not be read
	 * @return a dead-letter envelope with a new id, for {@code <topic>.dlq}
	 */
	public static Envelope unreadable(String topic, Map<String, String> headers, byte[] body, Exception reason) {
		Map<String, String> deadLetterHeaders = new LinkedHashMap<>();
		headers.forEach((name, value) -> deadLetterHeaders.put(isReserved(name) ? RAW_PREFIX + name : name, value));
		deadLetterHeaders.put(DLQ_REASON, "unreadable envelope: " + reason.getMessage());
		deadLetterHeaders.put(DLQ_EXCEPTION, reason.getClass().getName());
		deadLetterHeaders.put(DLQ_ATTEMPTS, "0");
		deadLetterHeaders.put(DLQ_ORIGINAL_TOPIC, topic);
		deadLetterHeaders.put(DLQ_TIME, Instant.now().toString());
		long now = System.currentTimeMillis();
		return new Envelope(MessageIds.next(now), Topics.deadLetterTopic(topic), null, Priority.NORMAL, now, null,
				PayloadCodec.BYTES, null, null, 0, deadLetterHeaders, (body != null) ? body : new byte[0]);
	}

	private static long parseTime(String text, String header, long fallback) {
		if (text == null) {
			return fallback;
		}
		try {
			return Instant.parse(text).toEpochMilli();
		}
		catch (DateTimeParseException ex) {
			throw new MalformedEnvelopeException("Header '" + header + "' is not an RFC 3339 time: '" + abbreviate(text)
					+ "'", ex);
		}
	}

	private static void putIfSet(Map<String, String> headers, String name, String value) {
		if (value != null) {
			headers.put(name, value);
		}
	}

	private static String abbreviate(String text) {
		return (text.length() <= 60) ? text : text.substring(0, 60) + "...";
	}

}
