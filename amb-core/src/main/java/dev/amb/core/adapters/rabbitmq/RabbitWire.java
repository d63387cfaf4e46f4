package dev.amb.core.adapters.rabbitmq;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import com.rabbitmq.client.AMQP;

import dev.amb.core.Priority;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;

/**
 * The envelope on AMQP: the CloudEvents-named attributes of {@link WireHeaders} as application
 * headers (the canonical form, what a reader uses), mirrored into the AMQP basic properties that
 * AMQP tools show (message id, content type, timestamp, correlation id, priority, delivery mode);
 * the payload as the body.
 * <p>
 * A message carries as headers only what the rest of it does not already say, as on Kafka: the
 * four attributes CloudEvents requires ({@code specversion}, {@code id}, {@code source},
 * {@code type}), then {@code datacontenttype} unless JSON, {@code time} unless it is the time in
 * the version 7 id, {@code ambpriority} only for the low lane, and {@code ambkey},
 * {@code ambcorrelationid}, {@code ambreplyto} and {@code ambexpiresat} when set. The topic is the
 * routing key; the high and normal lanes are the AMQP priority. Readers accept the full header set
 * as well (what earlier versions wrote, what other clients may write); a header that is present
 * wins over what it would be implied from.
 */
final class RabbitWire {

	private static final int PERSISTENT = 2;

	private static final int TRANSIENT = 1;

	private static final int LOW_LANE = Priority.LOW.lane();

	private RabbitWire() {
	}

	static AMQP.BasicProperties properties(Envelope envelope, boolean persistent) {
		String id = envelope.id().toString();
		String contentType = envelope.contentType();
		Map<String, String> application = envelope.headers();
		// The map is new and only ours: AMQP takes it as it is, saving a copy per publish.
		Map<String, Object> headers = new HashMap<>(16 + application.size() * 2);
		// Header values as strings, not AMQP long strings: the client copies a long string through a
		// new 4 KB buffer, a string it encodes directly.
		headers.put(WireHeaders.SPEC_VERSION, WireHeaders.SPEC_VERSION_1_0);
		headers.put(WireHeaders.ID, id);
		headers.put(WireHeaders.SOURCE, (envelope.source() != null) ? envelope.source() : WireHeaders.DEFAULT_SOURCE);
		headers.put(WireHeaders.TYPE, WireHeaders.MESSAGE_TYPE);
		if (!WireHeaders.isTimeImpliedById(envelope)) {
			headers.put(WireHeaders.TIME, WireHeaders.formatTime(envelope.timestamp()));
		}
		if (!WireHeaders.isContentTypeImplied(contentType)) {
			headers.put(WireHeaders.CONTENT_TYPE, contentType);
		}
		int lane = envelope.priority().lane();
		if (lane == LOW_LANE) {
			// AMQP priority 0 is also what a message without one gets: only this lane says so itself.
			headers.put(WireHeaders.PRIORITY, Priority.LOW.wireName());
		}
		putIfSet(headers, WireHeaders.KEY, envelope.key());
		putIfSet(headers, WireHeaders.CORRELATION_ID, envelope.correlationId());
		putIfSet(headers, WireHeaders.REPLY_TO, envelope.replyTo());
		if (envelope.expiresAt() != 0) {
			headers.put(WireHeaders.EXPIRES_AT, WireHeaders.formatTime(envelope.expiresAt()));
		}
		headers.putAll(application);
		return new AMQP.BasicProperties.Builder().headers(headers)
			.messageId(id)
			.contentType(contentType)
			.timestamp(new Date(envelope.timestamp()))
			.correlationId(envelope.correlationId())
			.priority(RabbitTopology.AMQP_PRIORITY[lane])
			.deliveryMode(persistent ? PERSISTENT : TRANSIENT)
			.type(WireHeaders.MESSAGE_TYPE)
			.build();
	}

	/**
	 * Adds to received headers the lane a message's AMQP priority implies when no
	 * {@code ambpriority} header names it: 2 and above the high lane, 1 the normal one. Priority 0
	 * is also what a message published without one reports, so it implies nothing (the normal
	 * lane, as before).
	 * @param headers the received headers, as strings
	 * @param amqpPriority the message's AMQP priority, or null
	 */
	static void addImplied(Map<String, String> headers, Integer amqpPriority) {
		if (amqpPriority != null && amqpPriority > 0 && !headers.containsKey(WireHeaders.PRIORITY)) {
			headers.put(WireHeaders.PRIORITY, ((amqpPriority >= 2) ? Priority.HIGH : Priority.NORMAL).wireName());
		}
	}

	private static void putIfSet(Map<String, Object> headers, String name, String value) {
		if (value != null) {
			headers.put(name, value);
		}
	}

	/**
	 * The headers as strings, whatever type an AMQP client gave them.
	 * @param headers the AMQP headers of a received message, or null; the message's own map
	 * @return the same map if it holds only strings, else a new one
	 */
	@SuppressWarnings({ "unchecked", "rawtypes" })
	static Map<String, String> stringHeaders(Map<String, Object> headers) {
		if (headers == null) {
			return new LinkedHashMap<>();
		}
		if (allStrings(headers)) {
			// Spring's converter already made strings of the AMQP long strings, in a map of the
			// message's own: no second copy.
			return (Map) headers;
		}
		Map<String, String> strings = new LinkedHashMap<>(headers.size() * 2);
		headers.forEach((name, value) -> {
			if (value != null) {
				strings.put(name, (value instanceof byte[] bytes) ? new String(bytes, StandardCharsets.UTF_8)
						: value.toString());
			}
		});
		return strings;
	}

	private static boolean allStrings(Map<String, Object> headers) {
		for (Object value : headers.values()) {
			if (!(value instanceof String)) {
				return false;
			}
		}
		return true;
	}

}
