package dev.amb.core.adapters.redis;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The envelope as stream fields: what is written, that what is left out round-trips exactly, and
 * that the full field set (as {@link WireHeaders#write} names it, and as other clients write it)
 * is read the same.
 */
class StreamFieldsTests {

	private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

	private final StreamFields fields = new StreamFields();

	@Test
	void writesTheRequiredCloudEventsAttributesAndOnlyWhatTheEntryDoesNotAlreadySay() {
		Envelope envelope = envelope("orders.created", Priority.HIGH, null, PayloadCodec.JSON, null, null, 0,
				Map.of());
		assertThat(names(this.fields.write(envelope))).containsExactly("specversion", "id", "source", "type", "data");
	}

	@Test
	void writesEverythingThatIsSet() {
		long now = System.currentTimeMillis();
		Envelope envelope = new Envelope(MessageIds.next(now), "orders.created", "k", Priority.LOW, now - 5, "/agents/a",
				PayloadCodec.TEXT, "corr", "replies.a", now + 60_000, Map.of("tenant", "acme"), PAYLOAD);
		Map<String, String> written = text(this.fields.write(envelope));
		assertThat(written).containsEntry("specversion", "1.0")
			.containsEntry("id", envelope.id().toString())
			.containsEntry("source", "/agents/a")
			.containsEntry("type", WireHeaders.MESSAGE_TYPE)
			.containsEntry("time", WireHeaders.formatTime(now - 5))
			.containsEntry("datacontenttype", PayloadCodec.TEXT)
			.containsEntry("ambkey", "k")
			.containsEntry("ambcorrelationid", "corr")
			.containsEntry("ambreplyto", "replies.a")
			.containsEntry("ambexpiresat", WireHeaders.formatTime(now + 60_000))
			.containsEntry("tenant", "acme")
			.doesNotContainKeys("ambtopic", "ambpriority");
	}

	@Test
	void everyAttributeRoundTripsExactly() {
		long now = System.currentTimeMillis();
		List<Envelope> envelopes = new ArrayList<>();
		for (Priority priority : Priority.values()) {
			for (String contentType : new String[] { PayloadCodec.JSON, PayloadCodec.TEXT, PayloadCodec.BYTES,
					"application/cbor" }) {
				envelopes.add(envelope("a.b", priority, null, contentType, null, null, 0, Map.of()));
			}
		}
		envelopes.add(new Envelope(MessageIds.next(now), "a.b", "", Priority.NORMAL, now, "/amb/x", PayloadCodec.JSON,
				"c-1", "_amb.replies.x", now + 1, headers(), PAYLOAD));
		// A time other than the id's, an id that is not version 7, an expiry before 1970: written and read back.
		envelopes.add(new Envelope(MessageIds.next(now), "a.b", null, Priority.HIGH, now - 1234, null, PayloadCodec.JSON,
				null, null, 0, Map.of(), PAYLOAD));
		envelopes.add(new Envelope(UUID.randomUUID(), "a.b", "k", Priority.LOW, now, null, PayloadCodec.BYTES, null,
				null, -5000, Map.of(), new byte[0]));
		for (Envelope envelope : envelopes) {
			StreamRef stream = stream(envelope.topic(), envelope.priority());
			assertSame(this.fields.read(this.fields.write(envelope), stream), envelope);
			assertSame(parseFromBuffers(this.fields.write(envelope), stream), envelope);
		}
	}

	@Test
	void aNullSourceIsWrittenAsTheDefaultAndANullContentTypeAsJson() {
		Envelope envelope = envelope("a.b", Priority.NORMAL, null, null, null, null, 0, Map.of());
		Envelope read = this.fields.read(this.fields.write(envelope), stream("a.b", Priority.NORMAL));
		assertThat(read.source()).isEqualTo("/amb");
		assertThat(read.contentType()).isEqualTo(PayloadCodec.JSON);
	}

	@Test
	void readsTheFullFieldSetAsWireHeadersWritesIt() {
		long now = System.currentTimeMillis();
		Envelope envelope = new Envelope(MessageIds.next(now), "a.b", "k", Priority.LOW, now, "/amb", PayloadCodec.JSON,
				"c", "r.s", now + 10, headers(), PAYLOAD);
		Map<byte[], byte[]> full = new LinkedHashMap<>();
		WireHeaders.write(envelope).forEach((name, value) -> full.put(bytes(name), bytes(value)));
		full.put(bytes("data"), PAYLOAD);
		assertThat(text(full)).containsKeys("ambtopic", "ambpriority", "time", "datacontenttype");
		assertSame(this.fields.read(full, stream("a.b", Priority.LOW)), envelope);
	}

	@Test
	void fieldsThatArePresentWinOverWhatTheStreamImplies() {
		Map<byte[], byte[]> entry = minimal(UUID.randomUUID());
		entry.put(bytes("ambtopic"), bytes("other.topic"));
		entry.put(bytes("ambpriority"), bytes("high"));
		Envelope read = this.fields.read(entry, stream("a.b", Priority.LOW));
		assertThat(read.topic()).isEqualTo("other.topic");
		assertThat(read.priority()).isEqualTo(Priority.HIGH);
	}

	@Test
	void missingFieldsMeanWhatTheStreamAndTheIdSay() {
		UUID id = MessageIds.next(1_700_000_000_123L);
		Envelope read = this.fields.read(minimal(id), stream("agents.a", Priority.LOW));
		assertThat(read.id()).isEqualTo(id);
		assertThat(read.topic()).isEqualTo("agents.a");
		assertThat(read.priority()).isEqualTo(Priority.LOW);
		assertThat(read.timestamp()).isEqualTo(1_700_000_000_123L);
		assertThat(read.contentType()).isEqualTo(PayloadCodec.JSON);
		assertThat(read.source()).isNull();
		assertThat(read.key()).isNull();
		assertThat(read.correlationId()).isNull();
		assertThat(read.replyTo()).isNull();
		assertThat(read.expiresAt()).isZero();
		assertThat(read.headers()).isEmpty();
		assertThat(read.payload()).isEqualTo(PAYLOAD);
	}

	@Test
	void reservedNamesOtherThanTheEnvelopesAreDroppedAndDeadLetterRecordsKept() {
		Map<byte[], byte[]> entry = minimal(UUID.randomUUID());
		entry.put(bytes("subject"), bytes("dropped"));
		entry.put(bytes("ambfuture"), bytes("dropped"));
		entry.put(bytes(WireHeaders.DLQ_REASON), bytes("kept"));
		entry.put(bytes(WireHeaders.RAW_PREFIX + "id"), bytes("kept"));
		entry.put(bytes("x-trace"), bytes("kept"));
		assertThat(this.fields.read(entry, stream("a.b", Priority.NORMAL)).headers()).containsOnlyKeys(
				WireHeaders.DLQ_REASON, WireHeaders.RAW_PREFIX + "id", "x-trace");
	}

	@Test
	void unreadableEntriesSayWhy() {
		StreamRef stream = stream("a.b", Priority.NORMAL);
		Map<byte[], byte[]> noData = minimal(UUID.randomUUID());
		noData.remove(noData.keySet().stream().filter((name) -> text(name).equals("data")).findFirst().orElseThrow());
		assertThatExceptionOfType(MalformedEnvelopeException.class).isThrownBy(() -> this.fields.read(noData, stream))
			.withMessageContaining("'data' is missing");
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.fields.read(Map.of(bytes("data"), PAYLOAD), stream))
			.withMessageContaining("'id' is missing");
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.fields.read(Map.of(bytes("id"), bytes("not-a-uuid"), bytes("data"), PAYLOAD), stream))
			.withMessageContaining("not a UUID: 'not-a-uuid'");
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.fields.read(with(minimal(UUID.randomUUID()), "ambpriority", "urgent"), stream))
			.withMessageContaining("ambpriority");
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.fields.read(with(minimal(UUID.randomUUID()), "time", "yesterday"), stream))
			.withMessageContaining("'time' is not an RFC 3339 time");
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.fields.read(with(minimal(UUID.randomUUID()), "ambtopic", "bad topic"), stream))
			.withMessageContaining("ambtopic");
	}

	@Test
	void idsAreParsedAsUuidFromStringParsesThem() {
		UUID id = UUID.randomUUID();
		for (String text : new String[] { id.toString(), id.toString().toUpperCase(), "1-2-3-4-5",
				"0000000a-000b-000c-000d-00000000000e" }) {
			assertThat(StreamFields.parseUuid(bytes(text))).as(text).isEqualTo(UUID.fromString(text));
		}
		assertThat(new String(StreamFields.uuid(id), StandardCharsets.US_ASCII)).isEqualTo(id.toString());
	}

	@Test
	void fieldsEncodedAheadAreTheProtocolTextOfTheirNameAndValue() {
		Envelope envelope = envelope("a.b", Priority.NORMAL, "k", PayloadCodec.BYTES, null, null, 0, Map.of());
		StreamFields.FieldList list = this.fields.write(envelope);
		int encodedAhead = 0;
		for (int i = 0; i < list.size(); i++) {
			if (list.encoded(i) != null) {
				encodedAhead++;
				assertThat(list.encoded(i)).isEqualTo(StreamFields.resp(list.name(i), list.value(i)));
			}
		}
		// specversion, source, type and datacontenttype
		assertThat(encodedAhead).isEqualTo(4);
		assertThat(new String(StreamFields.resp(bytes("id"), bytes("1234567890")), StandardCharsets.US_ASCII))
			.isEqualTo("$2\r\nid\r\n$10\r\n1234567890\r\n");
	}

	private Envelope parseFromBuffers(Map<byte[], byte[]> entry, StreamRef stream) {
		StreamFields.EntryParser parser = this.fields.parser();
		for (Map.Entry<byte[], byte[]> field : entry.entrySet()) {
			// As the driver hands them over: slices of a larger, direct buffer.
			parser.name(slice(field.getKey()));
			parser.value(slice(field.getValue()));
		}
		return parser.build(stream);
	}

	private static ByteBuffer slice(byte[] bytes) {
		ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length + 8);
		buffer.put(new byte[] { 1, 2, 3 }).put(bytes).put(new byte[] { 4, 5 });
		buffer.position(3).limit(3 + bytes.length);
		return buffer.slice();
	}

	private static void assertSame(Envelope read, Envelope written) {
		assertThat(read.id()).isEqualTo(written.id());
		assertThat(read.topic()).isEqualTo(written.topic());
		assertThat(read.key()).isEqualTo(written.key());
		assertThat(read.priority()).isEqualTo(written.priority());
		assertThat(read.timestamp()).isEqualTo(written.timestamp());
		assertThat(read.source()).isEqualTo((written.source() != null) ? written.source() : "/amb");
		assertThat(read.contentType()).isEqualTo((written.contentType() != null) ? written.contentType() : PayloadCodec.JSON);
		assertThat(read.correlationId()).isEqualTo(written.correlationId());
		assertThat(read.replyTo()).isEqualTo(written.replyTo());
		assertThat(read.expiresAt()).isEqualTo(written.expiresAt());
		assertThat(read.headers()).isEqualTo(written.headers());
		assertThat(read.payload()).isEqualTo(written.payload());
	}

	private static Envelope envelope(String topic, Priority priority, String key, String contentType,
			String correlationId, String replyTo, long expiresAt, Map<String, String> headers) {
		long now = System.currentTimeMillis();
		return new Envelope(MessageIds.next(now), topic, key, priority, now, null, contentType, correlationId, replyTo,
				expiresAt, headers, PAYLOAD);
	}

	private static Map<String, String> headers() {
		Map<String, String> headers = new LinkedHashMap<>();
		headers.put("tenant", "acme");
		headers.put("x-ünïcode", "välue ✓");
		headers.put("empty", "");
		return headers;
	}

	private static Map<byte[], byte[]> minimal(UUID id) {
		Map<byte[], byte[]> entry = new LinkedHashMap<>();
		entry.put(bytes("id"), bytes(id.toString()));
		entry.put(bytes("data"), PAYLOAD);
		return entry;
	}

	private static Map<byte[], byte[]> with(Map<byte[], byte[]> entry, String name, String value) {
		entry.put(bytes(name), bytes(value));
		return entry;
	}

	private static StreamRef stream(String topic, Priority lane) {
		String name = "amb:" + topic + ":" + lane.wireName();
		return new StreamRef(topic, lane.lane(), bytes(name), name);
	}

	private static List<String> names(Map<byte[], byte[]> entry) {
		List<String> names = new ArrayList<>();
		entry.keySet().forEach((name) -> names.add(text(name)));
		return names;
	}

	private static Map<String, String> text(Map<byte[], byte[]> entry) {
		Map<String, String> text = new LinkedHashMap<>();
		entry.forEach((name, value) -> text.put(text(name), text(value)));
		return text;
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static String text(byte[] bytes) {
		return new String(bytes, StandardCharsets.UTF_8);
	}

}
