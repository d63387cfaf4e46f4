package dev.amb.core.persistence;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;

import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The record framing: what is written reads back identically, and any single damaged byte is
 * caught by the marker, the length check or the CRC32C.
 */
class RecordFormatTests {

	@Test
	void envelopeWithEveryAttributeRoundTrips() {
		Map<String, String> headers = new LinkedHashMap<>();
		headers.put("traceparent", "00-abc-def-01");
		headers.put("grüße", "π ≈ 3.14159 🚀");
		Envelope envelope = new Envelope(MessageIds.next(), "agents.planner.tasks", "order-42", Priority.HIGH,
				1_700_000_000_123L, "/agents/planner", "application/json", "corr-1", "_amb.reply.x", 1_700_000_060_000L,
				headers, "{\"task\":\"plan\"}".getBytes());
		Envelope read = roundTrip(envelope);
		assertThat(read.id()).isEqualTo(envelope.id());
		assertThat(read.topic()).isEqualTo("agents.planner.tasks");
		assertThat(read.key()).isEqualTo("order-42");
		assertThat(read.priority()).isEqualTo(Priority.HIGH);
		assertThat(read.timestamp()).isEqualTo(1_700_000_000_123L);
		assertThat(read.source()).isEqualTo("/agents/planner");
		assertThat(read.contentType()).isEqualTo("application/json");
		assertThat(read.correlationId()).isEqualTo("corr-1");
		assertThat(read.replyTo()).isEqualTo("_amb.reply.x");
		assertThat(read.expiresAt()).isEqualTo(1_700_000_060_000L);
		assertThat(read.headers()).containsExactlyEntriesOf(headers);
		assertThat(read.payload()).isEqualTo(envelope.payload());
	}

	@Test
	void envelopeWithNullsAndEmptyPayloadRoundTrips() {
		Envelope envelope = new Envelope(MessageIds.next(), "t", null, Priority.LOW, 5, null, null, null, null, 0,
				Map.of(), new byte[0]);
		Envelope read = roundTrip(envelope);
		assertThat(read.key()).isNull();
		assertThat(read.source()).isNull();
		assertThat(read.contentType()).isNull();
		assertThat(read.correlationId()).isNull();
		assertThat(read.replyTo()).isNull();
		assertThat(read.headers()).isEmpty();
		assertThat(read.payload()).isEmpty();
		assertThat(read.priority()).isEqualTo(Priority.LOW);
	}

