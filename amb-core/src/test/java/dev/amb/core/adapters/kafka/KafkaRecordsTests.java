package dev.amb.core.adapters.kafka;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
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
 * Tests for {@link KafkaRecords}: what a record carries on Kafka and how it reads back, without a
 * broker.
 */
class KafkaRecordsTests {

	private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

	private static final long NOW = 1_760_000_000_123L;

	private final KafkaRecords.Reader reader = new KafkaRecords.Reader();

	private static Envelope plain(String contentType) {
		return new Envelope(MessageIds.next(NOW), "agent.tasks", null, Priority.NORMAL, NOW, null, contentType, null,
				null, 0, Map.of(), BODY);
	}

	private static Envelope full() {
		Map<String, String> headers = new LinkedHashMap<>();
		headers.put("tenant", "acme");
		headers.put("x-trace", "t-1");
		// A timestamp that is not the id's: replayed or forwarded messages keep both as they were.
		return new Envelope(MessageIds.next(NOW - 5), "agent.tasks", "customer-7", Priority.HIGH, NOW, "/agents/a",
				PayloadCodec.TEXT, "corr-1", "_amb.reply.abc", NOW + 60_000, headers, BODY);
	}

	/** The record as a consumer receives it: header keys and values in byte buffers, as Kafka parses them. */
	private static ConsumerRecord<byte[], byte[]> received(ProducerRecord<byte[], byte[]> sent) {
		return received(sent.topic(), sent.key(), sent.timestamp(), sent.headers().toArray(), sent.value());
	}

	private static ConsumerRecord<byte[], byte[]> received(String topic, byte[] key, long timestamp, Header[] headers,
			byte[] value) {
		Header[] parsed = new Header[headers.length];
		for (int i = 0; i < headers.length; i++) {
			byte[] headerValue = headers[i].value();
			parsed[i] = new RecordHeader(ByteBuffer.wrap(headers[i].key().getBytes(StandardCharsets.UTF_8)),
					(headerValue != null) ? ByteBuffer.wrap(headerValue) : null);
		}
		return new ConsumerRecord<>(topic, 0, 42, timestamp, TimestampType.CREATE_TIME, -1, -1, key, value,
				new RecordHeaders(parsed), Optional.empty());
	}

	private static Map<String, String> headerMap(ProducerRecord<byte[], byte[]> record) {
		Map<String, String> headers = new LinkedHashMap<>();
		for (Header header : record.headers()) {
			headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
		}
		return headers;
	}

	@Test
	void aJsonMessageCarriesOnlyTheFourRequiredCloudEventsHeaders() {
		Envelope envelope = plain(PayloadCodec.JSON);
		ProducerRecord<byte[], byte[]> record = KafkaRecords.toRecord("agent.tasks", envelope);
		assertThat(headerMap(record)).containsExactly(Map.entry("specversion", "1.0"),
				Map.entry("id", envelope.id().toString()), Map.entry("source", "/amb"),
				Map.entry("type", WireHeaders.MESSAGE_TYPE));
		assertThat(record.key()).isNull();
		assertThat(record.timestamp()).isEqualTo(NOW);
		assertThat(record.value()).isSameAs(BODY);
	}

	@Test
	void aContentTypeOtherThanJsonIsWritten() {
		assertThat(headerMap(KafkaRecords.toRecord("t", plain(PayloadCodec.BYTES))))
			.containsEntry("datacontenttype", PayloadCodec.BYTES);
		assertThat(headerMap(KafkaRecords.toRecord("t", plain(PayloadCodec.TEXT))))
			.containsEntry("datacontenttype", PayloadCodec.TEXT);
		assertThat(headerMap(KafkaRecords.toRecord("t", plain("application/cbor"))))
			.containsEntry("datacontenttype", "application/cbor");
	}

	@Test
	void everyOptionalAttributeThatIsSetIsWrittenAndTheImpliedOnesAreNot() {
		Envelope envelope = full();
		ProducerRecord<byte[], byte[]> record = KafkaRecords.toRecord("agent.tasks..high", envelope);
		assertThat(headerMap(record)).containsExactly(Map.entry("specversion", "1.0"),
				Map.entry("id", envelope.id().toString()), Map.entry("source", "/agents/a"),
				Map.entry("type", WireHeaders.MESSAGE_TYPE), Map.entry("time", "2025-10-09T08:53:20.123Z"),
				Map.entry("datacontenttype", PayloadCodec.TEXT), Map.entry("ambcorrelationid", "corr-1"),
				Map.entry("ambreplyto", "_amb.reply.abc"), Map.entry("ambexpiresat", "2025-10-09T08:54:20.123Z"),
				Map.entry("tenant", "acme"), Map.entry("x-trace", "t-1"));
		assertThat(new String(record.key(), StandardCharsets.UTF_8)).isEqualTo("customer-7");
	}

