package dev.amb.core.adapters.rabbitmq;

import com.rabbitmq.client.Channel;

import dev.amb.core.spi.Envelope;

/**
 * One delivery: the envelope, and the channel's acknowledgements and tag to settle it with.
 *
 * @param envelope what arrived
 * @param acks the acknowledgements of the channel it arrived on
 * @param deliveryTag its tag on that channel
 */
record RabbitDelivery(Envelope envelope, AckWindow acks, long deliveryTag) {

	Channel channel() {
		return this.acks.channel();
	}

}