	@Test
	void everySingleFlippedByteIsDetected() {
		byte[] record = RecordFormat.appendRecord(sample());
		CRC32C crc = new CRC32C();
		assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(record), 0, record.length, crc)).isEqualTo(record.length);
		for (int position = 0; position < record.length; position++) {
			for (int bit = 0; bit < 8; bit++) {
				byte[] damaged = record.clone();
				damaged[position] ^= (byte) (1 << bit);
				assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(damaged), 0, damaged.length, crc))
					.as("byte %d bit %d flipped", position, bit)
					.isEqualTo(-1);
			}
		}
	}

	@Test
	void aTruncatedRecordIsNotIntact() {
		byte[] record = RecordFormat.appendRecord(sample());
		CRC32C crc = new CRC32C();
		for (int length = 0; length < record.length; length++) {
			assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(record), 0, length, crc)).isEqualTo(-1);
		}
	}

	@Test
	void ackRecordRoundTrips() {
		UUID id = MessageIds.next();
		ByteBuffer buffer = ByteBuffer.allocate(RecordFormat.ACK_RECORD_BYTES + 7);
		buffer.position(7);
		RecordFormat.writeAckRecord(buffer, id, new CRC32C());
		assertThat(buffer.position()).isEqualTo(buffer.capacity());
		assertThat(RecordFormat.intactRecordLength(buffer, 7, buffer.capacity(), new CRC32C()))
			.isEqualTo(RecordFormat.ACK_RECORD_BYTES);
		assertThat(buffer.get(7 + 12)).isEqualTo(RecordFormat.TYPE_ACK);
		assertThat(RecordFormat.readAck(buffer, 7 + RecordFormat.RECORD_HEADER_BYTES)).isEqualTo(id);
	}

	@Test
	void namedAppendAndAcknowledgementRoundTrip() {
		Envelope envelope = sample();
		String[] names = { "group:billing", "name:audit", "pattern:agents.*" };
		byte[] record = RecordFormat.appendRecord(envelope, names);
		ByteBuffer data = ByteBuffer.wrap(record);
		assertThat(RecordFormat.intactRecordLength(data, 0, record.length, new CRC32C())).isEqualTo(record.length);
		assertThat(data.get(12)).isEqualTo(RecordFormat.TYPE_APPEND_FOR);
		assertThat(data.getLong(RecordFormat.RECORD_HEADER_BYTES)).as("the id opens the body, as in type 1")
			.isEqualTo(envelope.id().getMostSignificantBits());
		RecordFormat.Appended read = RecordFormat.readAppend(data, RecordFormat.RECORD_HEADER_BYTES,
				record.length - RecordFormat.RECORD_HEADER_BYTES, true);
		assertThat(read.envelope().id()).isEqualTo(envelope.id());
		assertThat(read.envelope().payload()).isEqualTo(envelope.payload());
		assertThat(read.names()).containsExactly(names);
		assertThat(RecordFormat.readAppend(ByteBuffer.wrap(RecordFormat.appendRecord(envelope, new String[0])),
				RecordFormat.RECORD_HEADER_BYTES, RecordFormat.appendRecord(envelope, new String[0]).length
						- RecordFormat.RECORD_HEADER_BYTES, true).names()).isEmpty();

		UUID id = MessageIds.next();
		String name = "name:ünïcode-is-encoded-too";
		int length = RecordFormat.namedAckRecordBytes(name);
		ByteBuffer buffer = ByteBuffer.allocate(length + 3);
		buffer.position(3);
		RecordFormat.writeNamedAckRecord(buffer, id, name, new CRC32C());
		assertThat(buffer.position()).isEqualTo(buffer.capacity());
		assertThat(RecordFormat.intactRecordLength(buffer, 3, buffer.capacity(), new CRC32C())).isEqualTo(length);
		assertThat(buffer.get(3 + 12)).isEqualTo(RecordFormat.TYPE_ACK_FOR);
		RecordFormat.NamedAck ack = RecordFormat.readNamedAck(buffer, 3 + RecordFormat.RECORD_HEADER_BYTES,
				length - RecordFormat.RECORD_HEADER_BYTES);
		assertThat(ack.id()).isEqualTo(id);
		assertThat(ack.name()).isEqualTo(name);
	}

	@Test
	void everySingleFlippedByteOfNamedRecordsIsDetected() {
		byte[] append = RecordFormat.appendRecord(sample(), new String[] { "group:g", "name:n" });
		ByteBuffer ack = ByteBuffer.allocate(RecordFormat.namedAckRecordBytes("group:g"));
		RecordFormat.writeNamedAckRecord(ack, MessageIds.next(), "group:g", new CRC32C());
		CRC32C crc = new CRC32C();
		for (byte[] record : new byte[][] { append, ack.array() }) {
			for (int position = 0; position < record.length; position++) {
				byte[] damaged = record.clone();
				damaged[position] ^= (byte) 0x10;
				assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(damaged), 0, damaged.length, crc))
					.as("byte %d flipped", position)
					.isEqualTo(-1);
			}
		}
	}

	@Test
	void anImpossibleLengthIsNotARecord() {
		byte[] record = RecordFormat.appendRecord(sample());
		ByteBuffer.wrap(record).putInt(8, Integer.MAX_VALUE);
		assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(record), 0, record.length, new CRC32C())).isEqualTo(-1);
		ByteBuffer.wrap(record).putInt(8, -5);
		assertThat(RecordFormat.intactRecordLength(ByteBuffer.wrap(record), 0, record.length, new CRC32C())).isEqualTo(-1);
	}

	@Test
	void aBodyThatIsNotAnEnvelopeIsRefusedClearly() {
		ByteBuffer body = ByteBuffer.allocate(20);
		assertThatIllegalArgumentException().isThrownBy(() -> RecordFormat.readEnvelope(body, 0, 20))
			.withMessageContaining("ends inside a field");
	}

	@Test
	void segmentHeaderCarriesMagicAndVersion() {
		ByteBuffer header = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
		RecordFormat.writeSegmentHeader(header, 42);
		assertThat(header.getInt(0)).isEqualTo(0x414D4257);
		assertThat(header.getShort(4)).isEqualTo((short) 2);
		assertThat(header.getLong(8)).isEqualTo(42);
	}

	private static Envelope roundTrip(Envelope envelope) {
		byte[] record = RecordFormat.appendRecord(envelope);
		ByteBuffer data = ByteBuffer.wrap(record);
		assertThat(RecordFormat.intactRecordLength(data, 0, record.length, new CRC32C())).isEqualTo(record.length);
		assertThat(data.get(12)).isEqualTo(RecordFormat.TYPE_APPEND);
		return RecordFormat.readEnvelope(data, RecordFormat.RECORD_HEADER_BYTES,
				record.length - RecordFormat.RECORD_HEADER_BYTES);
	}

	static Envelope sample() {
		return new Envelope(MessageIds.next(), "agents.tasks", "k", Priority.NORMAL, System.currentTimeMillis(), "/amb",
				"application/json", null, null, 0, Map.of("h", "v"), "\"hello\"".getBytes());
	}

}