	@Test
	void roundTripKeepsEveryAttribute() {
		for (Envelope envelope : List.of(full(), plain(PayloadCodec.JSON), plain(PayloadCodec.BYTES))) {
			Envelope read = this.reader.read(received(KafkaRecords.toRecord("kafka-topic", envelope)),
					envelope.topic(), envelope.priority());
			assertSameEnvelope(read, envelope);
		}
	}

	@Test
	void theFullHeaderSetOfEarlierWritersIsRead() {
		Envelope envelope = full();
		List<Header> headers = new ArrayList<>();
		WireHeaders.write(envelope)
			.forEach((name, value) -> headers.add(new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8))));
		// No record key: the key comes from the ambkey header.
		ConsumerRecord<byte[], byte[]> record = received("agent.tasks..high", null, NOW,
				headers.toArray(new Header[0]), BODY);
		assertSameEnvelope(this.reader.read(record, "agent.tasks", Priority.HIGH), envelope);
	}

	@Test
	void missingHeadersAreImpliedByTheRecord() {
		UUID id = MessageIds.next(NOW);
		Header[] headers = { new RecordHeader("id", id.toString().getBytes(StandardCharsets.UTF_8)) };
		Envelope read = this.reader.read(received("from.broker..low", "k-1".getBytes(StandardCharsets.UTF_8), 7,
				headers, BODY), "from.broker", Priority.LOW);
		assertThat(read.topic()).isEqualTo("from.broker");
		assertThat(read.priority()).as("the lane of the Kafka topic").isEqualTo(Priority.LOW);
		assertThat(read.key()).as("the record key").isEqualTo("k-1");
		assertThat(read.timestamp()).as("the time in the version 7 id").isEqualTo(NOW);
		assertThat(read.contentType()).isEqualTo(PayloadCodec.JSON);
		assertThat(read.source()).isNull();
		assertThat(read.correlationId()).isNull();
		assertThat(read.replyTo()).isNull();
		assertThat(read.expiresAt()).isZero();
		assertThat(read.headers()).isEmpty();
	}

	@Test
	void withoutATimeHeaderAnIdThatIsNotVersion7TakesTheRecordTimestamp() {
		Header[] headers = { new RecordHeader("id", UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8)) };
		Envelope read = this.reader.read(received("t", null, 1_700_000_000_000L, headers, BODY), "t",
				Priority.NORMAL);
		assertThat(read.timestamp()).isEqualTo(1_700_000_000_000L);
	}

	@Test
	void aHeaderThatIsPresentWinsOverWhatTheRecordImplies() {
		UUID id = MessageIds.next(NOW);
		Header[] headers = { new RecordHeader("id", id.toString().getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("ambpriority", "high".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("ambkey", "from-header".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("time", "2026-01-01T00:00:00Z".getBytes(StandardCharsets.UTF_8)) };
		Envelope read = this.reader.read(received("t", "from-key".getBytes(StandardCharsets.UTF_8), 7, headers, BODY),
				"t", Priority.NORMAL);
		assertThat(read.priority()).isEqualTo(Priority.HIGH);
		assertThat(read.key()).isEqualTo("from-header");
		assertThat(read.timestamp()).isEqualTo(1_767_225_600_000L);
	}

	@Test
	void ofARepeatedHeaderTheLastWins() {
		UUID first = MessageIds.next(NOW);
		UUID last = MessageIds.next(NOW);
		Header[] headers = { new RecordHeader("id", first.toString().getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("tenant", "a".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("id", last.toString().getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("tenant", "b".getBytes(StandardCharsets.UTF_8)) };
		Envelope read = this.reader.read(received("t", null, 7, headers, BODY), "t", Priority.NORMAL);
		assertThat(read.id()).isEqualTo(last);
		assertThat(read.headers()).containsExactly(Map.entry("tenant", "b"));
	}

	@Test
	void reservedNamesThatAreNotTheEnvelopesAreLeftOutExceptDeadLetterAndRawHeaders() {
		Header[] headers = { new RecordHeader("id", MessageIds.next().toString().getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("subject", "s".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("ambfuture", "x".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader(WireHeaders.DLQ_REASON, "why".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader(WireHeaders.RAW_PREFIX + "id", "garbage".getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("empty", null) };
		Envelope read = this.reader.read(received("t", null, 7, headers, BODY), "t", Priority.NORMAL);
		assertThat(read.headers()).containsExactly(Map.entry(WireHeaders.DLQ_REASON, "why"),
				Map.entry(WireHeaders.RAW_PREFIX + "id", "garbage"), Map.entry("empty", ""));
	}

	@Test
	void anAmbtopicHeaderNamingAnotherTopicIsMalformed() {
		Header[] headers = { new RecordHeader("id", MessageIds.next().toString().getBytes(StandardCharsets.UTF_8)),
				new RecordHeader("ambtopic", "some.other.topic".getBytes(StandardCharsets.UTF_8)) };
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.reader.read(received("t", null, 7, headers, BODY), "t", Priority.NORMAL))
			.withMessageContaining("names 'some.other.topic'");
	}

	@Test
	void malformedAttributesAreNamed() {
		assertMalformed(new Header[0], "Header 'id' is missing");
		assertMalformed(new Header[] { header("id", "not-a-uuid") }, "not a UUID");
		assertMalformed(new Header[] { new RecordHeader("id", null) }, "not a UUID");
		String id = MessageIds.next().toString();
		assertMalformed(new Header[] { header("id", id), header("ambpriority", "urgent") }, "ambpriority");
		assertMalformed(new Header[] { header("id", id), header("time", "yesterday") }, "'time'");
		assertMalformed(new Header[] { header("id", id), header("ambexpiresat", "1700000000") }, "ambexpiresat");
	}

	@Test
	void idsAreReadInAnyFormUuidAccepts() {
		UUID id = MessageIds.next(NOW);
		for (String text : List.of(id.toString(), id.toString().toUpperCase())) {
			Envelope read = this.reader.read(received("t", null, 7, new Header[] { header("id", text) }, BODY), "t",
					Priority.NORMAL);
			assertThat(read.id()).as(text).isEqualTo(id);
		}
		Envelope read = this.reader.read(received("t", null, 7, new Header[] { header("id", "1-2-3-4-5") }, BODY), "t",
				Priority.NORMAL);
		assertThat(read.id()).isEqualTo(UUID.fromString("1-2-3-4-5"));
	}

	@Test
	void idTextIsWhatUuidToStringWrites() {
		for (int i = 0; i < 1000; i++) {
			UUID id = (i % 2 == 0) ? UUID.randomUUID() : MessageIds.next();
			assertThat(new String(KafkaRecords.idBytes(id), StandardCharsets.US_ASCII)).isEqualTo(id.toString());
			assertThat(KafkaRecords.parseId(KafkaRecords.idBytes(id))).isEqualTo(id);
		}
		UUID extreme = new UUID(-1L, 0L);
		assertThat(new String(KafkaRecords.idBytes(extreme), StandardCharsets.US_ASCII)).isEqualTo(extreme.toString());
	}

	private void assertMalformed(Header[] headers, String mention) {
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> this.reader.read(received("t", null, 7, headers, BODY), "t", Priority.NORMAL))
			.withMessageContaining(mention);
	}

	private static Header header(String name, String value) {
		return new RecordHeader(name, value.getBytes(StandardCharsets.UTF_8));
	}

	private static void assertSameEnvelope(Envelope read, Envelope envelope) {
		assertThat(read.id()).isEqualTo(envelope.id());
		assertThat(read.topic()).isEqualTo(envelope.topic());
		assertThat(read.key()).isEqualTo(envelope.key());
		assertThat(read.priority()).isEqualTo(envelope.priority());
		assertThat(read.timestamp()).isEqualTo(envelope.timestamp());
		assertThat(read.source()).isEqualTo((envelope.source() != null) ? envelope.source() : "/amb");
		assertThat(read.contentType()).isEqualTo(envelope.contentType());
		assertThat(read.correlationId()).isEqualTo(envelope.correlationId());
		assertThat(read.replyTo()).isEqualTo(envelope.replyTo());
		assertThat(read.expiresAt()).isEqualTo(envelope.expiresAt());
		assertThat(read.headers()).isEqualTo(envelope.headers());
		assertThat(read.payload()).isEqualTo(envelope.payload());
	}

}
