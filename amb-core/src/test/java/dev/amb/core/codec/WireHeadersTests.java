package dev.amb.core.codec;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import dev.amb.core.InvalidMessageException;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link WireHeaders}: the CloudEvents-named wire headers of an envelope.
 */
class WireHeadersTests {

	private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

	private static Envelope full() {
		long now = 1_760_000_000_123L;
		Map<String, String> headers = new LinkedHashMap<>();
		headers.put("tenant", "acme");
		headers.put("x-trace", "t-1");
		return new Envelope(MessageIds.next(now), "agent.tasks", "key-1", Priority.HIGH, now, "/agents/a",
				PayloadCodec.JSON, "corr-1", "_amb.reply.abc", now + 60_000, headers, BODY);
	}

	@Test
	void writeUsesCloudEventsNames() {
		Envelope envelope = full();
		Map<String, String> headers = WireHeaders.write(envelope);
		assertThat(headers).containsEntry("specversion", "1.0")
			.containsEntry("id", envelope.id().toString())
			.containsEntry("source", "/agents/a")
			.containsEntry("type", WireHeaders.MESSAGE_TYPE)
			.containsEntry("time", "2025-10-09T08:53:20.123Z")
			.containsEntry("datacontenttype", PayloadCodec.JSON)
			.containsEntry("ambtopic", "agent.tasks")
			.containsEntry("ambkey", "key-1")
			.containsEntry("ambpriority", "high")
			.containsEntry("ambcorrelationid", "corr-1")
			.containsEntry("ambreplyto", "_amb.reply.abc")
			.containsEntry("ambexpiresat", "2025-10-09T08:54:20.123Z")
			.containsEntry("tenant", "acme")
			.containsEntry("x-trace", "t-1");
	}

	@Test
	void roundTripKeepsEveryAttribute() {
		Envelope envelope = full();
		Envelope read = WireHeaders.read(WireHeaders.write(envelope), BODY, "ignored");
		assertThat(read.id()).isEqualTo(envelope.id());
		assertThat(read.topic()).isEqualTo(envelope.topic());
		assertThat(read.key()).isEqualTo(envelope.key());
		assertThat(read.priority()).isEqualTo(envelope.priority());
		assertThat(read.timestamp()).isEqualTo(envelope.timestamp());
		assertThat(read.source()).isEqualTo(envelope.source());
		assertThat(read.contentType()).isEqualTo(envelope.contentType());
		assertThat(read.correlationId()).isEqualTo(envelope.correlationId());
		assertThat(read.replyTo()).isEqualTo(envelope.replyTo());
		assertThat(read.expiresAt()).isEqualTo(envelope.expiresAt());
		assertThat(read.headers()).isEqualTo(envelope.headers());
		assertThat(read.payload()).isSameAs(BODY);
	}

	@Test
	void optionalAttributesAreLeftOutAndReadAsAbsent() {
		Envelope minimal = new Envelope(MessageIds.next(), "t", null, Priority.NORMAL, System.currentTimeMillis(), null,
				null, null, null, 0, null, BODY);
		Map<String, String> headers = WireHeaders.write(minimal);
		assertThat(headers).doesNotContainKeys("ambkey", "ambcorrelationid", "ambreplyto", "ambexpiresat",
				"datacontenttype");
		Envelope read = WireHeaders.read(headers, BODY, "t");
		assertThat(read.key()).isNull();
		assertThat(read.correlationId()).isNull();
		assertThat(read.expiresAt()).isZero();
		assertThat(read.headers()).isEmpty();
	}

	@Test
	void minimalForeignMessageIsReadWithFallbacks() {
		UUID id = MessageIds.next(1_760_000_000_000L);
		Envelope read = WireHeaders.read(Map.of("id", id.toString()), BODY, "from.broker");
		assertThat(read.topic()).isEqualTo("from.broker");
		assertThat(read.priority()).isEqualTo(Priority.NORMAL);
		assertThat(read.timestamp()).as("time from the UUIDv7 id").isEqualTo(1_760_000_000_000L);
	}

	@Test
	void deadLetterHeadersSurviveTheWire() {
		Envelope envelope = full();
		Map<String, String> headers = new LinkedHashMap<>(envelope.headers());
		headers.put(WireHeaders.DLQ_REASON, "handler failed");
		headers.put(WireHeaders.DLQ_ATTEMPTS, "3");
		Envelope deadLetter = envelope.withTopicAndHeaders("agent.tasks.dlq", headers);
		Envelope read = WireHeaders.read(WireHeaders.write(deadLetter), BODY, "x");
		assertThat(read.topic()).isEqualTo("agent.tasks.dlq");
		assertThat(read.headers()).containsEntry(WireHeaders.DLQ_REASON, "handler failed")
			.containsEntry(WireHeaders.DLQ_ATTEMPTS, "3")
			.containsEntry("tenant", "acme");
	}

