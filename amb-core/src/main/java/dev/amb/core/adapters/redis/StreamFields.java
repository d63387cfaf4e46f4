package dev.amb.core.adapters.redis;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.UUID;

import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.Topics;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;
import dev.amb.core.support.UuidText;

/**
 * An envelope as the fields of one stream entry, and back, without going through text headers:
 * it runs for every message published and delivered.
 * <p>
 * Written: the CloudEvents attributes {@code specversion}, {@code id}, {@code source} and
 * {@code type} always; the others only where they say something the entry does not already say.
 * {@code ambtopic} and {@code ambpriority} are implied by the stream the entry is in
 * ({@code <prefix><topic>:<lane>}), {@code time} by the id (a version 7 UUID carries its
 * creation time, which is the publish time of every message the bus creates), and
 * {@code datacontenttype} {@code application/json} is the default; a key, a correlation id, a
 * reply-to and an expiry are written when set. Read: the full field set, whoever wrote it; a
 * field that is present wins over what the stream implies.
 */
final class StreamFields {

	static final byte[] SPEC_VERSION = bytes(WireHeaders.SPEC_VERSION);

	static final byte[] ID = bytes(WireHeaders.ID);

	static final byte[] SOURCE = bytes(WireHeaders.SOURCE);

	static final byte[] TYPE = bytes(WireHeaders.TYPE);

	static final byte[] TIME = bytes(WireHeaders.TIME);

	static final byte[] CONTENT_TYPE = bytes(WireHeaders.CONTENT_TYPE);

	static final byte[] TOPIC = bytes(WireHeaders.TOPIC);

	static final byte[] KEY = bytes(WireHeaders.KEY);

	static final byte[] PRIORITY = bytes(WireHeaders.PRIORITY);

	static final byte[] CORRELATION_ID = bytes(WireHeaders.CORRELATION_ID);

	static final byte[] REPLY_TO = bytes(WireHeaders.REPLY_TO);

	static final byte[] EXPIRES_AT = bytes(WireHeaders.EXPIRES_AT);

	static final byte[] DATA = bytes(RedisBrokerAdapter.DATA_FIELD);

	/** What a null source is written as, the bus's default (as {@link WireHeaders#write} does). */
	static final String DEFAULT_SOURCE = "/amb";

	/** What a missing {@code datacontenttype} means. */
	static final String DEFAULT_CONTENT_TYPE = PayloadCodec.JSON;

	private static final byte[] SPEC_VERSION_1_0 = bytes("1.0");

	private static final byte[] MESSAGE_TYPE = bytes(WireHeaders.MESSAGE_TYPE);

	private static final byte[] DEFAULT_SOURCE_BYTES = bytes(DEFAULT_SOURCE);

	private static final String[] KNOWN_CONTENT_TYPES = { PayloadCodec.JSON, PayloadCodec.TEXT, PayloadCodec.BYTES };

	private static final byte[][] KNOWN_CONTENT_TYPE_BYTES = { bytes(PayloadCodec.JSON), bytes(PayloadCodec.TEXT),
			bytes(PayloadCodec.BYTES) };

	// The constant field pairs as Redis protocol text, encoded once: the driver copies them as they are.

	private static final byte[] SPEC_VERSION_RESP = resp(SPEC_VERSION, SPEC_VERSION_1_0);

	private static final byte[] TYPE_RESP = resp(TYPE, MESSAGE_TYPE);

	private static final byte[][] KNOWN_CONTENT_TYPE_RESP = { resp(CONTENT_TYPE, KNOWN_CONTENT_TYPE_BYTES[0]),
			resp(CONTENT_TYPE, KNOWN_CONTENT_TYPE_BYTES[1]), resp(CONTENT_TYPE, KNOWN_CONTENT_TYPE_BYTES[2]) };

	private static final Text DEFAULT_SOURCE_TEXT = new Text(DEFAULT_SOURCE, DEFAULT_SOURCE_BYTES,
			resp(SOURCE, DEFAULT_SOURCE_BYTES));

	/** The last source written, encoded: a bus publishes with one source. */
	private volatile Text lastSource = DEFAULT_SOURCE_TEXT;

	/** The last source read; each consumer has its own instance, read by its reader thread. */
	private volatile Text lastReadSource = DEFAULT_SOURCE_TEXT;

