package dev.amb.core.adapters.redis;

/**
 * One stream a subscription reads: a topic's lane.
 *
 * @param topic the topic
 * @param lane the lane, 0 the highest
 * @param key the stream key, as sent to Redis
 * @param name the stream key as text, for logs and local bookkeeping
 */
record StreamRef(String topic, int lane, byte[] key, String name) {

}
