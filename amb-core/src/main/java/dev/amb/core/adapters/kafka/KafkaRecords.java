package dev.amb.core.adapters.kafka;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;
import dev.amb.core.support.UuidText;

/**
 * The wire format on Kafka: the envelope's attributes as record headers named after CloudEvents
 * (see {@link WireHeaders}), each value UTF-8; the payload as the record value; the ordering key
 * as the record key (UTF-8), so that Kafka's partitioner keeps one key in one partition; the
 * publish time as the record timestamp.
 * <p>
 * A record carries only what the rest of it does not already say: the four headers CloudEvents
 * requires ({@code specversion}, {@code id}, {@code source}, {@code type}), then
 * {@code datacontenttype} unless JSON, {@code time} unless it is the time in the version 7 id, and
 * {@code ambcorrelationid}, {@code ambreplyto} and {@code ambexpiresat} when set. The topic and
 * lane are the Kafka topic's, the key is the record key. Readers accept the full header set as
 * well (what earlier versions and the other backends write); a header that is present wins over
 * what it would be implied from.
 */
public final class KafkaRecords {

	private static final byte[] EMPTY = new byte[0];

	// Headers whose value never changes, built once: the producer only reads them.
	private static final Header SPEC_VERSION = constant(WireHeaders.SPEC_VERSION, WireHeaders.SPEC_VERSION_1_0);

	private static final Header TYPE = constant(WireHeaders.TYPE, WireHeaders.MESSAGE_TYPE);

	private static final Header DEFAULT_SOURCE = constant(WireHeaders.SOURCE, WireHeaders.DEFAULT_SOURCE);

	private static final Header TEXT = constant(WireHeaders.CONTENT_TYPE, PayloadCodec.TEXT);

	private static final Header BYTES = constant(WireHeaders.CONTENT_TYPE, PayloadCodec.BYTES);

	private static final byte[] HIGH = bytes(Priority.HIGH.wireName());

	private static final byte[] NORMAL = bytes(Priority.NORMAL.wireName());

	private static final byte[] LOW = bytes(Priority.LOW.wireName());

	/** The last source header written: a bus publishes under one source, so it is built once. */
	private static volatile SourceHeader lastSource = new SourceHeader(WireHeaders.DEFAULT_SOURCE, DEFAULT_SOURCE);

	private KafkaRecords() {
	}

	/**
	 * The record for an envelope.
	 * @param kafkaTopic the Kafka topic of the envelope's topic and lane
	 * @param envelope the envelope
	 * @return the record
	 */
	public static ProducerRecord<byte[], byte[]> toRecord(String kafkaTopic, Envelope envelope) {
		Map<String, String> application = envelope.headers();
		boolean writeTime = !WireHeaders.isTimeImpliedById(envelope);
		Header contentType = contentType(envelope.contentType());
		int count = 4 + (writeTime ? 1 : 0) + ((contentType != null) ? 1 : 0)
				+ ((envelope.correlationId() != null) ? 1 : 0) + ((envelope.replyTo() != null) ? 1 : 0)
				+ ((envelope.expiresAt() != 0) ? 1 : 0) + application.size();
		Header[] headers = new Header[count];
		int i = 0;
		headers[i++] = SPEC_VERSION;
		headers[i++] = new RecordHeader(WireHeaders.ID, idBytes(envelope.id()));
		headers[i++] = source(envelope.source());
		headers[i++] = TYPE;
		if (writeTime) {
			headers[i++] = text(WireHeaders.TIME, WireHeaders.formatTime(envelope.timestamp()));
		}
		if (contentType != null) {
			headers[i++] = contentType;
		}
		if (envelope.correlationId() != null) {
			headers[i++] = text(WireHeaders.CORRELATION_ID, envelope.correlationId());
		}
		if (envelope.replyTo() != null) {
			headers[i++] = text(WireHeaders.REPLY_TO, envelope.replyTo());
		}
		if (envelope.expiresAt() != 0) {
			headers[i++] = text(WireHeaders.EXPIRES_AT, WireHeaders.formatTime(envelope.expiresAt()));
		}
		for (Map.Entry<String, String> header : application.entrySet()) {
			headers[i++] = text(header.getKey(), header.getValue());
		}
		byte[] key = (envelope.key() != null) ? bytes(envelope.key()) : null;
		// A list view, not RecordHeaders: the record copies what it is given into its own headers.
		return new ProducerRecord<>(kafkaTopic, null, envelope.timestamp(), key, envelope.payload(),
				Arrays.asList(headers));
	}