	/**
	 * The fields of the entry for an envelope, the payload last.
	 * @param envelope the envelope
	 * @return a new map, in a stable order
	 */
	FieldList write(Envelope envelope) {
		Map<String, String> headers = envelope.headers();
		FieldList fields = new FieldList(6 + headers.size());
		fields.put(SPEC_VERSION, SPEC_VERSION_1_0, SPEC_VERSION_RESP);
		fields.put(ID, uuid(envelope.id()));
		Text source = source(envelope.source());
		fields.put(SOURCE, source.bytes, source.resp);
		fields.put(TYPE, MESSAGE_TYPE, TYPE_RESP);
		if (!WireHeaders.isTimeImpliedById(envelope)) {
			fields.put(TIME, bytes(WireHeaders.formatTime(envelope.timestamp())));
		}
		String contentType = envelope.contentType();
		if (!WireHeaders.isContentTypeImplied(contentType)) {
			putContentType(fields, contentType);
		}
		putIfSet(fields, KEY, envelope.key());
		putIfSet(fields, CORRELATION_ID, envelope.correlationId());
		putIfSet(fields, REPLY_TO, envelope.replyTo());
		if (envelope.expiresAt() != 0) {
			fields.put(EXPIRES_AT, bytes(WireHeaders.formatTime(envelope.expiresAt())));
		}
		if (!headers.isEmpty()) {
			for (Map.Entry<String, String> header : headers.entrySet()) {
				fields.put(bytes(header.getKey()), bytes(header.getValue()));
			}
		}
		fields.put(DATA, envelope.payload());
		return fields;
	}

	/**
	 * Reads the envelope of an entry.
	 * @param fields the entry's fields
	 * @param stream the stream it was read from, which implies its topic and lane
	 * @return the envelope
	 * @throws MalformedEnvelopeException if the fields do not make an envelope
	 */
	Envelope read(Map<byte[], byte[]> fields, StreamRef stream) {
		EntryParser parser = parser();
		for (Map.Entry<byte[], byte[]> field : fields.entrySet()) {
			if (field.getKey() != null) {
				parser.name(ByteBuffer.wrap(field.getKey()));
				parser.value((field.getValue() != null) ? ByteBuffer.wrap(field.getValue()) : null);
			}
		}
		return parser.build(stream);
	}

	/** @return a parser for entries whose fields arrive one by one, as the driver decodes them */
	EntryParser parser() {
		return new EntryParser();
	}

	/**
	 * Reads an entry's fields as they arrive (name, value, name, value...) straight into an
	 * envelope: names are compared with the encoded constants where they are, and only the values
	 * the envelope keeps are copied. Not thread-safe; {@link #build} starts it over.
	 */
	final class EntryParser {

		private static final int UNKNOWN = -1;

		private int name = UNKNOWN;

		private String otherName;

		private byte[] data;

		private byte[] id;

		private String source;

		private String contentType;

		private String topic;

		private String key;

		private String priority;

		private String correlationId;

		private String replyTo;

		private String time;

		private String expiresAt;

		private Map<String, String> application;

		/** The next field's name; its value follows. */
		void name(ByteBuffer bytes) {
			this.name = known(bytes);
			this.otherName = (this.name == UNKNOWN) ? text(bytes) : null;
		}

		/** The value of the field named last; null reads as empty. */
		void value(ByteBuffer bytes) {
			ByteBuffer value = (bytes != null) ? bytes : ByteBuffer.allocate(0);
			switch (this.name) {
				case FIELD_ID -> this.id = copy(value);
				case FIELD_DATA -> this.data = copy(value);
				case FIELD_TYPE, FIELD_SPEC_VERSION -> {
					// Constant: nothing to keep.
				}
				case FIELD_TIME -> this.time = text(value);
				case FIELD_SOURCE -> this.source = readSource(value);
				case FIELD_KEY -> this.key = text(value);
				case FIELD_TOPIC -> this.topic = text(value);
				case FIELD_REPLY_TO -> this.replyTo = text(value);
				case FIELD_PRIORITY -> this.priority = text(value);
				case FIELD_EXPIRES_AT -> this.expiresAt = text(value);
				case FIELD_CONTENT_TYPE -> this.contentType = readContentType(value);
				case FIELD_CORRELATION_ID -> this.correlationId = text(value);
				default -> {
					String header = this.otherName;
					// As WireHeaders.read: other reserved names are dropped, dead-letter records kept.
					if (header != null && (!WireHeaders.isReserved(header) || header.startsWith("ambdlq")
							|| header.startsWith(WireHeaders.RAW_PREFIX))) {
						if (this.application == null) {
							this.application = new LinkedHashMap<>();
						}
						this.application.put(header, text(value));
					}
				}
			}
			this.name = UNKNOWN;
			this.otherName = null;
		}

