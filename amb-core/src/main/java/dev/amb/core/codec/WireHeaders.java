package dev.amb.core.codec;

import java.time.Instant;
import java.time.LocalDate;
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
 * properties, Redis stream fields); the payload travels as the body. {@link #write} writes the
 * full set; the Kafka adapter leaves out what its records already say (the topic, lane and key),
 * the RabbitMQ adapter what the AMQP message says (the topic, the high and normal lanes), and both
 * read the rest with the helpers here.
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

	/** The CloudEvents spec version written. */
	public static final String SPEC_VERSION_1_0 = "1.0";

	/** The source written for an envelope that names none. */
	public static final String DEFAULT_SOURCE = "/amb";

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

	/** What {@link #parseUtcMillis} answers for text it leaves to {@link Instant#parse}. */
	static final long NOT_PARSED = Long.MIN_VALUE;

	private static final long MILLIS_PER_DAY = 86_400_000L;

	private static final long EPOCH_DAY_0000 = LocalDate.of(0, 1, 1).toEpochDay();

	private static final long EPOCH_DAY_9999 = LocalDate.of(9999, 12, 31).toEpochDay();

	private static final int[] POWERS_OF_TEN = { 1, 10, 100, 1000, 10_000, 100_000, 1_000_000 };

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
		headers.put(SPEC_VERSION, SPEC_VERSION_1_0);
		headers.put(ID, envelope.id().toString());
		headers.put(SOURCE, (envelope.source() != null) ? envelope.source() : DEFAULT_SOURCE);
		headers.put(TYPE, MESSAGE_TYPE);
		headers.put(TIME, formatTime(envelope.timestamp()));
		if (envelope.contentType() != null) {
			headers.put(CONTENT_TYPE, envelope.contentType());
		}
		headers.put(TOPIC, envelope.topic());
		headers.put(PRIORITY, envelope.priority().wireName());
		putIfSet(headers, KEY, envelope.key());
		putIfSet(headers, CORRELATION_ID, envelope.correlationId());
		putIfSet(headers, REPLY_TO, envelope.replyTo());
		if (envelope.expiresAt() != 0) {
			headers.put(EXPIRES_AT, formatTime(envelope.expiresAt()));
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
		UUID id = readId(idText);
		String topic = headers.getOrDefault(TOPIC, fallbackTopic);
		try {
			Topics.validateTopic(topic);
		}
		catch (RuntimeException ex) {
			throw new MalformedEnvelopeException("Header '" + TOPIC + "' is not a valid topic: " + ex.getMessage(), ex);
		}
		String priorityText = headers.get(PRIORITY);
		Priority priority = (priorityText != null) ? readPriority(priorityText) : Priority.NORMAL;
		String timeText = headers.get(TIME);
		long time = (timeText != null) ? readTime(timeText, TIME) : MessageIds.epochMillis(id);
		String expiresText = headers.get(EXPIRES_AT);
		long expiresAt = (expiresText != null) ? readTime(expiresText, EXPIRES_AT) : 0;
		Map<String, String> application = null;
		for (Map.Entry<String, String> header : headers.entrySet()) {
			String name = header.getKey();
			if (isApplicationHeader(name)) {
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
	 * Whether a received header goes to handlers as an application header: every name that is not
	 * reserved, and the dead-letter ({@code ambdlq…}) and {@value #RAW_PREFIX} headers. Other
	 * reserved names are the envelope's or are ignored.
	 * @param name the header name
	 * @return whether handlers see it
	 */
	public static boolean isApplicationHeader(String name) {
		return !isReserved(name) || name.startsWith("ambdlq") || name.startsWith(RAW_PREFIX);
	}

	/**
	 * Reads the {@value #ID} header.
	 * @param text its value
	 * @return the id
	 * @throws MalformedEnvelopeException if it is not a UUID
	 */
	public static UUID readId(String text) {
		try {
			return UUID.fromString(text);
		}
		catch (IllegalArgumentException ex) {
			throw new MalformedEnvelopeException("Header '" + ID + "' is not a UUID: '" + abbreviate(text) + "'", ex);
		}
	}

	/**
	 * Reads the {@value #PRIORITY} header.
	 * @param text its value
	 * @return the priority
	 * @throws MalformedEnvelopeException if it names no priority
	 */
	public static Priority readPriority(String text) {
		try {
			return Priority.parse(text);
		}
		catch (IllegalArgumentException ex) {
			throw new MalformedEnvelopeException("Header '" + PRIORITY + "': " + ex.getMessage(), ex);
		}
	}

	/**
	 * Reads a time header ({@value #TIME} or {@value #EXPIRES_AT}).
	 * @param text its value, RFC 3339
	 * @param header the header's name, for the message
	 * @return Unix milliseconds
	 * @throws MalformedEnvelopeException if it is not an RFC 3339 time
	 */
	public static long readTime(String text, String header) {
		long millis = parseUtcMillis(text);
		if (millis != NOT_PARSED) {
			return millis;
		}
		try {
			return Instant.parse(text).toEpochMilli();
		}
		catch (DateTimeParseException ex) {
			throw new MalformedEnvelopeException("Header '" + header + "' is not an RFC 3339 time: '" + abbreviate(text)
					+ "'", ex);
		}
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

	/**
	 * Whether a compact wire may leave out {@code time}: it is the time in the version 7 id, which
	 * readers take when the header is absent.
	 * @param envelope the envelope
	 * @return whether the time is implied by the id
	 */
	public static boolean isTimeImpliedById(Envelope envelope) {
		long timestamp = envelope.timestamp();
		return timestamp > 0 && timestamp == MessageIds.epochMillis(envelope.id());
	}

	/**
	 * Whether a compact wire may leave out {@code datacontenttype}: JSON, what readers assume
	 * when the header is absent.
	 * @param contentType the envelope's content type, or null
	 * @return whether it is implied
	 */
	public static boolean isContentTypeImplied(String contentType) {
		return contentType == null || PayloadCodec.JSON.equals(contentType);
	}

	/**
	 * Formats Unix milliseconds exactly as {@code Instant.ofEpochMilli(millis).toString()} does,
	 * without a formatter: it runs for every message published.
	 * @param millis Unix milliseconds
	 * @return the RFC 3339 text
	 */
	public static String formatTime(long millis) {
		long epochDay = Math.floorDiv(millis, MILLIS_PER_DAY);
		if (epochDay < EPOCH_DAY_0000 || epochDay > EPOCH_DAY_9999) {
			return Instant.ofEpochMilli(millis).toString();
		}
		LocalDate date = LocalDate.ofEpochDay(epochDay);
		int millisOfDay = (int) Math.floorMod(millis, MILLIS_PER_DAY);
		int fraction = millisOfDay % 1000;
		int secondOfDay = millisOfDay / 1000;
		char[] text = new char[(fraction != 0) ? 24 : 20];
		digits(text, 0, date.getYear(), 4);
		text[4] = '-';
		digits(text, 5, date.getMonthValue(), 2);
		text[7] = '-';
		digits(text, 8, date.getDayOfMonth(), 2);
		text[10] = 'T';
		digits(text, 11, secondOfDay / 3600, 2);
		text[13] = ':';
		digits(text, 14, (secondOfDay / 60) % 60, 2);
		text[16] = ':';
		digits(text, 17, secondOfDay % 60, 2);
		if (fraction != 0) {
			text[19] = '.';
			digits(text, 20, fraction, 3);
		}
		text[text.length - 1] = 'Z';
		return new String(text);
	}

	/**
	 * Parses the shape {@link Instant#toString()} writes ({@code yyyy-MM-ddTHH:mm:ss[.fraction]Z})
	 * without a formatter, since it runs for every delivery; anything else is left to
	 * {@link Instant#parse}.
	 * @param text the text
	 * @return Unix milliseconds, or {@link #NOT_PARSED}
	 */
	static long parseUtcMillis(String text) {
		int length = text.length();
		if (length < 20 || length == 21 || length > 30 || text.charAt(4) != '-' || text.charAt(7) != '-'
				|| text.charAt(10) != 'T' || text.charAt(13) != ':' || text.charAt(16) != ':'
				|| text.charAt(length - 1) != 'Z' || (length > 20 && text.charAt(19) != '.')) {
			return NOT_PARSED;
		}
		int year = number(text, 0, 4);
		int month = number(text, 5, 2);
		int day = number(text, 8, 2);
		int hour = number(text, 11, 2);
		int minute = number(text, 14, 2);
		int second = number(text, 17, 2);
		int fraction = (length > 20) ? number(text, 20, length - 21) : 0;
		if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0
				|| minute > 59 || second < 0 || second > 59 || fraction < 0
				|| day > LocalDate.of(year, month, 1).lengthOfMonth()) {
			return NOT_PARSED;
		}
		int fractionDigits = length - 21;
		int millis = (fractionDigits <= 0) ? 0
				: (fractionDigits >= 3) ? fraction / POWERS_OF_TEN[fractionDigits - 3]
						: fraction * POWERS_OF_TEN[3 - fractionDigits];
		long epochSecond = LocalDate.of(year, month, day).toEpochDay() * 86_400L + hour * 3600L + minute * 60L + second;
		return epochSecond * 1000 + millis;
	}

	private static int number(String text, int start, int count) {
		int value = 0;
		for (int i = start; i < start + count; i++) {
			char c = text.charAt(i);
			if (c < '0' || c > '9') {
				return -1;
			}
			value = value * 10 + (c - '0');
		}
		return value;
	}

	private static void digits(char[] text, int start, int value, int count) {
		for (int i = start + count - 1; i >= start; i--) {
			text[i] = (char) ('0' + value % 10);
			value /= 10;
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
