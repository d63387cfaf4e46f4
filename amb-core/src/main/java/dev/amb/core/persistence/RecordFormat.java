package dev.amb.core.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;

import dev.amb.core.Priority;
import dev.amb.core.spi.Envelope;

/**
 * The on-disk format of the write-ahead log. A segment starts with a 16-byte header (magic
 * {@code AMBW}, format version, flags, segment number); records follow back to back:
 *
 * <pre>
 * marker  int32   0xA3B5C7D9, so recovery can find the next record after damage
 * crc     int32   CRC32C of everything after this field: length, type and body
 * length  int32   body length in bytes
 * type    int8    1 = envelope appended, finished by one acknowledgement (an outbox)
 *                 2 = envelope acknowledged, for every subscription
 *                 3 = envelope appended for named subscriptions: type 1's body, then the names
 *                 4 = envelope acknowledged by one named subscription: id, then the name
 * body    length bytes
 * </pre>
 *
 * All integers are big-endian. An envelope body holds its attributes as fixed-width numbers and
 * length-prefixed UTF-8 strings (length -1 for null), never Java serialization. Format version 1
 * had types 1 and 2 only; this code reads it too.
 */
final class RecordFormat {

	/** {@code AMBW}. */
	static final int SEGMENT_MAGIC = 0x414D4257;

	/** The format version this code writes and the newest it reads; 2 added types 3 and 4. */
	static final short FORMAT_VERSION = 2;

	static final int SEGMENT_HEADER_BYTES = 16;

	static final int RECORD_MARKER = 0xA3B5C7D9;

	/** Marker, CRC, length and type. */
	static final int RECORD_HEADER_BYTES = 13;

	static final byte TYPE_APPEND = 1;

	static final byte TYPE_ACK = 2;

	static final byte TYPE_APPEND_FOR = 3;

	static final byte TYPE_ACK_FOR = 4;

	static final int ACK_BODY_BYTES = 16;

	static final int ACK_RECORD_BYTES = RECORD_HEADER_BYTES + ACK_BODY_BYTES;

	/** No record is larger; a length above it is damage, not a record. */
	static final int MAX_BODY_BYTES = 256 * 1024 * 1024;

	private RecordFormat() {
	}

	/**
	 * Writes a segment header.
	 * @param buffer where to write, 16 bytes
	 * @param segment the segment number
	 */
	static void writeSegmentHeader(ByteBuffer buffer, long segment) {
		buffer.putInt(SEGMENT_MAGIC);
		buffer.putShort(FORMAT_VERSION);
		buffer.putShort((short) 0);
		buffer.putLong(segment);
	}

	/**
	 * Frames one appended envelope that one acknowledgement finishes, header and CRC included.
	 * @param envelope the envelope
	 * @return the record's bytes
	 */
	static byte[] appendRecord(Envelope envelope) {
		return appendRecord(envelope, null);
	}