		/**
		 * The envelope of the fields read since the last call; starts over either way.
		 * @param stream the stream the entry is in, which implies its topic and lane
		 * @return the envelope
		 * @throws MalformedEnvelopeException if the fields do not make an envelope
		 */
		Envelope build(StreamRef stream) {
			try {
				return envelope(stream);
			}
			finally {
				reset();
			}
		}

		private Envelope envelope(StreamRef stream) {
			if (this.data == null) {
				throw new MalformedEnvelopeException("Field '" + RedisBrokerAdapter.DATA_FIELD + "' is missing");
			}
			if (this.id == null) {
				throw new MalformedEnvelopeException("Header '" + WireHeaders.ID + "' is missing");
			}
			UUID uuid = parseUuid(this.id);
			String topic = this.topic;
			if (topic == null) {
				topic = stream.topic();
			}
			else {
				try {
					Topics.validateTopic(topic);
				}
				catch (RuntimeException ex) {
					throw new MalformedEnvelopeException(
							"Header '" + WireHeaders.TOPIC + "' is not a valid topic: " + ex.getMessage(), ex);
				}
			}
			Priority lane;
			if (this.priority == null) {
				lane = Priority.ofLane(stream.lane());
			}
			else {
				try {
					lane = Priority.parse(this.priority);
				}
				catch (IllegalArgumentException ex) {
					throw new MalformedEnvelopeException("Header '" + WireHeaders.PRIORITY + "': " + ex.getMessage(),
							ex);
				}
			}
			long timestamp = (this.time != null) ? WireHeaders.readTime(this.time, WireHeaders.TIME)
					: MessageIds.epochMillis(uuid);
			long expiry = (this.expiresAt != null)
					? WireHeaders.readTime(this.expiresAt, WireHeaders.EXPIRES_AT) : 0;
			return new Envelope(uuid, topic, this.key, lane,
					(timestamp > 0) ? timestamp : System.currentTimeMillis(), this.source,
					(this.contentType != null) ? this.contentType : DEFAULT_CONTENT_TYPE, this.correlationId,
					this.replyTo, expiry, this.application, this.data);
		}

		/** Forgets the fields read since the last {@link #build}. */
		void discard() {
			reset();
		}

		private void reset() {
			this.name = UNKNOWN;
			this.otherName = null;
			this.data = null;
			this.id = null;
			this.source = null;
			this.contentType = null;
			this.topic = null;
			this.key = null;
			this.priority = null;
			this.correlationId = null;
			this.replyTo = null;
			this.time = null;
			this.expiresAt = null;
			this.application = null;
		}

	}

	private static final int FIELD_ID = 0;

	private static final int FIELD_DATA = 1;

	private static final int FIELD_TYPE = 2;

	private static final int FIELD_TIME = 3;

	private static final int FIELD_SOURCE = 4;

	private static final int FIELD_KEY = 5;

	private static final int FIELD_TOPIC = 6;

	private static final int FIELD_REPLY_TO = 7;

	private static final int FIELD_SPEC_VERSION = 8;

	private static final int FIELD_PRIORITY = 9;

	private static final int FIELD_EXPIRES_AT = 10;

	private static final int FIELD_CONTENT_TYPE = 11;

	private static final int FIELD_CORRELATION_ID = 12;

	/** Which envelope field a name is: by its length first, then one comparison of a few bytes. */
	private static int known(ByteBuffer name) {
		return switch (name.remaining()) {
			case 2 -> equal(name, ID) ? FIELD_ID : -1;
			case 4 -> equal(name, DATA) ? FIELD_DATA : equal(name, TYPE) ? FIELD_TYPE : equal(name, TIME) ? FIELD_TIME : -1;
			case 6 -> equal(name, SOURCE) ? FIELD_SOURCE : equal(name, KEY) ? FIELD_KEY : -1;
			case 8 -> equal(name, TOPIC) ? FIELD_TOPIC : -1;
			case 10 -> equal(name, REPLY_TO) ? FIELD_REPLY_TO : -1;
			case 11 -> equal(name, SPEC_VERSION) ? FIELD_SPEC_VERSION : equal(name, PRIORITY) ? FIELD_PRIORITY : -1;
			case 12 -> equal(name, EXPIRES_AT) ? FIELD_EXPIRES_AT : -1;
			case 15 -> equal(name, CONTENT_TYPE) ? FIELD_CONTENT_TYPE : -1;
			case 16 -> equal(name, CORRELATION_ID) ? FIELD_CORRELATION_ID : -1;
			default -> -1;
		};
	}

