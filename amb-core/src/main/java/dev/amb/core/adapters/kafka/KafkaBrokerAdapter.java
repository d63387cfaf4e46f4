package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import dev.amb.core.AmbException;
import dev.amb.core.BusClosedException;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Envelope;

/**
 * The Kafka backend: a Kafka topic per AMB topic and lane, a consumer group per AMB group, a
 * single-use consumer group per broadcast subscription, the ordering key as the record key.
 * Runs on the kafka-clients producer, consumer and admin client that Spring for Apache Kafka
 * brings, configured from the maps Spring Boot builds from {@code spring.kafka.*}.
 * <p>
 * The producer is shared and batches ({@code linger.ms}, {@code batch.size}); a send completes
 * when the broker acknowledged it ({@code acks=all}, idempotent, unless the producer properties
 * say otherwise). Each subscription runs {@code concurrency} consumers in its group, each on its
 * own thread, each handling its partitions one record at a time, so order holds per partition and
 * so per key. Offsets are committed only for records the bus acknowledged.
 */
public final class KafkaBrokerAdapter implements BrokerAdapter {

	private static final System.Logger logger = System.getLogger(KafkaBrokerAdapter.class.getName());

	private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(Capability.DURABLE,
			Capability.DURABLE_GROUPS, Capability.WILDCARDS, Capability.PRIORITY, Capability.KEY_ORDER,
			Capability.PAUSE));

	private final Map<String, Object> producerProperties;

	private final Map<String, Object> consumerProperties;

	private final Map<String, Object> adminProperties;

	private final KafkaBrokerSettings settings;

	private final KafkaTopicNames names;

	private final Set<String> knownTopics = ConcurrentHashMap.newKeySet();

	private final List<KafkaSubscription> subscriptions = new ArrayList<>();

	private volatile Producer<byte[], byte[]> producer;

	private volatile Admin admin;

	private volatile boolean closed;

	/**
	 * Creates an adapter.
	 * @param producerProperties producer settings, such as Spring Boot's
	 * {@code KafkaProperties.buildProducerProperties()}; serializers are always byte arrays,
	 * {@code acks=all} and idempotence are the defaults
	 * @param consumerProperties consumer settings, such as {@code buildConsumerProperties()};
	 * deserializers, group id, auto commit and offset reset are always AMB's
	 * @param adminProperties admin client settings, such as {@code buildAdminProperties()}
	 * @param settings AMB's own settings
	 */
	public KafkaBrokerAdapter(Map<String, Object> producerProperties, Map<String, Object> consumerProperties,
			Map<String, Object> adminProperties, KafkaBrokerSettings settings) {
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
		this.producerProperties = producerConfig(Objects.requireNonNull(producerProperties,
				"producerProperties must not be null"), settings);
		this.consumerProperties = new HashMap<>(Objects.requireNonNull(consumerProperties,
				"consumerProperties must not be null"));
		this.adminProperties = new HashMap<>(Objects.requireNonNull(adminProperties, "adminProperties must not be null"));
		Object bootstrap = firstNonNull(this.adminProperties.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG),
				this.producerProperties.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG),
				this.consumerProperties.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
		if (bootstrap != null) {
			this.adminProperties.putIfAbsent(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
			this.producerProperties.putIfAbsent(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
			this.consumerProperties.putIfAbsent(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
		}
		this.names = new KafkaTopicNames(settings);
	}

	/**
	 * An adapter for a bootstrap address with the client defaults, for tests and plain Java use.
	 * @param bootstrapServers the bootstrap servers
	 * @param settings AMB's own settings
	 * @return the adapter
	 */
	public static KafkaBrokerAdapter forBootstrapServers(String bootstrapServers, KafkaBrokerSettings settings) {
		Map<String, Object> common = Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
		return new KafkaBrokerAdapter(common, common, common, settings);
	}

	private static Map<String, Object> producerConfig(Map<String, Object> given, KafkaBrokerSettings settings) {
		Map<String, Object> config = new HashMap<>(given);
		config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
		config.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
		config.putIfAbsent(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
		config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, (int) settings.getLinger().toMillis());
		config.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, settings.getBatchSize());
		// A transactional producer would need a transaction around each send; AMB sends one by one.
		config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
		return config;
	}

	@Override
	public String name() {
		return "kafka";
	}

	@Override
	public Set<Capability> capabilities() {
		return CAPABILITIES;
	}

	@Override
	public void start(AdapterContext context) {
		this.admin = Admin.create(this.adminProperties);
		this.producer = new KafkaProducer<>(this.producerProperties);
	}

	@Override
	public CompletableFuture<Void> send(Envelope envelope) {
		Producer<byte[], byte[]> producer = this.producer;
		if (this.closed || producer == null) {
			return CompletableFuture.failedFuture(new BusClosedException("The Kafka adapter is "
					+ (this.closed ? "closed" : "not started")));
		}
		SendFuture result = new SendFuture();
		try {
			String kafkaTopic = this.names.kafkaTopic(envelope.topic(), envelope.priority());
			if (!this.knownTopics.contains(kafkaTopic)) {
				ensureTopics(List.of(kafkaTopic));
			}
			producer.send(KafkaRecords.toRecord(kafkaTopic, envelope), result);
		}
		catch (RuntimeException ex) {
			result.completeExceptionally(ex);
		}
		return result;
	}

	/**
	 * Creates the Kafka topics that do not exist yet, with the configured partitions and
	 * replication, and waits until the cluster serves them.
	 * @param kafkaTopics the Kafka topic names
	 */
	void ensureTopics(Collection<String> kafkaTopics) {
		List<NewTopic> missing = new ArrayList<>();
		for (String kafkaTopic : kafkaTopics) {
			if (!this.knownTopics.contains(kafkaTopic)) {
				missing.add(new NewTopic(kafkaTopic, this.settings.getPartitions(), this.settings.getReplicationFactor()));
			}
		}
		if (missing.isEmpty()) {
			return;
		}
		long timeoutMillis = this.settings.getOperationTimeout().toMillis();
		CreateTopicsResult result = admin().createTopics(missing);
		List<String> created = new ArrayList<>();
		for (NewTopic topic : missing) {
			try {
				result.values().get(topic.name()).get(timeoutMillis, TimeUnit.MILLISECONDS);
				created.add(topic.name());
			}
			catch (ExecutionException ex) {
				if (!(ex.getCause() instanceof TopicExistsException)) {
					throw new AmbException("Could not create Kafka topic '" + topic.name() + "': "
							+ ex.getCause().getMessage(), ex.getCause());
				}
			}
			catch (TimeoutException ex) {
				throw new AmbException("Creating Kafka topic '" + topic.name() + "' took longer than "
						+ this.settings.getOperationTimeout(), ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AmbException("Interrupted while creating Kafka topic '" + topic.name() + "'", ex);
			}
		}
		if (!created.isEmpty()) {
			awaitServed(created);
		}
		for (NewTopic topic : missing) {
			this.knownTopics.add(topic.name());
		}
	}

	/** Waits until a broker knows the new topics, so that a consumer subscribing now is assigned their partitions. */
	private void awaitServed(List<String> kafkaTopics) {
		long deadline = System.nanoTime() + this.settings.getOperationTimeout().toNanos();
		while (true) {
			try {
				admin().describeTopics(kafkaTopics, new DescribeTopicsOptions().timeoutMs(5000))
					.allTopicNames()
					.get(5, TimeUnit.SECONDS);
				return;
			}
			catch (ExecutionException ex) {
				if (!(ex.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
					throw new AmbException("Kafka topics " + kafkaTopics + " were created but are not served: "
							+ ex.getCause().getMessage(), ex.getCause());
				}
			}
			catch (TimeoutException ex) {
				throw new AmbException("Kafka topics " + kafkaTopics + " were created but are not served", ex);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AmbException("Interrupted while waiting for Kafka topics " + kafkaTopics, ex);
			}
			sleep(20);
		}
	}

	@Override
	public BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler) {
		Objects.requireNonNull(spec, "spec must not be null");
		Objects.requireNonNull(handler, "handler must not be null");
		if (this.closed) {
			throw new BusClosedException("The Kafka adapter is closed");
		}
		if (!spec.pattern().isWildcard()) {
			ensureTopics(this.names.kafkaTopics(spec.pattern().pattern(), spec.lanes()));
		}
		KafkaSubscription subscription = new KafkaSubscription(this, spec, handler);
		synchronized (this.subscriptions) {
			this.subscriptions.add(subscription);
		}
		try {
			subscription.start();
		}
		catch (RuntimeException ex) {
			subscription.close(Duration.ZERO);
			throw ex;
		}
		return subscription;
	}

	void removed(KafkaSubscription subscription) {
		synchronized (this.subscriptions) {
			this.subscriptions.remove(subscription);
		}
	}

	/**
	 * The configuration of one consumer of a subscription.
	 * @param groupId the group id
	 * @param clientSuffix what makes the client id unique
	 * @param wildcard whether it subscribes with a pattern
	 * @return the consumer configuration
	 */
	Map<String, Object> consumerConfig(String groupId, String clientSuffix, boolean wildcard) {
		Map<String, Object> config = new HashMap<>(this.consumerProperties);
		config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
		config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
				org.apache.kafka.common.serialization.ByteArrayDeserializer.class);
		config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
				org.apache.kafka.common.serialization.ByteArrayDeserializer.class);
		config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
		// Only partitions found after a subscription started start from the beginning; the first
		// assignment starts at the end and commits that position (see KafkaConsumerWorker).
		config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
		// Members learn of a rebalance from heartbeats: a short interval makes joining a group quick.
		config.putIfAbsent(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1000);
		// Static membership would make the subscription's consumers fence each other.
		config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
		Object clientId = config.get(ConsumerConfig.CLIENT_ID_CONFIG);
		config.put(ConsumerConfig.CLIENT_ID_CONFIG, ((clientId != null) ? clientId + "-" : "amb-") + clientSuffix);
		if (wildcard) {
			config.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, (int) this.settings.getMetadataMaxAge().toMillis());
		}
		return config;
	}

	KafkaBrokerSettings settings() {
		return this.settings;
	}

	KafkaTopicNames names() {
		return this.names;
	}

	Admin admin() {
		Admin admin = this.admin;
		if (admin == null) {
			throw new IllegalStateException("The Kafka adapter is not started");
		}
		return admin;
	}

	/**
	 * Reads offsets through the admin client.
	 * @param partitions the partitions
	 * @param spec which offset
	 * @return the offset of each partition
	 */
	Map<TopicPartition, Long> listOffsets(Collection<TopicPartition> partitions, OffsetSpec spec) {
		Map<TopicPartition, OffsetSpec> request = new HashMap<>();
		for (TopicPartition partition : partitions) {
			request.put(partition, spec);
		}
		try {
			Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result = admin().listOffsets(request)
				.all()
				.get(this.settings.getOperationTimeout().toMillis(), TimeUnit.MILLISECONDS);
			Map<TopicPartition, Long> offsets = new HashMap<>();
			result.forEach((partition, info) -> offsets.put(partition, info.offset()));
			return offsets;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AmbException("Interrupted while reading offsets of " + partitions, ex);
		}
		catch (ExecutionException ex) {
			throw new AmbException("Could not read offsets of " + partitions + ": " + ex.getCause().getMessage(),
					ex.getCause());
		}
		catch (TimeoutException ex) {
			throw new AmbException("Reading offsets of " + partitions + " took longer than "
					+ this.settings.getOperationTimeout(), ex);
		}
	}

	/**
	 * Asks for offsets through the admin client without waiting for the answer.
	 * @param partitions the partitions
	 * @param spec which offset
	 * @return the answer to come
	 */
	KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> listOffsetsAsync(
			Collection<TopicPartition> partitions, OffsetSpec spec) {
		Map<TopicPartition, OffsetSpec> request = new HashMap<>();
		for (TopicPartition partition : partitions) {
			request.put(partition, spec);
		}
		return admin().listOffsets(request).all();
	}

	@Override
	public BrokerHealth health() {
		Admin admin = this.admin;
		if (admin == null || this.closed) {
			return BrokerHealth.down((admin == null) ? "not started" : "closed");
		}
		long timeoutMillis = this.settings.getHealthTimeout().toMillis();
		try {
			DescribeClusterResult cluster = admin
				.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeoutMillis));
			Map<String, Object> details = new LinkedHashMap<>();
			details.put("clusterId", String.valueOf(cluster.clusterId().get(timeoutMillis, TimeUnit.MILLISECONDS)));
			details.put("brokers", cluster.nodes().get(timeoutMillis, TimeUnit.MILLISECONDS).size());
			int subscriptions;
			synchronized (this.subscriptions) {
				subscriptions = this.subscriptions.size();
			}
			details.put("subscriptions", subscriptions);
			return BrokerHealth.up(details);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return BrokerHealth.down("interrupted");
		}
		catch (ExecutionException ex) {
			return BrokerHealth.down(ex.getCause().getClass().getSimpleName() + ": " + ex.getCause().getMessage());
		}
		catch (TimeoutException ex) {
			return BrokerHealth.down("no answer from the Kafka cluster within " + this.settings.getHealthTimeout());
		}
	}

	@Override
	public void close(Duration timeout) {
		if (this.closed) {
			return;
		}
		this.closed = true;
		List<KafkaSubscription> open;
		synchronized (this.subscriptions) {
			open = new ArrayList<>(this.subscriptions);
		}
		for (KafkaSubscription subscription : open) {
			subscription.close(timeout);
		}
		Producer<byte[], byte[]> producer = this.producer;
		if (producer != null) {
			producer.close(timeout);
		}
		Admin admin = this.admin;
		if (admin != null) {
			admin.close(Duration.ofSeconds(5));
		}
	}

	private static Object firstNonNull(Object... candidates) {
		for (Object candidate : candidates) {
			if (candidate != null) {
				return candidate;
			}
		}
		return null;
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** A send's future that is also its producer callback: one allocation per send. */
	private static final class SendFuture extends CompletableFuture<Void> implements Callback {

		@Override
		public void onCompletion(RecordMetadata metadata, Exception exception) {
			if (exception != null) {
				completeExceptionally(exception);
			}
			else {
				complete(null);
			}
		}

	}

}