	/**
	 * Frames one appended envelope, header and CRC included.
	 * @param envelope the envelope
	 * @param names the durable names of the subscriptions it is meant for (type 3), or null for
	 * one that one acknowledgement finishes (type 1)
	 * @return the record's bytes
	 */
	static byte[] appendRecord(Envelope envelope, String[] names) {
		byte[] topic = utf8(envelope.topic());
		byte[] key = utf8(envelope.key());
		byte[] source = utf8(envelope.source());
		byte[] contentType = utf8(envelope.contentType());
		byte[] correlationId = utf8(envelope.correlationId());
		byte[] replyTo = utf8(envelope.replyTo());
		Map<String, String> headers = envelope.headers();
		byte[][] headerBytes = null;
		int headersLength = 4;
		if (!headers.isEmpty()) {
			headerBytes = new byte[headers.size() * 2][];
			int i = 0;
			for (Map.Entry<String, String> header : headers.entrySet()) {
				headerBytes[i] = utf8(header.getKey());
				headerBytes[i + 1] = utf8(header.getValue());
				headersLength += sized(headerBytes[i]) + sized(headerBytes[i + 1]);
				i += 2;
			}
		}
		byte[] payload = envelope.payload();
		int namesLength = 0;
		if (names != null) {
			namesLength = 4;
			for (String name : names) {
				namesLength += 4 + utf8Length(name);
			}
		}
		int bodyLength = 16 + 8 + 8 + 1 + sized(topic) + sized(key) + sized(source) + sized(contentType)
				+ sized(correlationId) + sized(replyTo) + headersLength + sized(payload) + namesLength;
		byte[] record = new byte[RECORD_HEADER_BYTES + bodyLength];
		ByteBuffer buffer = ByteBuffer.wrap(record);
		buffer.position(8);
		buffer.putInt(bodyLength);
		buffer.put((names != null) ? TYPE_APPEND_FOR : TYPE_APPEND);
		buffer.putLong(envelope.id().getMostSignificantBits());
		buffer.putLong(envelope.id().getLeastSignificantBits());
		buffer.putLong(envelope.timestamp());
		buffer.putLong(envelope.expiresAt());
		buffer.put((byte) envelope.priority().lane());
		putBytes(buffer, topic);
		putBytes(buffer, key);
		putBytes(buffer, source);
		putBytes(buffer, contentType);
		putBytes(buffer, correlationId);
		putBytes(buffer, replyTo);
		if (headerBytes == null) {
			buffer.putInt(0);
		}
		else {
			buffer.putInt(headerBytes.length / 2);
			for (byte[] bytes : headerBytes) {
				putBytes(buffer, bytes);
			}
		}
		putBytes(buffer, payload);
		if (names != null) {
			buffer.putInt(names.length);
			for (String name : names) {
				putUtf8(buffer, name);
			}
		}
		sealRecord(record, 0, record.length);
		return record;
	}

	/**
	 * Writes an acknowledgement record.
	 * @param buffer where to write, {@value #ACK_RECORD_BYTES} bytes
	 * @param id the acknowledged message
	 * @param crc a checksum to reuse
	 */
	static void writeAckRecord(ByteBuffer buffer, UUID id, CRC32C crc) {
		int start = buffer.position();
		buffer.putInt(RECORD_MARKER);
		buffer.putInt(0);
		buffer.putInt(ACK_BODY_BYTES);
		buffer.put(TYPE_ACK);
		buffer.putLong(id.getMostSignificantBits());
		buffer.putLong(id.getLeastSignificantBits());
		crc.reset();
		ByteBuffer covered = buffer.duplicate();
		covered.position(start + 8);
		covered.limit(start + ACK_RECORD_BYTES);
		crc.update(covered);
		buffer.putInt(start + 4, (int) crc.getValue());
	}

	/**
	 * The size of one named acknowledgement record.
	 * @param name the subscription's durable name
	 * @return its length in bytes, header included
	 */
	static int namedAckRecordBytes(String name) {
		return RECORD_HEADER_BYTES + ACK_BODY_BYTES + 4 + utf8Length(name);
	}

	/**
	 * Writes the acknowledgement of one message by one named subscription.
	 * @param buffer where to write, {@link #namedAckRecordBytes(String)} bytes
	 * @param id the acknowledged message
	 * @param name the subscription's durable name
	 * @param crc a checksum to reuse
	 */
	static void writeNamedAckRecord(ByteBuffer buffer, UUID id, String name, CRC32C crc) {
		int start = buffer.position();
		int bodyLength = ACK_BODY_BYTES + 4 + utf8Length(name);
		buffer.putInt(RECORD_MARKER);
		buffer.putInt(0);
		buffer.putInt(bodyLength);
		buffer.put(TYPE_ACK_FOR);
		buffer.putLong(id.getMostSignificantBits());
		buffer.putLong(id.getLeastSignificantBits());
		putUtf8(buffer, name);
		crc.reset();
		ByteBuffer covered = buffer.duplicate();
		covered.position(start + 8);
		covered.limit(start + RECORD_HEADER_BYTES + bodyLength);
		crc.update(covered);
		buffer.putInt(start + 4, (int) crc.getValue());
	}

