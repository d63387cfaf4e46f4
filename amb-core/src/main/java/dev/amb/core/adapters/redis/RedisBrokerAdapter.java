package dev.amb.core.adapters.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.BusClosedException;
import dev.amb.core.Priority;
import dev.amb.core.Topics;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Envelope;

/**
 * The Redis backend, on Redis Streams through Spring Data Redis.
 * <p>
 * A stream per topic and lane ({@code <prefix><topic>:<lane>}); each entry carries the
 * envelope's CloudEvents attributes as fields (those the stream does not imply, see
 * {@link StreamFields}) and the payload in the field {@value #DATA_FIELD}.
 * A group subscription reads through a consumer group named after the AMB group (XREADGROUP,
 * XACK after the handler finished); a broadcast subscription through a consumer group of its own,
 * created at {@code $} and destroyed when it closes. Entries left pending longer than the claim
 * timeout (a member died, or the bus asked for redelivery) are claimed by a live member of the
 * group and delivered again. Publishers add each topic once to a registry set
 * ({@code <prefix>topics}) that wildcard subscriptions read to find new streams.
 */
public final class RedisBrokerAdapter implements BrokerAdapter {

	/** The stream field holding the payload. */
	public static final String DATA_FIELD = "data";

	/**
	 * Not {@link Capability#KEY_ORDER}: one subscription keeps each key in order whatever its
	 * concurrency (entries go to workers by key hash), but Redis hands a group's entries to whichever
	 * member reads next, so two members may handle one key's entries at once. Not
	 * {@link Capability#BOUNDED_QUEUES}: the backlog is the stream, bounded by trimming, and
	 * publishers are not slowed by a subscriber's backlog.
	 */
	private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(Capability.DURABLE,
			Capability.DURABLE_GROUPS, Capability.WILDCARDS, Capability.PRIORITY, Capability.PAUSE));

	private static final long REREGISTER_SECONDS = 30;

	private static final long REREGISTER_NANOS = TimeUnit.SECONDS.toNanos(REREGISTER_SECONDS);

	/** Stream keys are cached per topic up to this many topics. */
	private static final int MAX_CACHED_TOPICS = 10_000;

	private static final String[] LANE_NAMES = new String[Priority.laneCount()];

	private static final boolean LETTUCE_PRESENT = isPresent("io.lettuce.core.RedisClient")
			&& isPresent("org.springframework.data.redis.connection.lettuce.LettuceConnection");

	static {
		for (Priority priority : Priority.values()) {
			LANE_NAMES[priority.lane()] = priority.wireName();
		}
	}

	private final RedisConnectionFactory connectionFactory;

	private final RedisBrokerSettings settings;

	private final byte[] registryKey;

	private final RedisWriter writer;

	private final RedisWriter acknowledger;

	private final StreamFields streamFields = new StreamFields();

	private final boolean lettuceNative;

	/** Per topic, when its publisher last added it to the topic set (System.nanoTime()). */
	private final Map<String, Long> registeredTopics = new ConcurrentHashMap<>();

	private final Map<String, byte[][]> keysByTopic = new ConcurrentHashMap<>();

	private final List<RedisConsumer> consumers = new CopyOnWriteArrayList<>();

	private volatile boolean started;

	private volatile boolean closed;

	/**
	 * A Redis backend with the default settings.
	 * @param connectionFactory where Redis is
	 */
	public RedisBrokerAdapter(RedisConnectionFactory connectionFactory) {
		this(connectionFactory, RedisBrokerSettings.defaults());
	}

	/**
	 * A Redis backend.
	 * @param connectionFactory where Redis is
	 * @param settings the backend's own settings
	 */
	public RedisBrokerAdapter(RedisConnectionFactory connectionFactory, RedisBrokerSettings settings) {
		this(connectionFactory, settings, LETTUCE_PRESENT);
	}

	/**
	 * A Redis backend that may use Lettuce's own API for its hot paths ({@code lettuceNative}), or
	 * only Spring Data Redis's, as it does with another driver (for tests).
	 */
	RedisBrokerAdapter(RedisConnectionFactory connectionFactory, RedisBrokerSettings settings, boolean lettuceNative) {
		this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory must not be null");
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
		this.lettuceNative = lettuceNative && LETTUCE_PRESENT;
		this.registryKey = bytes(settings.streamPrefix() + "topics");
		this.writer = new RedisWriter("amb-redis-writer", connectionFactory, settings, this.registryKey,
				this.registeredTopics::remove, !this.lettuceNative);
		// Acknowledgements have their own queue, so that they neither wait behind nor delay publishes.
		this.acknowledger = new RedisWriter("amb-redis-acks", connectionFactory, settings, this.registryKey,
				(topic) -> {
				}, !this.lettuceNative);
	}

	@Override
	public String name() {
		return "redis";
	}

	@Override
	public Set<Capability> capabilities() {
		return CAPABILITIES;
	}

	@Override
	public synchronized void start(AdapterContext context) {
		if (!this.started) {
			this.started = true;
			this.writer.start();
			this.acknowledger.start();
		}
	}

	@Override
	public CompletableFuture<Void> send(Envelope envelope) {
		if (this.closed || !this.started) {
			return CompletableFuture.failedFuture(new BusClosedException(
					this.closed ? "The Redis backend is closed" : "The Redis backend was not started"));
		}
		StreamFields.FieldList fields = this.streamFields.write(envelope);
		String topic = envelope.topic();
		byte[] key = streamKeys(topic)[envelope.priority().lane()];
		String register = (!isInternal(topic) && needsRegistration(topic)) ? topic : null;
		CompletableFuture<Void> sent = new CompletableFuture<>();
		try {
			if (!this.writer.add(key, fields, register, sent)) {
				if (register != null) {
					this.registeredTopics.remove(topic);
				}
				return CompletableFuture.failedFuture(this.closed ? new BusClosedException("The Redis backend is closed")
						: new BackpressureException("More than " + this.settings.maxPendingSends()
								+ " sends are waiting for Redis (amb.redis.max-pending-sends); waited "
								+ this.settings.sendTimeout(), null, BackpressurePolicy.BLOCK));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return CompletableFuture.failedFuture(ex);
		}
		return sent;
	}

	/**
	 * Whether a publish should add its topic to the topic set: the first time, and again now and
	 * then ({@value #REREGISTER_SECONDS} s), since a Redis that lost its data in a restart lost the
	 * set too, and wildcard subscriptions would not find the topic again.
	 */
	private boolean needsRegistration(String topic) {
		long now = System.nanoTime();
		Long last = this.registeredTopics.get(topic);
		if (last != null && now - last < REREGISTER_NANOS) {
			return false;
		}
		// One publisher of many wins the registration; the others go on without it.
		return (last == null) ? this.registeredTopics.putIfAbsent(topic, now) == null
				: this.registeredTopics.replace(topic, last, now);
	}

	@Override
	public BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler) {
		Objects.requireNonNull(spec, "spec must not be null");
		Objects.requireNonNull(handler, "handler must not be null");
		if (this.closed) {
			throw new BusClosedException("The Redis backend is closed");
		}
		RedisConsumer consumer = new RedisConsumer(this, spec, handler);
		consumer.start();
		this.consumers.add(consumer);
		return consumer;
	}

	@Override
	public BrokerHealth health() {
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			String pong = connection.ping();
			Map<String, Object> details = new LinkedHashMap<>();
			details.put("ping", pong);
			Properties server = connection.serverCommands().info("server");
			if (server != null) {
				putIfPresent(details, "version", server.getProperty("redis_version"));
				putIfPresent(details, "mode", server.getProperty("redis_mode"));
				putIfPresent(details, "port", server.getProperty("tcp_port"));
			}
			details.put("streamPrefix", this.settings.streamPrefix());
			details.put("pendingSends", this.writer.pending());
			details.put("consumers", this.consumers.size());
			return BrokerHealth.up(details);
		}
		catch (RuntimeException ex) {
			return BrokerHealth.down("Redis is not reachable: " + ex.getMessage());
		}
	}

	@Override
	public void close(Duration timeout) {
		if (this.closed) {
			return;
		}
		this.closed = true;
		for (RedisConsumer consumer : this.consumers) {
			consumer.close(timeout);
		}
		this.writer.stop(timeout);
		this.acknowledger.stop(timeout);
	}

	RedisConnectionFactory connectionFactory() {
		return this.connectionFactory;
	}

	RedisBrokerSettings settings() {
		return this.settings;
	}

	/** @return whether subscriptions read through Lettuce's own API (on a Lettuce connection) */
	boolean nativeReads() {
		return this.lettuceNative;
	}

	RedisWriter acknowledger() {
		return this.acknowledger;
	}

	byte[] registryKey() {
		return this.registryKey;
	}

	void detach(RedisConsumer consumer) {
		this.consumers.remove(consumer);
	}

	/**
	 * The stream a topic's lane lives in.
	 * @param topic the topic
	 * @param lane the lane
	 * @return {@code <prefix><topic>:<lane name>}
	 */
	String streamName(String topic, int lane) {
		return this.settings.streamPrefix() + topic + ":" + LANE_NAMES[lane];
	}

	byte[][] streamKeys(String topic) {
		byte[][] keys = this.keysByTopic.get(topic);
		if (keys == null) {
			keys = new byte[LANE_NAMES.length][];
			for (int lane = 0; lane < keys.length; lane++) {
				keys[lane] = bytes(streamName(topic, lane));
			}
			if (this.keysByTopic.size() < MAX_CACHED_TOPICS) {
				this.keysByTopic.put(topic, keys);
			}
		}
		return keys;
	}

	static boolean isInternal(String topic) {
		return topic.startsWith(Topics.INTERNAL_SEGMENT + ".");
	}

	static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static boolean isPresent(String className) {
		try {
			Class.forName(className, false, RedisBrokerAdapter.class.getClassLoader());
			return true;
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return false;
		}
	}

	private static void putIfPresent(Map<String, Object> details, String name, String value) {
		if (value != null) {
			details.put(name, value);
		}
	}

}
