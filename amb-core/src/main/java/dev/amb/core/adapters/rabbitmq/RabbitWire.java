package dev.amb.core.adapters.rabbitmq;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

import com.rabbitmq.client.AMQP;

import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;

/**
 * The envelope on AMQP: the CloudEvents-named attributes of {@link WireHeaders} as application
 * headers (the canonical form, what a reader uses), mirrored into the AMQP basic properties that
 * AMQP tools show (message id, content type, timestamp, correlation id, priority, delivery mode);
 * the payload as the body.
 */
final class RabbitWire {

	private static final int PERSISTENT = 2;

	private static final int TRANSIENT = 1;

	private RabbitWire() {
	}

	@SuppressWarnings({ "unchecked", "rawtypes" })
	static AMQP.BasicProperties properties(Envelope envelope, boolean persistent) {
		// The map is new and only ours: AMQP takes it as it is, saving a copy per publish.
		Map<String, Object> headers = (Map) WireHeaders.write(envelope);
		return new AMQP.BasicProperties.Builder().headers(headers)
			.messageId(envelope.id().toString())
			.contentType(envelope.contentType())
			.timestamp(new Date(envelope.timestamp()))
			.correlationId(envelope.correlationId())
			.priority(RabbitTopology.AMQP_PRIORITY[envelope.priority().lane()])
			.deliveryMode(persistent ? PERSISTENT : TRANSIENT)
			.type(WireHeaders.MESSAGE_TYPE)
			.build();
	}

	/**
	 * The headers as strings, whatever type an AMQP client gave them.
	 * @param headers the AMQP headers, or null
	 * @return a new map
	 */
	static Map<String, String> stringHeaders(Map<String, Object> headers) {
		if (headers == null) {
			return new LinkedHashMap<>();
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

}