	/** Fills in the marker and the CRC of a record whose length, type and body are written. */
	private static void sealRecord(byte[] record, int offset, int length) {
		ByteBuffer buffer = ByteBuffer.wrap(record, offset, length);
		buffer.putInt(offset, RECORD_MARKER);
		CRC32C crc = new CRC32C();
		crc.update(record, offset + 8, length - 8);
		buffer.putInt(offset + 4, (int) crc.getValue());
	}

	/**
	 * Checks the record that starts at a position: marker, a plausible length inside the limit, and
	 * the CRC.
	 * @param data the segment's bytes
	 * @param position where the record would start
	 * @param limit the end of the readable data
	 * @param crc a checksum to reuse
	 * @return the record's total length, or -1 if no intact record starts there
	 */
	static int intactRecordLength(ByteBuffer data, int position, int limit, CRC32C crc) {
		if (limit - position < RECORD_HEADER_BYTES || data.getInt(position) != RECORD_MARKER) {
			return -1;
		}
		int bodyLength = data.getInt(position + 8);
		if (bodyLength < 0 || bodyLength > MAX_BODY_BYTES || bodyLength > limit - position - RECORD_HEADER_BYTES) {
			return -1;
		}
		crc.reset();
		ByteBuffer covered = data.duplicate();
		covered.limit(position + RECORD_HEADER_BYTES + bodyLength);
		covered.position(position + 8);
		crc.update(covered);
		if ((int) crc.getValue() != data.getInt(position + 4)) {
			return -1;
		}
		return RECORD_HEADER_BYTES + bodyLength;
	}

	/**
	 * The id in an acknowledgement record's body.
	 * @param data the segment's bytes
	 * @param body where the body starts
	 * @return the id
	 */
	static UUID readAck(ByteBuffer data, int body) {
		return new UUID(data.getLong(body), data.getLong(body + 8));
	}

	/**
	 * The id and name in a named acknowledgement record's body.
	 * @param data the segment's bytes
	 * @param body where the body starts
	 * @param length the body's length
	 * @return the acknowledgement
	 * @throws IllegalArgumentException if the body does not hold one
	 */
	static NamedAck readNamedAck(ByteBuffer data, int body, int length) {
		ByteBuffer buffer = data.duplicate();
		buffer.limit(body + length);
		buffer.position(body);
		try {
			UUID id = new UUID(buffer.getLong(), buffer.getLong());
			String name = getString(buffer);
			if (name == null || buffer.hasRemaining()) {
				throw new IllegalArgumentException("not an acknowledgement with a name");
			}
			return new NamedAck(id, name);
		}
		catch (java.nio.BufferUnderflowException ex) {
			throw new IllegalArgumentException("the body ends inside a field", ex);
		}
	}

	/**
	 * Reads an appended envelope's body (type 1).
	 * @param data the segment's bytes
	 * @param body where the body starts
	 * @param length the body's length
	 * @return the envelope
	 * @throws IllegalArgumentException if the body does not hold an envelope
	 */
	static Envelope readEnvelope(ByteBuffer data, int body, int length) {
		return readAppend(data, body, length, false).envelope();
	}

