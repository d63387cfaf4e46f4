package dev.amb.core.adapters.redis;

import dev.amb.core.spi.BrokerAdapter;

/**
 * The contract suite, capability contracts included, with the adapter on Spring Data Redis's own
 * API only (pipelines for the writes, {@code XREADGROUP} through {@code RedisStreamCommands}), as
 * it runs with a driver other than Lettuce.
 */
class RedisSpringDataPathContractTests extends RedisBrokerContractTests {

	@Override
	protected BrokerAdapter createAdapter() {
		return new RedisBrokerAdapter(redis.connectionFactory(), settings(), false);
	}

}
