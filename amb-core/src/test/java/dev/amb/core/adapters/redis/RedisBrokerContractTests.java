package dev.amb.core.adapters.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.stream.StreamRecords;

import dev.amb.core.contract.BrokerContractTests;
import dev.amb.core.contract.DurableGroupContract;
import dev.amb.core.contract.PauseContract;
import dev.amb.core.contract.PriorityContract;
import dev.amb.core.contract.WildcardContract;
import dev.amb.core.spi.BrokerAdapter;

/**
 * The contract suite against the real Redis on loopback, with a claim timeout short enough for a
 * successor to pick up what a closed member left pending within the suite's delivery timeout.
 */
class RedisBrokerContractTests extends BrokerContractTests {

	static RedisTestSupport redis;

	@BeforeAll
	static void connect() {
		redis = new RedisTestSupport();
	}

	@AfterAll
	static void cleanUp() {
		if (redis != null) {
			redis.close();
		}
	}

	@Override
	protected BrokerAdapter createAdapter() {
		return new RedisBrokerAdapter(redis.connectionFactory(), settings());
	}

	static RedisBrokerSettings settings() {
		return redis.settings().claimTimeout(Duration.ofSeconds(2)).topicRefreshInterval(Duration.ofMillis(200)).build();
	}

	@Override
	protected boolean sendUnreadable(String topic, byte[] body) {
		try (RedisConnection connection = redis.admin()) {
			connection.streamCommands()
				.xAdd(StreamRecords
					.rawBytes(Map.of(bytes("origin"), bytes("a foreign client"), bytes(RedisBrokerAdapter.DATA_FIELD), body))
					.withStreamKey(bytes(redis.prefix() + topic + ":normal")));
		}
		return true;
	}

	@Nested
	class Priorities extends PriorityContract {

	}

	@Nested
	class Wildcards extends WildcardContract {

	}

	@Nested
	class DurableGroups extends DurableGroupContract {

	}

	@Nested
	class Pause extends PauseContract {

	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