	/**
	 * Reads an appended envelope's body, of type 1 or 3.
	 * @param data the segment's bytes
	 * @param body where the body starts
	 * @param length the body's length
	 * @param named whether the durable names follow the envelope (type 3)
	 * @return the envelope, and its names (null for type 1)
	 * @throws IllegalArgumentException if the body does not hold an envelope
	 */
	static Appended readAppend(ByteBuffer data, int body, int length, boolean named) {
		ByteBuffer buffer = data.duplicate();
		buffer.limit(body + length);
		buffer.position(body);
		try {
			UUID id = new UUID(buffer.getLong(), buffer.getLong());
			long timestamp = buffer.getLong();
			long expiresAt = buffer.getLong();
			Priority priority = Priority.ofLane(buffer.get());
			String topic = getString(buffer);
			String key = getString(buffer);
			String source = getString(buffer);
			String contentType = getString(buffer);
			String correlationId = getString(buffer);
			String replyTo = getString(buffer);
			int headerCount = buffer.getInt();
			if (headerCount < 0 || headerCount > buffer.remaining() / 8) {
				throw new IllegalArgumentException("header count " + headerCount + " is impossible");
			}
			Map<String, String> headers = Collections.emptyMap();
			if (headerCount > 0) {
				headers = new LinkedHashMap<>();
				for (int i = 0; i < headerCount; i++) {
					headers.put(getString(buffer), getString(buffer));
				}
				headers = Collections.unmodifiableMap(headers);
			}
			byte[] payload = getBytes(buffer);
			if (topic == null || payload == null) {
				throw new IllegalArgumentException("topic or payload is missing");
			}
			String[] names = null;
			if (named) {
				int count = buffer.getInt();
				if (count < 0 || count > buffer.remaining() / 4) {
					throw new IllegalArgumentException("name count " + count + " is impossible");
				}
				names = new String[count];
				for (int i = 0; i < count; i++) {
					names[i] = getString(buffer);
					if (names[i] == null) {
						throw new IllegalArgumentException("a durable name is missing");
					}
				}
			}
			if (buffer.hasRemaining()) {
				throw new IllegalArgumentException(buffer.remaining() + " bytes left over after the "
						+ (named ? "names" : "payload"));
			}
			return new Appended(new Envelope(id, topic, key, priority, timestamp, source, contentType, correlationId,
					replyTo, expiresAt, headers, payload), names);
		}
		catch (java.nio.BufferUnderflowException ex) {
			throw new IllegalArgumentException("the body ends inside a field", ex);
		}
	}

	/** The UTF-8 length of a string, without encoding it when it is ASCII (durable names usually are). */
	static int utf8Length(String value) {
		int length = value.length();
		for (int i = 0; i < length; i++) {
			if (value.charAt(i) >= 0x80) {
				return value.getBytes(StandardCharsets.UTF_8).length;
			}
		}
		return length;
	}

	/** Writes a length-prefixed UTF-8 string, without an intermediate array when it is ASCII. */
	private static void putUtf8(ByteBuffer buffer, String value) {
		int length = value.length();
		for (int i = 0; i < length; i++) {
			if (value.charAt(i) >= 0x80) {
				putBytes(buffer, value.getBytes(StandardCharsets.UTF_8));
				return;
			}
		}
		buffer.putInt(length);
		for (int i = 0; i < length; i++) {
			buffer.put((byte) value.charAt(i));
		}
	}

	private static byte[] utf8(String value) {
		return (value != null) ? value.getBytes(StandardCharsets.UTF_8) : null;
	}

	private static int sized(byte[] bytes) {
		return 4 + ((bytes != null) ? bytes.length : 0);
	}

	private static void putBytes(ByteBuffer buffer, byte[] bytes) {
		if (bytes == null) {
			buffer.putInt(-1);
		}
		else {
			buffer.putInt(bytes.length);
			buffer.put(bytes);
		}
	}

	private static byte[] getBytes(ByteBuffer buffer) {
		int length = buffer.getInt();
		if (length == -1) {
			return null;
		}
		if (length < 0 || length > buffer.remaining()) {
			throw new IllegalArgumentException("field length " + length + " is impossible");
		}
		byte[] bytes = new byte[length];
		buffer.get(bytes);
		return bytes;
	}

	private static String getString(ByteBuffer buffer) {
		byte[] bytes = getBytes(buffer);
		return (bytes != null) ? new String(bytes, StandardCharsets.UTF_8) : null;
	}

	/**
	 * An appended envelope as read back.
	 * @param envelope the envelope
	 * @param names the durable names it was meant for, or null if one acknowledgement finishes it
	 */
	record Appended(Envelope envelope, String[] names) {
	}

	/**
	 * A named acknowledgement as read back.
	 * @param id the message
	 * @param name the durable name of the subscription that finished with it
	 */
	record NamedAck(UUID id, String name) {
	}

}