	@Test
	void missingIdIsMalformed() {
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> WireHeaders.read(Map.of("ambtopic", "a"), BODY, "a"))
			.withMessageContaining("'id'");
	}

	@Test
	void malformedAttributesAreNamed() {
		Map<String, String> valid = WireHeaders.write(full());
		assertMalformed(valid, "id", "not-a-uuid", "not a UUID");
		assertMalformed(valid, "ambtopic", "a..b", "ambtopic");
		assertMalformed(valid, "ambtopic", "a.*", "ambtopic");
		assertMalformed(valid, "ambpriority", "urgent", "ambpriority");
		assertMalformed(valid, "time", "yesterday", "time");
		assertMalformed(valid, "ambexpiresat", "1700000000", "ambexpiresat");
	}

	@Test
	void longGarbageIsAbbreviatedInTheMessage() {
		Map<String, String> headers = new HashMap<>(WireHeaders.write(full()));
		headers.put("id", "x".repeat(10_000));
		assertThatExceptionOfType(MalformedEnvelopeException.class)
			.isThrownBy(() -> WireHeaders.read(headers, BODY, "a"))
			.satisfies((ex) -> assertThat(ex.getMessage()).hasSizeLessThan(200));
	}

	private static void assertMalformed(Map<String, String> valid, String header, String value, String mention) {
		Map<String, String> headers = new HashMap<>(valid);
		headers.put(header, value);
		assertThatExceptionOfType(MalformedEnvelopeException.class).as("%s=%s", header, value)
			.isThrownBy(() -> WireHeaders.read(headers, BODY, "fallback"))
			.withMessageContaining(mention);
	}

	@Test
	void unreadableWireDataBecomesADeadLetterKeepingWhatArrived() {
		Map<String, String> arrived = new LinkedHashMap<>();
		arrived.put("id", "garbage");
		arrived.put("tenant", "acme");
		byte[] body = { 1, 2, 3 };
		Envelope deadLetter = WireHeaders.unreadable("agent.tasks", arrived, body,
				new MalformedEnvelopeException("Header 'id' is not a UUID"));
		assertThat(deadLetter.topic()).isEqualTo("agent.tasks.dlq");
		assertThat(deadLetter.id().version()).isEqualTo(7);
		assertThat(deadLetter.payload()).containsExactly(body);
		assertThat(deadLetter.contentType()).isEqualTo(PayloadCodec.BYTES);
		assertThat(deadLetter.headers()).containsEntry(WireHeaders.RAW_PREFIX + "id", "garbage")
			.containsEntry("tenant", "acme")
			.containsEntry(WireHeaders.DLQ_ATTEMPTS, "0")
			.containsEntry(WireHeaders.DLQ_ORIGINAL_TOPIC, "agent.tasks")
			.containsEntry(WireHeaders.DLQ_EXCEPTION, MalformedEnvelopeException.class.getName())
			.doesNotContainKey("id");
		assertThat(deadLetter.headers().get(WireHeaders.DLQ_REASON)).startsWith("unreadable envelope")
			.contains("not a UUID");
		Envelope read = WireHeaders.read(WireHeaders.write(deadLetter), body, "x");
		assertThat(read.headers()).containsEntry(WireHeaders.RAW_PREFIX + "id", "garbage")
			.containsEntry(WireHeaders.DLQ_ORIGINAL_TOPIC, "agent.tasks");
	}

	@Test
	void unreadableWithoutBodyHasAnEmptyPayload() {
		Envelope deadLetter = WireHeaders.unreadable("t", Map.of(), null, new IllegalStateException("no body"));
		assertThat(deadLetter.payload()).isEmpty();
	}

	@Test
	void reservedNames() {
		assertThat(WireHeaders.isReserved("id")).isTrue();
		assertThat(WireHeaders.isReserved("datacontenttype")).isTrue();
		assertThat(WireHeaders.isReserved("ambanything")).isTrue();
		assertThat(WireHeaders.isReserved("tenant")).isFalse();
		assertThatExceptionOfType(InvalidMessageException.class)
			.isThrownBy(() -> WireHeaders.checkApplicationHeaders(Map.of("ambtopic", "x")))
			.withMessageContaining("ambtopic");
	}

}
