package dev.amb.core.adapters.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.types.RedisClientInfo;

import dev.amb.core.testsupport.RealServer;

/**
 * The real Redis on loopback for the adapter's tests: a connection factory whose connections carry
 * a client name unique to the test class (so that a fault test kills only its own connections,
 * never another test's on the shared server), a unique key prefix, and clean-up of that prefix.
 */
final class RedisTestSupport implements AutoCloseable {

	private final String prefix = "amb-test-" + UUID.randomUUID().toString().substring(0, 8) + ":";

	private final String clientName = "amb-test-" + UUID.randomUUID().toString().substring(0, 8);

	private final LettuceConnectionFactory connectionFactory;

	private final LettuceConnectionFactory adminFactory;

	RedisTestSupport() {
		RealServer.REDIS.require();
		RedisStandaloneConfiguration server = new RedisStandaloneConfiguration(RealServer.REDIS.host(),
				RealServer.REDIS.port());
		this.connectionFactory = new LettuceConnectionFactory(server,
				LettuceClientConfiguration.builder().clientName(this.clientName).build());
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		this.adminFactory = new LettuceConnectionFactory(server);
		this.adminFactory.afterPropertiesSet();
		this.adminFactory.start();
	}

	/** @return the factory the adapters under test use */
	LettuceConnectionFactory connectionFactory() {
		return this.connectionFactory;
	}

	/** @return the unique key prefix of this test class */
	String prefix() {
		return this.prefix;
	}

	/** @return settings with this class's prefix */
	RedisBrokerSettings.Builder settings() {
		return RedisBrokerSettings.builder().streamPrefix(this.prefix);
	}

	/** @return a connection that is never killed by {@link #killClients()} */
	RedisConnection admin() {
		return this.adminFactory.getConnection();
	}

	/**
	 * Kills every connection the adapters under test hold ({@code CLIENT KILL} by address, issued
	 * on a separate connection), as a network failure or a server-side timeout would.
	 * @return how many were killed
	 */
	int killClients() {
		int killed = 0;
		try (RedisConnection admin = admin()) {
			List<RedisClientInfo> clients = admin.serverCommands().getClientList();
			for (RedisClientInfo client : clients) {
				if (this.clientName.equals(client.getName())) {
					String address = client.getAddressPort();
					int colon = address.lastIndexOf(':');
					try {
						admin.serverCommands().killClient(address.substring(0, colon),
								Integer.parseInt(address.substring(colon + 1)));
						killed++;
					}
					catch (RuntimeException ex) {
						// Gone already.
					}
				}
			}
		}
		return killed;
	}

	/** Deletes every key under this class's prefix (SCAN + DEL: other tests share the server). */
	void deleteKeys() {
		try (RedisConnection admin = admin()) {
			List<byte[]> keys = new ArrayList<>();
			try (Cursor<byte[]> cursor = admin.keyCommands()
				.scan(ScanOptions.scanOptions().match(this.prefix + "*").count(1000).build())) {
				cursor.forEachRemaining(keys::add);
			}
			if (!keys.isEmpty()) {
				admin.keyCommands().del(keys.toArray(new byte[0][]));
			}
		}
	}

	@Override
	public void close() {
		try {
			deleteKeys();
		}
		finally {
			this.connectionFactory.destroy();
			this.adminFactory.destroy();
		}
	}

}
