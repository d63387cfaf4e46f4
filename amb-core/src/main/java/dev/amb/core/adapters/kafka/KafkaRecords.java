package dev.amb.core.adapters.kafka;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;

import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;

/**
 * The wire format on Kafka: the envelope's attributes as record headers named after CloudEvents
 * (see {@link WireHeaders}), each value UTF-8; the payload as the record value; the ordering key
 * as the record key (UTF-8), so that Kafka's partitioner keeps one key in one partition; the
 * publish time as the record timestamp.
 */
final class KafkaRecords {

	private static final byte[] EMPTY = new byte[0];

	private KafkaRecords() {
	}

	/**
	 * The record for an envelope.
	 * @param kafkaTopic the Kafka topic of the envelope's topic and lane
	 * @param envelope the envelope
	 * @return the record
	 */
	static ProducerRecord<byte[], byte[]> toRecord(String kafkaTopic, Envelope envelope) {
		Map<String, String> attributes = WireHeaders.write(envelope);
		Header[] headers = new Header[attributes.size()];
		int i = 0;
		for (Map.Entry<String, String> attribute : attributes.entrySet()) {
			headers[i++] = new RecordHeader(attribute.getKey(), attribute.getValue().getBytes(StandardCharsets.UTF_8));
		}
		byte[] key = (envelope.key() != null) ? envelope.key().getBytes(StandardCharsets.UTF_8) : null;
		return new ProducerRecord<>(kafkaTopic, null, envelope.timestamp(), key, envelope.payload(),
				new RecordHeaders(headers));
	}

	/**
	 * The headers of a received record as strings; of a header that occurs more than once, the last wins.
	 * @param record the record
	 * @return the headers
	 */
	static Map<String, String> headers(ConsumerRecord<byte[], byte[]> record) {
		Header[] headers = record.headers().toArray();
		Map<String, String> map = new HashMap<>(Math.max(16, headers.length * 2));
		for (Header header : headers) {
			byte[] value = header.value();
			map.put(header.key(), (value != null) ? new String(value, StandardCharsets.UTF_8) : "");
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

}