	private static boolean equal(ByteBuffer bytes, byte[] constant) {
		int position = bytes.position();
		if (bytes.remaining() != constant.length) {
			return false;
		}
		for (int i = 0; i < constant.length; i++) {
			if (bytes.get(position + i) != constant[i]) {
				return false;
			}
		}
		return true;
	}

	private static byte[] copy(ByteBuffer bytes) {
		byte[] copy = new byte[bytes.remaining()];
		bytes.get(bytes.position(), copy);
		return copy;
	}

	private static String text(ByteBuffer bytes) {
		if (bytes.hasArray()) {
			return new String(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining(),
					StandardCharsets.UTF_8);
		}
		return text(copy(bytes));
	}

	/**
	 * The fields as text, for the dead-letter record of an entry that could not be read.
	 * @param fields the entry's fields
	 * @return every field but the payload
	 */
	static Map<String, String> asText(Map<byte[], byte[]> fields) {
		Map<String, String> text = new LinkedHashMap<>();
		for (Map.Entry<byte[], byte[]> field : fields.entrySet()) {
			if (field.getKey() != null && !Arrays.equals(field.getKey(), DATA)) {
				text.put(text(field.getKey()), (field.getValue() != null) ? text(field.getValue()) : "");
			}
		}
		return text;
	}

	/**
	 * The payload field of an entry.
	 * @param fields the entry's fields
	 * @return the payload, or null
	 */
	static byte[] data(Map<byte[], byte[]> fields) {
		for (Map.Entry<byte[], byte[]> field : fields.entrySet()) {
			if (Arrays.equals(field.getKey(), DATA)) {
				return field.getValue();
			}
		}
		return null;
	}

	/**
	 * The ordering key of an entry, without reading the rest.
	 * @param fields the entry's fields
	 * @return the key, or null
	 */
	static String key(Map<byte[], byte[]> fields) {
		for (Map.Entry<byte[], byte[]> field : fields.entrySet()) {
			if (Arrays.equals(field.getKey(), KEY)) {
				return (field.getValue() != null) ? text(field.getValue()) : "";
			}
		}
		return null;
	}

	private Text source(String source) {
		if (source == null) {
			return DEFAULT_SOURCE_TEXT;
		}
		Text last = this.lastSource;
		if (last.text.equals(source)) {
			return last;
		}
		byte[] encoded = bytes(source);
		Text text = new Text(source, encoded, resp(SOURCE, encoded));
		this.lastSource = text;
		return text;
	}

	private String readSource(ByteBuffer value) {
		Text last = this.lastReadSource;
		if (equal(value, last.bytes)) {
			return last.text;
		}
		byte[] bytes = copy(value);
		String source = text(bytes);
		this.lastReadSource = new Text(source, bytes, null);
		return source;
	}

	private static void putContentType(FieldList fields, String contentType) {
		for (int i = 0; i < KNOWN_CONTENT_TYPES.length; i++) {
			if (KNOWN_CONTENT_TYPES[i].equals(contentType)) {
				fields.put(CONTENT_TYPE, KNOWN_CONTENT_TYPE_BYTES[i], KNOWN_CONTENT_TYPE_RESP[i]);
				return;
			}
		}
		fields.put(CONTENT_TYPE, bytes(contentType));
	}

	private static String readContentType(ByteBuffer value) {
		for (int i = 0; i < KNOWN_CONTENT_TYPE_BYTES.length; i++) {
			if (equal(value, KNOWN_CONTENT_TYPE_BYTES[i])) {
				return KNOWN_CONTENT_TYPES[i];
			}
		}
		return text(value);
	}

	/** The canonical text of a UUID as ASCII bytes, without the intermediate string. */
	static byte[] uuid(UUID id) {
		return UuidText.toAscii(id);
	}

