package dev.amb.core.adapters.redis;

import java.util.Map;

import org.springframework.data.redis.connection.stream.RecordId;

import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.spi.Envelope;

/**
 * An entry read from a stream, on its way from the reader to a worker: its envelope, or, if its
 * fields do not make one, the fields and why, for the dead-letter stream.
 *
 * @param stream the stream it came from
 * @param id its id in the stream
 * @param envelope its envelope, or null if it is unreadable
 * @param fields its fields if it is unreadable, otherwise null
 * @param failure why it is unreadable, or null
 * @param localKey identifies it among the subscription's in-flight entries
 */
record StreamEntry(StreamRef stream, RecordId id, Envelope envelope, Map<byte[], byte[]> fields,
		MalformedEnvelopeException failure, String localKey) {

	/** @return the ordering key, or null */
	String key() {
		return (this.envelope != null) ? this.envelope.key() : null;
	}

}