	private static Header source(String source) {
		if (source == null) {
			return DEFAULT_SOURCE;
		}
		SourceHeader last = lastSource;
		if (source.equals(last.source())) {
			return last.header();
		}
		Header header = text(WireHeaders.SOURCE, source);
		lastSource = new SourceHeader(source, header);
		return header;
	}

	private static Header contentType(String contentType) {
		if (WireHeaders.isContentTypeImplied(contentType)) {
			return null;
		}
		if (PayloadCodec.BYTES.equals(contentType)) {
			return BYTES;
		}
		if (PayloadCodec.TEXT.equals(contentType)) {
			return TEXT;
		}
		return text(WireHeaders.CONTENT_TYPE, contentType);
	}

	/** The canonical text of a UUID, as {@link UUID#toString()} writes it, straight into bytes. */
	static byte[] idBytes(UUID id) {
		return UuidText.toAscii(id);
	}

	/**
	 * Reads the {@code id} header: canonical UUID text without going through a string, anything
	 * else through {@link WireHeaders#readId(String)}.
	 */
	static UUID parseId(byte[] text) {
		UUID id = UuidText.parseCanonical(text);
		return (id != null) ? id : WireHeaders.readId(string(text));
	}

	/**
	 * The headers of a received record as strings, as they arrived (for dead-lettering what cannot
	 * be read); of a header that occurs more than once, the last wins.
	 * @param record the record
	 * @return the headers
	 */
	static Map<String, String> headers(ConsumerRecord<byte[], byte[]> record) {
		Map<String, String> map = new HashMap<>();
		for (Header header : record.headers()) {
			map.put(header.key(), string(header.value()));
		}
		return map;
	}

	/**
	 * The value of a received record, empty for a tombstone.
	 * @param record the record
	 * @return the bytes
	 */
	static byte[] value(ConsumerRecord<byte[], byte[]> record) {
		return (record.value() != null) ? record.value() : EMPTY;
	}

	private static Header constant(String name, String value) {
		return new RecordHeader(name, bytes(value));
	}

