package dev.amb.benchmarks.kafka;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.Envelope;
import dev.amb.core.adapters.kafka.KafkaBrokerAdapter;
import dev.amb.core.adapters.kafka.KafkaBrokerSettings;
import dev.amb.core.adapters.kafka.KafkaRecords;

/**
 * AMB over Kafka beside a raw {@link KafkaTemplate} and listener container, in the same run, each
 * benchmark in its own JVM with its own embedded KRaft broker: acks=all, linger 5 ms, batch
 * 64 KiB, idempotent producer, 256-byte payloads, one partition, one publisher thread and one
 * consumer. Both commit offsets asynchronously after each batch; for the container's synchronous
 * default add {@code -jvmArgsAppend -Damb.bench.raw.sync-commits=true}; for a broker outside the
 * JVM, {@code -jvmArgsAppend -Damb.bench.kafka.bootstrap-servers=host:port}. Each invocation publishes
 * {@value #BATCH} messages without waiting, then waits until all arrived, so the score is messages
 * per second from first publish to last receipt.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@OperationsPerInvocation(KafkaThroughputBenchmark.BATCH)
@Fork(1)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
public class KafkaThroughputBenchmark {

	static final int BATCH = 1000;

	static final int PAYLOAD_BYTES = 256;

	private static EmbeddedKafkaKraftBroker broker;

	/**
	 * The embedded broker, started on first use, or the broker that
	 * {@code -Damb.bench.kafka.bootstrap-servers} names (one in a container, say, so that it does
	 * not share the benchmark's JVM).
	 */
	static synchronized String bootstrapServers() {
		String external = System.getProperty("amb.bench.kafka.bootstrap-servers");
		if (external != null && !external.isBlank()) {
			return external;
		}
		if (broker == null) {
			broker = new EmbeddedKafkaKraftBroker(1, 1);
			broker.afterPropertiesSet();
			Runtime.getRuntime().addShutdownHook(new Thread(broker::destroy));
		}
		return broker.getBrokersAsString();
	}

	static byte[] payload() {
		byte[] payload = new byte[PAYLOAD_BYTES];
		for (int i = 0; i < payload.length; i++) {
			payload[i] = (byte) ('a' + (i % 26));
		}
		return payload;
	}

	static Map<String, Object> producerProperties() {
		Map<String, Object> properties = new HashMap<>();
		properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
		properties.put(ProducerConfig.ACKS_CONFIG, "all");
		properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
		properties.put(ProducerConfig.LINGER_MS_CONFIG, 5);
		properties.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
		return properties;
	}

	static Map<String, Object> consumerProperties() {
		Map<String, Object> properties = new HashMap<>();
		properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
		return properties;
	}

	/** The headers the Kafka adapter writes for a message like the benchmark's. */
	static Header[] envelopeHeaders() {
		long now = System.currentTimeMillis();
		Envelope envelope = new Envelope(MessageIds.next(now), "bench.raw.0123abcd", null, Priority.NORMAL, now,
				WireHeaders.DEFAULT_SOURCE, PayloadCodec.BYTES, null, null, 0, Map.of(), payload());
		return KafkaRecords.toRecord("bench.raw.0123abcd", envelope).headers().toArray();
	}

	/** Counts receipts and lets the publisher wait for them. */
	static final class Receipts {

		final AtomicLong received = new AtomicLong();

		long published;

		void await(long target) {
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			while (this.received.get() < target) {
				Thread.yield();
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("Received " + this.received.get() + " of " + target);
				}
			}
		}

	}

	/** AMB: a bus on the Kafka adapter, publish and a byte[] subscription. */
	@State(Scope.Benchmark)
	public static class AmbState {

		final Receipts receipts = new Receipts();

		final byte[] payload = payload();

		MessageBus bus;

		String topic;

		@Setup(Level.Trial)
		public void open() {
			KafkaBrokerSettings settings = KafkaBrokerSettings.builder().partitions(1).build();
			this.bus = DefaultMessageBus.builder()
				.adapter(new KafkaBrokerAdapter(producerProperties(), consumerProperties(), consumerProperties(),
						settings))
				.build();
			this.topic = "bench.amb." + UUID.randomUUID().toString().substring(0, 8);
			AtomicLong received = this.receipts.received;
			this.bus.subscribe(this.topic, byte[].class, (message) -> received.incrementAndGet());
			this.bus.publish(this.topic, this.payload);
			this.receipts.await(++this.receipts.published);
		}

		@TearDown(Level.Trial)
		public void close() {
			this.bus.close();
		}

	}

	/** Raw Spring for Apache Kafka: KafkaTemplate and a listener container, the same settings. */
	@State(Scope.Benchmark)
	public static class RawState {

		final Receipts receipts = new Receipts();

		final byte[] payload = payload();

		KafkaTemplate<byte[], byte[]> template;

		DefaultKafkaProducerFactory<byte[], byte[]> producerFactory;

		KafkaMessageListenerContainer<byte[], byte[]> container;

		String topic;

		/** What AMB writes for a message like the benchmark's. */
		final Header[] headers = envelopeHeaders();

		@Setup(Level.Trial)
		public void open() throws Exception {
			this.topic = "bench.raw." + UUID.randomUUID().toString().substring(0, 8);
			try (Admin admin = Admin.create(consumerProperties())) {
				admin.createTopics(List.of(new NewTopic(this.topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
			}
			this.producerFactory = new DefaultKafkaProducerFactory<>(producerProperties(), new ByteArraySerializer(),
					new ByteArraySerializer());
			this.template = new KafkaTemplate<>(this.producerFactory);
			Map<String, Object> consumer = consumerProperties();
			consumer.put(ConsumerConfig.GROUP_ID_CONFIG, this.topic);
			consumer.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
			ContainerProperties containerProperties = new ContainerProperties(this.topic);
			AtomicLong received = this.receipts.received;
			containerProperties.setMessageListener((MessageListener<byte[], byte[]>) (record) -> received.incrementAndGet());
			containerProperties.setPollTimeout(100);
			// Commits the way AMB does, asynchronously after each batch (the default, synchronous
			// commit per poll, measured 6,000 to 16,000 msg/s here: a round trip per poll).
			containerProperties.setSyncCommits(Boolean.parseBoolean(System.getProperty("amb.bench.raw.sync-commits", "false")));
			this.container = new KafkaMessageListenerContainer<>(new DefaultKafkaConsumerFactory<>(consumer,
					new ByteArrayDeserializer(), new ByteArrayDeserializer()), containerProperties);
			this.container.start();
			this.template.send(this.topic, this.payload);
			this.receipts.await(++this.receipts.published);
		}

		@TearDown(Level.Trial)
		public void close() {
			this.container.stop();
			this.producerFactory.destroy();
		}

	}

	@Benchmark
	public void amb(AmbState state) {
		Receipts receipts = state.receipts;
		for (int i = 0; i < BATCH; i++) {
			state.bus.publish(state.topic, state.payload);
		}
		receipts.published += BATCH;
		receipts.await(receipts.published);
	}

	/**
	 * The raw path with AMB's record headers (built once, so without their cost to the producer's
	 * caller): tells how much of the difference is the bytes on the wire.
	 */
	@Benchmark
	public void rawKafkaTemplateWithEnvelopeHeaders(RawState state) {
		Receipts receipts = state.receipts;
		for (int i = 0; i < BATCH; i++) {
			state.template.send(new ProducerRecord<byte[], byte[]>(state.topic, null, null, null, state.payload,
					new RecordHeaders(state.headers)));
		}
		receipts.published += BATCH;
		receipts.await(receipts.published);
	}

	@Benchmark
	public void rawKafkaTemplate(RawState state) {
		Receipts receipts = state.receipts;
		for (int i = 0; i < BATCH; i++) {
			state.template.send(state.topic, state.payload);
		}
		receipts.published += BATCH;
		receipts.await(receipts.published);
	}


}
