package dev.amb.core.adapters.rabbitmq;

import com.rabbitmq.client.Channel;

import dev.amb.core.spi.Envelope;

/**
 * One delivery: the envelope, and the channel and tag to acknowledge it on.
 *
 * @param envelope what arrived
 * @param channel the channel it arrived on
 * @param deliveryTag its tag on that channel
 */
record RabbitDelivery(Envelope envelope, Channel channel, long deliveryTag) {

}
