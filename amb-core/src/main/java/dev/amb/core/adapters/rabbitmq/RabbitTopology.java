package dev.amb.core.adapters.rabbitmq;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;

import dev.amb.core.Topics;
import dev.amb.core.TopicPattern;
import dev.amb.core.spi.ConsumerSpec;

/**
 * Where topics go and what each subscription consumes from. Three topic exchanges keep AMQP's
 * {@code #} from matching what AMB wildcards must not match: ordinary topics go to
 * {@link RabbitBrokerSettings#exchange()}, dead-letter topics (last segment {@code dlq}) to
 * {@link RabbitBrokerSettings#deadLetterExchange()}, internal topics (first segment {@code _amb})
 * to {@link RabbitBrokerSettings#internalExchange()}. A pattern is bound on the exchange of the
 * topics it may match, so {@code agent.#} on the main exchange never sees {@code agent.x.dlq}.
 */
final class RabbitTopology {

	/** AMQP priority of each lane, index = lane (0 is HIGH). */
	static final int[] AMQP_PRIORITY = { 2, 1, 0 };

	/** The {@code x-max-priority} of every subscription queue. */
	static final int MAX_PRIORITY = 2;

	private static final int MAX_QUEUE_NAME_BYTES = 255;

	private final RabbitBrokerSettings settings;

	RabbitTopology(RabbitBrokerSettings settings) {
		this.settings = settings;
	}

	/**
	 * The exchange a topic is published to.
	 * @param topic the topic
	 * @return the exchange name
	 */
	String exchangeFor(String topic) {
		if (topic.startsWith(Topics.INTERNAL_SEGMENT) && (topic.length() == Topics.INTERNAL_SEGMENT.length()
				|| topic.charAt(Topics.INTERNAL_SEGMENT.length()) == '.')) {
			return this.settings.internalExchange();
		}
		if (lastSegmentIsDeadLetter(topic)) {
			return this.settings.deadLetterExchange();
		}
		return this.settings.exchange();
	}

	/**
	 * Whether an internal topic, whose exchange also carries its dead letters, needs the pattern
	 * checked again on receipt.
	 * @param pattern the pattern
	 * @return whether deliveries must be filtered
	 */
	boolean needsFilter(TopicPattern pattern) {
		return pattern.isWildcard() && exchangeFor(pattern.pattern()).equals(this.settings.internalExchange());
	}

	private static boolean lastSegmentIsDeadLetter(String name) {
		int dot = name.lastIndexOf('.');
		return Topics.DEAD_LETTER_SEGMENT.equals(name.substring(dot + 1));
	}

	/**
	 * The queue of a subscription: durable and shared for a group, private to this instance for a
	 * broadcast subscription.
	 * @param spec the subscription
	 * @return the queue name
	 */
	String queueFor(ConsumerSpec spec) {
		String name = spec.isBroadcast()
				? this.settings.queuePrefix() + "sub." + spec.id() + "." + UUID.randomUUID().toString().substring(0, 8)
				: this.settings.queuePrefix() + spec.group() + "@" + spec.pattern().pattern();
		if (name.getBytes(StandardCharsets.UTF_8).length > MAX_QUEUE_NAME_BYTES) {
			// Keep names unique and within AMQP's limit: a readable start and a hash of the whole.
			String hash = Integer.toHexString(name.hashCode()) + Integer.toHexString(name.length());
			name = name.substring(0, 200) + "~" + hash;
		}
		return name;
	}

	/**
	 * Declares the exchanges, and the queue that keeps dead letters no subscription takes.
	 * @param channel a channel
	 * @throws IOException if the broker refused
	 */
	void declareExchanges(Channel channel) throws IOException {
		String unrouted = this.settings.unroutedDeadLetterQueue();
		channel.exchangeDeclare(this.settings.exchange(), BuiltinExchangeType.TOPIC, true);
		channel.exchangeDeclare(this.settings.internalExchange(), BuiltinExchangeType.TOPIC, true);
		channel.exchangeDeclare(unrouted, BuiltinExchangeType.FANOUT, true);
		channel.queueDeclare(unrouted, true, false, false, null);
		channel.queueBind(unrouted, unrouted, "");
		channel.exchangeDeclare(this.settings.deadLetterExchange(), BuiltinExchangeType.TOPIC, true, false,
				Map.of("alternate-exchange", unrouted));
	}

	/**
	 * Declares a subscription's queue and binds it.
	 * @param channel a channel
	 * @param spec the subscription
	 * @param queue its queue name
	 * @throws IOException if the broker refused (for example a group queue declared before with
	 * other arguments)
	 */
	void declareQueue(Channel channel, ConsumerSpec spec, String queue) throws IOException {
		Map<String, Object> arguments = new HashMap<>();
		arguments.put("x-max-priority", MAX_PRIORITY);
		if (spec.isBroadcast()) {
			arguments.put("x-expires", this.settings.broadcastQueueExpiry().toMillis());
			channel.queueDeclare(queue, false, false, false, arguments);
		}
		else {
			if (this.settings.singleActiveConsumer()) {
				arguments.put("x-single-active-consumer", true);
			}
			channel.queueDeclare(queue, true, false, false, arguments);
		}
		channel.queueBind(queue, exchangeFor(spec.pattern().pattern()), spec.pattern().pattern());
	}

}