	/**
	 * Parses a UUID from its text: the canonical 36-character form directly, anything else (or
	 * anything odd in that form) through {@link UUID#fromString}, so the result is the same.
	 */
	static UUID parseUuid(byte[] text) {
		UUID canonical = UuidText.parseCanonical(text);
		if (canonical != null) {
			return canonical;
		}
		String value = text(text);
		try {
			return UUID.fromString(value);
		}
		catch (IllegalArgumentException ex) {
			throw new MalformedEnvelopeException("Header '" + WireHeaders.ID + "' is not a UUID: '"
					+ ((value.length() <= 60) ? value : value.substring(0, 60) + "...") + "'", ex);
		}
	}

	private static void putIfSet(FieldList fields, byte[] name, String value) {
		if (value != null) {
			fields.put(name, bytes(value));
		}
	}

	static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static String text(byte[] bytes) {
		return new String(bytes, StandardCharsets.UTF_8);
	}

	/**
	 * A name and a value as Redis protocol text: two bulk strings ({@code $<length>\r\n<bytes>\r\n}).
	 * @param name the field name
	 * @param value the value
	 * @return the protocol text
	 */
	static byte[] resp(byte[] name, byte[] value) {
		byte[] nameLength = bytes(Integer.toString(name.length));
		byte[] valueLength = bytes(Integer.toString(value.length));
		byte[] out = new byte[name.length + value.length + nameLength.length + valueLength.length + 10];
		int at = bulk(out, 0, nameLength, name);
		bulk(out, at, valueLength, value);
		return out;
	}

	private static int bulk(byte[] out, int at, byte[] length, byte[] bytes) {
		out[at++] = '$';
		System.arraycopy(length, 0, out, at, length.length);
		at += length.length;
		out[at++] = '\r';
		out[at++] = '\n';
		System.arraycopy(bytes, 0, out, at, bytes.length);
		at += bytes.length;
		out[at++] = '\r';
		out[at++] = '\n';
		return at;
	}

	/** A text, its UTF-8 bytes, and, for a source written, the field as protocol text. */
	private record Text(String text, byte[] bytes, byte[] resp) {
	}

	/**
	 * The fields of an entry to write, in order, as the map Spring Data Redis asks for: an array
	 * instead of a hash table, since the driver only iterates it once. Names are unique by
	 * construction (reserved names cannot be application headers), so nothing is looked up.
	 */
	static final class FieldList extends AbstractMap<byte[], byte[]> {

		private byte[][] pairs;

		/** Per field, its name and value as protocol text if they were encoded ahead, or null. */
		private byte[][] encoded;

		private int size;

		FieldList(int capacity) {
			this.pairs = new byte[capacity * 2][];
			this.encoded = new byte[capacity][];
		}

		@Override
		public byte[] put(byte[] name, byte[] value) {
			return put(name, value, null);
		}

		byte[] put(byte[] name, byte[] value, byte[] resp) {
			if (this.size == this.encoded.length) {
				this.pairs = Arrays.copyOf(this.pairs, this.pairs.length * 2);
				this.encoded = Arrays.copyOf(this.encoded, this.encoded.length * 2);
			}
			this.pairs[this.size * 2] = name;
			this.pairs[this.size * 2 + 1] = value;
			this.encoded[this.size] = resp;
			this.size++;
			return null;
		}

		byte[] name(int index) {
			return this.pairs[index * 2];
		}

		byte[] value(int index) {
			return this.pairs[index * 2 + 1];
		}

		/** @return the field at the index as protocol text, if it was encoded ahead, or null */
		byte[] encoded(int index) {
			return this.encoded[index];
		}

		@Override
		public int size() {
			return this.size;
		}

		@Override
		public Set<Map.Entry<byte[], byte[]>> entrySet() {
			return new AbstractSet<>() {

				@Override
				public Iterator<Map.Entry<byte[], byte[]>> iterator() {
					return new Iterator<>() {

						private int next;

						@Override
						public boolean hasNext() {
							return this.next < FieldList.this.size;
						}

						@Override
						public Map.Entry<byte[], byte[]> next() {
							if (this.next >= FieldList.this.size) {
								throw new NoSuchElementException();
							}
							int index = this.next++ * 2;
							return new SimpleImmutableEntry<>(FieldList.this.pairs[index],
									FieldList.this.pairs[index + 1]);
						}

					};
				}

				@Override
				public int size() {
					return FieldList.this.size;
				}

			};
		}

	}

}