	private static Header text(String name, String value) {
		return new RecordHeader(name, bytes(value));
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static String string(byte[] value) {
		return (value != null) ? new String(value, StandardCharsets.UTF_8) : "";
	}

	private record SourceHeader(String source, Header header) {
	}

	/**
	 * Turns the records of one consumer into envelopes, straight from the header bytes; keeps the
	 * strings that repeat from record to record (the source, the content type). Not thread-safe:
	 * one per consumer thread.
	 */
	static final class Reader {

		private byte[] lastSourceBytes;

		private String lastSource;

		private byte[] lastContentTypeBytes;

		private String lastContentType;

		/**
		 * Reads a record.
		 * @param record the record
		 * @param ambTopic the AMB topic of the record's Kafka topic
		 * @param lane the lane of the record's Kafka topic
		 * @return the envelope
		 * @throws MalformedEnvelopeException if the record does not make an envelope, or names
		 * another topic than the one it arrived on
		 */
		Envelope read(ConsumerRecord<byte[], byte[]> record, String ambTopic, Priority lane) {
			byte[] id = null;
			byte[] source = null;
			byte[] time = null;
			byte[] contentType = null;
			byte[] topic = null;
			byte[] key = null;
			byte[] priority = null;
			byte[] correlationId = null;
			byte[] replyTo = null;
			byte[] expiresAt = null;
			Map<String, String> application = null;
			// Of a header that occurs more than once, the last wins, as with a map.
			for (Header header : record.headers()) {
				// value() copies the header's bytes: only for the headers that are read.
				String name = header.key();
				switch (name) {
					case WireHeaders.ID -> id = headerValue(header);
					case WireHeaders.SOURCE -> source = headerValue(header);
					case WireHeaders.TIME -> time = headerValue(header);
					case WireHeaders.CONTENT_TYPE -> contentType = headerValue(header);
					case WireHeaders.TOPIC -> topic = headerValue(header);
					case WireHeaders.KEY -> key = headerValue(header);
					case WireHeaders.PRIORITY -> priority = headerValue(header);
					case WireHeaders.CORRELATION_ID -> correlationId = headerValue(header);
					case WireHeaders.REPLY_TO -> replyTo = headerValue(header);
					case WireHeaders.EXPIRES_AT -> expiresAt = headerValue(header);
					case WireHeaders.SPEC_VERSION, WireHeaders.TYPE -> {
						// Constants: nothing to read.
					}
					default -> {
						if (WireHeaders.isApplicationHeader(name)) {
							if (application == null) {
								application = new LinkedHashMap<>();
							}
							application.put(name, string(headerValue(header)));
						}
					}
				}
			}
			if (id == null) {
				throw new MalformedEnvelopeException("Header '" + WireHeaders.ID + "' is missing");
			}
			UUID messageId = parseId(id);
			if (topic != null) {
				String named = string(topic);
				if (!named.equals(ambTopic)) {
					throw new MalformedEnvelopeException("Header '" + WireHeaders.TOPIC + "' names '" + named
							+ "' but the record is on the Kafka topic of '" + ambTopic + "'");
				}
			}
			Priority messagePriority = (priority != null) ? priority(priority) : lane;
			long timestamp;
			if (time != null) {
				timestamp = WireHeaders.readTime(string(time), WireHeaders.TIME);
			}
			else {
				long fromId = MessageIds.epochMillis(messageId);
				timestamp = (fromId >= 0) ? fromId : record.timestamp();
			}
			long expires = (expiresAt != null) ? WireHeaders.readTime(string(expiresAt), WireHeaders.EXPIRES_AT) : 0;
			String messageKey = (key != null) ? string(key) : (record.key() != null) ? string(record.key()) : null;
			return new Envelope(messageId, ambTopic, messageKey, messagePriority,
					(timestamp > 0) ? timestamp : System.currentTimeMillis(), source(source),
					contentType(contentType), (correlationId != null) ? string(correlationId) : null,
					(replyTo != null) ? string(replyTo) : null, expires, application, value(record));
		}

		private static byte[] headerValue(Header header) {
			byte[] value = header.value();
			return (value != null) ? value : EMPTY;
		}

		private String source(byte[] value) {
			if (value == null) {
				return null;
			}
			if (!Arrays.equals(value, this.lastSourceBytes)) {
				this.lastSource = string(value);
				this.lastSourceBytes = value;
			}
			return this.lastSource;
		}

		private String contentType(byte[] value) {
			if (value == null) {
				return PayloadCodec.JSON;
			}
			if (!Arrays.equals(value, this.lastContentTypeBytes)) {
				this.lastContentType = string(value);
				this.lastContentTypeBytes = value;
			}
			return this.lastContentType;
		}

		private static Priority priority(byte[] value) {
			if (Arrays.equals(value, NORMAL)) {
				return Priority.NORMAL;
			}
			if (Arrays.equals(value, HIGH)) {
				return Priority.HIGH;
			}
			if (Arrays.equals(value, LOW)) {
				return Priority.LOW;
			}
			return WireHeaders.readPriority(string(value));
		}

	}

}
