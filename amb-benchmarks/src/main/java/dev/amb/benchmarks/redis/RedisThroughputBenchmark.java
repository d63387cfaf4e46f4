package dev.amb.benchmarks.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.ByteRecord;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.Cursor;
import org.springframework.data.redis.core.RedisCallback;
import org.springframework.data.redis.core.ScanOptions;
import org.springframework.data.redis.core.StringRedisTemplate;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.adapters.redis.RedisBrokerAdapter;
import dev.amb.core.adapters.redis.RedisBrokerSettings;

/**
 * AMB over Redis beside a raw Spring Data Redis loop, in the same run, on the Redis at
 * 127.0.0.1:6379: publish throughput (until Redis replied to every XADD) and end-to-end
 * throughput (until one group consumer has handled and acknowledged every message), 256-byte
 * payloads. The raw loop pipelines XADDs in batches of 100 on one long-lived connection and reads
 * with XREADGROUP COUNT 100 plus one XACK per batch, the batching AMB uses by default (AMB's
 * writer pipelines whatever queued meanwhile, up to 400 commands). Run with
 * {@code java -jar amb-benchmarks/target/amb-benchmarks.jar RedisThroughputBenchmark -f 1 -wi 5 -w 2s -i 5 -r 2s}:
 * on two cores the JIT compiler still takes a core for about ten seconds after the start, so two
 * warm-up iterations of 2 s leave it compiling in the measured ones ({@link RedisComparison}
 * measures both sides in alternation, after a warm-up).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
@State(Scope.Benchmark)
public class RedisThroughputBenchmark {

	static final int MESSAGES = 1000;

	/** End-to-end runs are longer, so that the last message's trip does not dominate. */
	static final int END_TO_END_MESSAGES = 10_000;

	static final int BATCH = 100;

	static final byte[] PAYLOAD = new byte[256];

	static {
		Arrays.fill(PAYLOAD, (byte) 'x');
	}

	private final String prefix = "amb-bench-" + UUID.randomUUID().toString().substring(0, 8) + ":";

	private LettuceConnectionFactory connectionFactory;

	private StringRedisTemplate template;

	private DefaultMessageBus bus;

	private String ambPublishTopic;

	private String ambEndToEndTopic;

	private final Received ambReceived = new Received();

	private byte[] rawPublishKey;

	private byte[] rawEndToEndKey;

	private final Received rawReceived = new Received();

	private final AtomicBoolean running = new AtomicBoolean(true);

	private Thread rawConsumer;

	private RedisConnection rawPublisher;

	private byte[] rawEnvelopeKey;

	private final Received rawEnvelopeReceived = new Received();

	private Thread rawEnvelopeConsumer;

	private final XAddOptions trimming = XAddOptions.maxlen(1_000_000).approximateTrimming(true);

	@Setup(Level.Trial)
	public void setUp() {
		this.connectionFactory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", 6379));
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		this.template = new StringRedisTemplate(this.connectionFactory);
		this.template.afterPropertiesSet();

		this.bus = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(this.connectionFactory,
					RedisBrokerSettings.builder().streamPrefix(this.prefix).batchSize(BATCH).build()))
			.build();
		this.ambPublishTopic = "bench.publish";
		this.ambEndToEndTopic = "bench.e2e";
		this.bus.subscribe(this.ambEndToEndTopic, byte[].class, (message) -> this.ambReceived.add(1),
				SubscribeOptions.group("bench"));

		this.rawPublishKey = bytes(this.prefix + "raw.publish");
		this.rawEndToEndKey = bytes(this.prefix + "raw.e2e");
		this.template.execute((RedisCallback<Object>) (connection) -> connection.streamCommands()
			.xGroupCreate(this.rawEndToEndKey, "bench", ReadOffset.latest(), true));
		this.rawPublisher = this.connectionFactory.getConnection();
		this.rawConsumer = new Thread(() -> rawConsume(this.rawEndToEndKey, this.rawReceived), "raw-consumer");
		this.rawConsumer.setDaemon(true);
		this.rawConsumer.start();
		this.rawEnvelopeKey = bytes(this.prefix + "raw.e2e-envelope");
		this.template.execute((RedisCallback<Object>) (connection) -> connection.streamCommands()
			.xGroupCreate(this.rawEnvelopeKey, "bench", ReadOffset.latest(), true));
		this.rawEnvelopeConsumer = new Thread(() -> rawConsume(this.rawEnvelopeKey, this.rawEnvelopeReceived),
				"raw-envelope-consumer");
		this.rawEnvelopeConsumer.setDaemon(true);
		this.rawEnvelopeConsumer.start();
	}

	@TearDown(Level.Trial)
	public void tearDown() throws InterruptedException {
		this.running.set(false);
		this.rawConsumer.join(2000);
		this.rawEnvelopeConsumer.join(2000);
		this.rawPublisher.close();
		this.bus.close();
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			List<byte[]> keys = new ArrayList<>();
			try (Cursor<byte[]> cursor = connection.keyCommands()
				.scan(ScanOptions.scanOptions().match(this.prefix + "*").count(1000).build())) {
				cursor.forEachRemaining(keys::add);
			}
			if (!keys.isEmpty()) {
				connection.keyCommands().del(keys.toArray(new byte[0][]));
			}
		}
		this.connectionFactory.destroy();
	}

	/** AMB: publish, complete once Redis replied to every XADD. */
	@Benchmark
	@OperationsPerInvocation(MESSAGES)
	public void ambPublish() {
		CompletableFuture<?>[] futures = new CompletableFuture<?>[MESSAGES];
		for (int i = 0; i < MESSAGES; i++) {
			futures[i] = this.bus.publish(this.ambPublishTopic, PAYLOAD);
		}
		CompletableFuture.allOf(futures).join();
	}

	/** Raw: XADD pipelined in batches of 100 on one Spring Data Redis connection. */
	@Benchmark
	@OperationsPerInvocation(MESSAGES)
	public void rawPublish() {
		rawPublish(this.rawPublishKey);
	}

	/** AMB: publish, until the group subscriber has handled every message. */
	@Benchmark
	@OperationsPerInvocation(END_TO_END_MESSAGES)
	public void ambEndToEnd() {
		long target = this.ambReceived.get() + END_TO_END_MESSAGES;
		for (int i = 0; i < END_TO_END_MESSAGES; i++) {
			this.bus.publish(this.ambEndToEndTopic, PAYLOAD);
		}
		this.ambReceived.await(target);
	}

	/** Raw: pipelined XADD, and a consumer thread doing XREADGROUP COUNT 100 then one XACK per batch. */
	@Benchmark
	@OperationsPerInvocation(END_TO_END_MESSAGES)
	public void rawEndToEnd() {
		long target = this.rawReceived.get() + END_TO_END_MESSAGES;
		for (int i = 0; i < END_TO_END_MESSAGES; i += MESSAGES) {
			rawPublish(this.rawEndToEndKey);
		}
		this.rawReceived.await(target);
	}

	/**
	 * Raw, with AMB's envelope: the same pipelined XADDs carrying the fields an AMB message has
	 * (CloudEvents attributes and the payload), to separate the wire format's cost from the bus's.
	 */
	@Benchmark
	@OperationsPerInvocation(MESSAGES)
	public void rawPublishEnvelope() {
		rawPublishEnvelope(this.rawPublishKey);
	}

	/** Raw, with AMB's envelope fields, end to end: the like-for-like of {@link #ambEndToEnd()}. */
	@Benchmark
	@OperationsPerInvocation(END_TO_END_MESSAGES)
	public void rawEndToEndEnvelope() {
		long target = this.rawEnvelopeReceived.get() + END_TO_END_MESSAGES;
		for (int i = 0; i < END_TO_END_MESSAGES; i += MESSAGES) {
			rawPublishEnvelope(this.rawEnvelopeKey);
		}
		this.rawEnvelopeReceived.await(target);
	}

	private void rawPublishEnvelope(byte[] key) {
		RedisConnection connection = this.rawPublisher;
		for (int sent = 0; sent < MESSAGES; sent += BATCH) {
			connection.openPipeline();
			for (int i = 0; i < BATCH; i++) {
				Map<byte[], byte[]> fields = new java.util.LinkedHashMap<>(32);
				for (Map.Entry<String, String> header : ENVELOPE_FIELDS.entrySet()) {
					fields.put(bytes(header.getKey()), bytes(header.getValue()));
				}
				fields.put(DATA, PAYLOAD);
				connection.streamCommands()
					.xAdd(StreamRecords.rawBytes(fields).withStreamKey(key), this.trimming);
			}
			connection.closePipeline();
		}
	}

	private static final Map<String, String> ENVELOPE_FIELDS = dev.amb.core.codec.WireHeaders
		.write(new dev.amb.core.spi.Envelope(dev.amb.core.MessageIds.next(System.currentTimeMillis()), "bench.publish",
				null, dev.amb.core.Priority.NORMAL, System.currentTimeMillis(), "/amb", "application/octet-stream",
				null, null, 0, Map.of(), PAYLOAD));

	private void rawPublish(byte[] key) {
		// One long-lived connection, as AMB's writer has: executePipelined would open a dedicated connection per call.
		RedisConnection connection = this.rawPublisher;
		for (int sent = 0; sent < MESSAGES; sent += BATCH) {
			connection.openPipeline();
			for (int i = 0; i < BATCH; i++) {
				connection.streamCommands()
					.xAdd(StreamRecords.rawBytes(Map.of(DATA, PAYLOAD)).withStreamKey(key), this.trimming);
			}
			connection.closePipeline();
		}
	}

	private void rawConsume(byte[] key, Received received) {
		Consumer consumer = Consumer.from("bench", "raw-1");
		StreamReadOptions options = StreamReadOptions.empty().count(BATCH).block(Duration.ofMillis(200));
		try (RedisConnection connection = this.connectionFactory.getConnection()) {
			while (this.running.get()) {
				List<ByteRecord> records = connection.streamCommands()
					.xReadGroup(consumer, options, StreamOffset.create(key, ReadOffset.lastConsumed()));
				if (records == null || records.isEmpty()) {
					continue;
				}
				RecordId[] ids = new RecordId[records.size()];
				for (int i = 0; i < ids.length; i++) {
					ByteRecord record = records.get(i);
					if (record.getValue().isEmpty()) {
						throw new IllegalStateException("unexpected record " + record.getId());
					}
					ids[i] = record.getId();
				}
				connection.streamCommands().xAck(key, "bench", ids);
				received.add(ids.length);
			}
		}
	}

	/**
	 * What a consumer has handled, and a wait for a count: the consumer wakes the waiter when the
	 * count is reached, so that waiting costs nothing while the consumers run (a waiter polling
	 * every 100 us took CPU from the path that finished publishing first, AMB's).
	 */
	static final class Received {

		private final AtomicLong count = new AtomicLong();

		private volatile long target = Long.MAX_VALUE;

		private volatile Thread waiter;

		void add(long handled) {
			if (this.count.addAndGet(handled) >= this.target) {
				Thread waiting = this.waiter;
				if (waiting != null) {
					LockSupport.unpark(waiting);
				}
			}
		}

		long get() {
			return this.count.get();
		}

		void await(long target) {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			this.waiter = Thread.currentThread();
			this.target = target;
			try {
				while (this.count.get() < target) {
					if (System.nanoTime() > deadline) {
						throw new IllegalStateException("Only " + this.count.get() + " of " + target + " messages arrived");
					}
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
				}
			}
			finally {
				this.target = Long.MAX_VALUE;
				this.waiter = null;
			}
		}

	}

	private static final byte[] DATA = bytes("data");

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
