package dev.amb.core.adapters.redis;

import java.util.Map;

import org.springframework.data.redis.connection.stream.RecordId;

/**
 * An entry read from a stream, on its way from the reader to a worker.
 *
 * @param stream the stream it came from
 * @param id its id in the stream
 * @param fields its fields other than the payload, as text
 * @param data the payload field, or null if the entry has none
 * @param localKey identifies it among the subscription's in-flight entries
 */
record StreamEntry(StreamRef stream, RecordId id, Map<String, String> fields, byte[] data, String localKey) {

}
