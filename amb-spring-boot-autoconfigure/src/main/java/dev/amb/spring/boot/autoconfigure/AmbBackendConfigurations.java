package dev.amb.spring.boot.autoconfigure;

import java.util.function.Consumer;

import dev.amb.core.MessageBus;
import dev.amb.core.adapters.kafka.KafkaBrokerAdapter;
import dev.amb.core.adapters.kafka.KafkaBrokerSettings;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerSettings;
import dev.amb.core.adapters.redis.RedisBrokerAdapter;
import dev.amb.core.adapters.redis.RedisBrokerSettings;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.spring.boot.diagnostics.AmbBackendNotAvailableException;
import dev.amb.spring.boot.diagnostics.InvalidAmbConfigurationException;

import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.ProducerFactory;

/**
 * One configuration per backend, each guarded by {@code amb.backend} and, for the remote ones, by
 * the presence of the backend's library. A backend whose library is missing fails the start-up
 * naming the dependency to add; it never falls back to another backend. A remote backend connects
 * through the connection Spring Boot auto-configures from {@code spring.data.redis.*},
 * {@code spring.rabbitmq.*} or {@code spring.kafka.*}; {@code amb.redis.*}, {@code amb.rabbitmq.*}
 * and {@code amb.kafka.*} hold only AMB's own settings. The adapter beans back off when the
 * application defines its own {@link BrokerAdapter} or {@link MessageBus}, the settings beans when
 * it defines its own settings.
 */
final class AmbBackendConfigurations {

	static final String REDIS_LIBRARY = "org.springframework.data.redis.connection.RedisConnectionFactory";

	static final String RABBIT_LIBRARY = "org.springframework.amqp.rabbit.connection.ConnectionFactory";

	static final String KAFKA_LIBRARY = "org.springframework.kafka.core.KafkaTemplate";

	private AmbBackendConfigurations() {
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "amb.backend", havingValue = "in-memory", matchIfMissing = true)
	static final class InMemory {

		@Bean
		@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
		InMemoryBroker ambInMemoryBroker(AmbProperties properties) {
			return InMemoryBroker.builder()
				.backpressure(properties.getBackpressure().toBackpressure())
				.starvationBound(properties.getPriority().getStarvationBound())
				.build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "amb.backend", havingValue = "redis")
	static final class Redis {

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnClass(name = REDIS_LIBRARY)
		static final class LibraryPresent {

			@Bean
			@ConditionalOnMissingBean
			RedisBrokerSettings ambRedisBrokerSettings(AmbProperties properties) {
				AmbProperties.Redis redis = properties.getRedis();
				AmbProperties.RedisTrimming trimming = redis.getTrimming();
				RedisBrokerSettings.Builder builder = RedisBrokerSettings.builder();
				set("amb.redis.stream-prefix", redis.getStreamPrefix(), builder::streamPrefix);
				set("amb.redis.trimming", trimming.getStrategy(), (strategy) -> builder.trimming(
						new RedisBrokerSettings.Trimming(RedisBrokerSettings.Trimming.Strategy.valueOf(strategy.name()),
								trimming.getMaxLength(), trimming.getMaxAge(), trimming.isApproximate())));
				set("amb.redis.claim-timeout", redis.getClaimTimeout(), builder::claimTimeout);
				set("amb.redis.batch-size", redis.getBatchSize(), builder::batchSize);
				set("amb.redis.block-timeout", redis.getBlockTimeout(), builder::blockTimeout);
				set("amb.redis.topic-refresh-interval", redis.getTopicRefreshInterval(), builder::topicRefreshInterval);
				set("amb.redis.starvation-bound", starvationBound(redis.getStarvationBound(), properties),
						builder::starvationBound);
				set("amb.redis.max-pending-sends", redis.getMaxPendingSends(), builder::maxPendingSends);
				set("amb.redis.send-timeout", redis.getSendTimeout(), builder::sendTimeout);
				return builder.build();
			}

			// Injected, not looked up, so that the context closes the bus before the connection.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			@ConditionalOnBean(RedisConnectionFactory.class)
			RedisBrokerAdapter ambRedisBrokerAdapter(RedisConnectionFactory connectionFactory,
					RedisBrokerSettings settings) {
				return new RedisBrokerAdapter(connectionFactory, settings);
			}

			@Bean
			@ConditionalOnBean(RedisConnectionFactory.class)
			AmbConnectionShutdown ambRedisConnectionShutdown(ObjectProvider<MessageBus> bus,
					RedisConnectionFactory connectionFactory) {
				return new AmbConnectionShutdown(bus, "redis", connectionFactory);
			}

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class, RedisConnectionFactory.class })
			BrokerAdapter ambRedisConnectionMissing() {
				throw AmbBackendNotAvailableException.missingConnection("redis", "RedisConnectionFactory",
						"org.springframework.boot:spring-boot-starter-data-redis");
			}

		}

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnMissingClass(REDIS_LIBRARY)
		static final class LibraryMissing {

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambRedisLibraryMissing() {
				throw AmbBackendNotAvailableException.missingLibrary("redis", REDIS_LIBRARY,
						"org.springframework.boot:spring-boot-starter-data-redis");
			}

		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "amb.backend", havingValue = "rabbitmq")
	static final class RabbitMq {

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnClass(name = RABBIT_LIBRARY)
		static final class LibraryPresent {

			@Bean
			@ConditionalOnMissingBean
			RabbitBrokerSettings ambRabbitBrokerSettings(AmbProperties properties) {
				AmbProperties.RabbitMq rabbit = properties.getRabbitmq();
				RabbitBrokerSettings.Builder builder = RabbitBrokerSettings.builder();
				set("amb.rabbitmq.exchange", rabbit.getExchange(), builder::exchange);
				setIfPresent("amb.rabbitmq.dead-letter-exchange", rabbit.getDeadLetterExchange(),
						builder::deadLetterExchange);
				setIfPresent("amb.rabbitmq.internal-exchange", rabbit.getInternalExchange(), builder::internalExchange);
				setIfPresent("amb.rabbitmq.unrouted-dead-letter-queue", rabbit.getUnroutedDeadLetterQueue(),
						builder::unroutedDeadLetterQueue);
				setIfPresent("amb.rabbitmq.queue-prefix", rabbit.getQueuePrefix(), builder::queuePrefix);
				set("amb.rabbitmq.prefetch", rabbit.getPrefetch(), builder::prefetch);
				set("amb.rabbitmq.max-outstanding-confirms", rabbit.getMaxOutstandingConfirms(),
						builder::maxOutstandingConfirms);
				set("amb.rabbitmq.confirm-timeout", rabbit.getConfirmTimeout(), builder::confirmTimeout);
				builder.singleActiveConsumer(rabbit.isSingleActiveConsumer());
				set("amb.rabbitmq.broadcast-queue-expiry", rabbit.getBroadcastQueueExpiry(),
						builder::broadcastQueueExpiry);
				set("amb.rabbitmq.requeue-delay", rabbit.getRequeueDelay(), builder::requeueDelay);
				set("amb.rabbitmq.recovery-interval", rabbit.getRecoveryInterval(), builder::recoveryInterval);
				set("amb.rabbitmq.starvation-bound", starvationBound(rabbit.getStarvationBound(), properties),
						builder::starvationBound);
				builder.persistent(rabbit.isPersistent());
				builder.mandatory(rabbit.isMandatory());
				return builder.build();
			}

			// Injected, not looked up, so that the context closes the bus before the connection.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			@ConditionalOnBean(ConnectionFactory.class)
			RabbitBrokerAdapter ambRabbitBrokerAdapter(ConnectionFactory connectionFactory,
					RabbitBrokerSettings settings) {
				return new RabbitBrokerAdapter(connectionFactory, settings);
			}

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class, ConnectionFactory.class })
			BrokerAdapter ambRabbitConnectionMissing() {
				throw AmbBackendNotAvailableException.missingConnection("rabbitmq", "ConnectionFactory",
						"org.springframework.boot:spring-boot-starter-amqp");
			}

		}

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnMissingClass(RABBIT_LIBRARY)
		static final class LibraryMissing {

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambRabbitLibraryMissing() {
				throw AmbBackendNotAvailableException.missingLibrary("rabbitmq", RABBIT_LIBRARY,
						"org.springframework.boot:spring-boot-starter-amqp");
			}

		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnProperty(name = "amb.backend", havingValue = "kafka")
	static final class Kafka {

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnClass(name = KAFKA_LIBRARY)
		static final class LibraryPresent {

			@Bean
			@ConditionalOnMissingBean
			KafkaBrokerSettings ambKafkaBrokerSettings(AmbProperties properties) {
				AmbProperties.Kafka kafka = properties.getKafka();
				KafkaBrokerSettings.Builder builder = KafkaBrokerSettings.builder();
				set("amb.kafka.topic-prefix", kafka.getTopicPrefix(), builder::topicPrefix);
				set("amb.kafka.high-lane-suffix", kafka.getHighLaneSuffix(), builder::highLaneSuffix);
				set("amb.kafka.low-lane-suffix", kafka.getLowLaneSuffix(), builder::lowLaneSuffix);
				set("amb.kafka.group-prefix", kafka.getGroupPrefix(), builder::groupPrefix);
				set("amb.kafka.partitions", kafka.getPartitions(), builder::partitions);
				set("amb.kafka.replication-factor", kafka.getReplicationFactor(), builder::replicationFactor);
				set("amb.kafka.poll-timeout", kafka.getPollTimeout(), builder::pollTimeout);
				set("amb.kafka.linger", kafka.getLinger(), builder::linger);
				set("amb.kafka.batch-size", kafka.getBatchSize(), builder::batchSize);
				set("amb.kafka.starvation-bound", starvationBound(kafka.getStarvationBound(), properties),
						builder::starvationBound);
				set("amb.kafka.metadata-max-age", kafka.getMetadataMaxAge(), builder::metadataMaxAge);
				set("amb.kafka.operation-timeout", kafka.getOperationTimeout(), builder::operationTimeout);
				set("amb.kafka.subscribe-timeout", kafka.getSubscribeTimeout(), builder::subscribeTimeout);
				set("amb.kafka.health-timeout", kafka.getHealthTimeout(), builder::healthTimeout);
				builder.deleteBroadcastGroups(kafka.isDeleteBroadcastGroups());
				try {
					return builder.build();
				}
				catch (IllegalArgumentException ex) {
					throw new InvalidAmbConfigurationException("amb.kafka.high-lane-suffix", kafka.getHighLaneSuffix(),
							"must differ from amb.kafka.low-lane-suffix");
				}
			}

			// Spring Boot's own factories and admin carry spring.kafka.*, connection details (such as
			// service connections) and SSL bundles already applied; AMB copies their settings into its
			// own clients, so it needs nothing of them after construction.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			KafkaBrokerAdapter ambKafkaBrokerAdapter(ObjectProvider<ProducerFactory<?, ?>> producerFactory,
					ObjectProvider<ConsumerFactory<?, ?>> consumerFactory, ObjectProvider<KafkaAdmin> admin,
					KafkaBrokerSettings settings) {
				return new KafkaBrokerAdapter(required(producerFactory, "ProducerFactory").getConfigurationProperties(),
						required(consumerFactory, "ConsumerFactory").getConfigurationProperties(),
						required(admin, "KafkaAdmin").getConfigurationProperties(), settings);
			}

			private static <T> T required(ObjectProvider<T> provider, String type) {
				return provider.getIfAvailable(() -> {
					throw AmbBackendNotAvailableException.missingConnection("kafka", type,
							"org.springframework.boot:spring-boot-starter-kafka");
				});
			}

		}

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnMissingClass(KAFKA_LIBRARY)
		static final class LibraryMissing {

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambKafkaLibraryMissing() {
				throw AmbBackendNotAvailableException.missingLibrary("kafka", KAFKA_LIBRARY,
						"org.springframework.boot:spring-boot-starter-kafka");
			}

		}

	}

	// A bad amb.<backend>.* value stops the start-up naming the property, as the other amb.* do.
	private static <T> void set(String property, T value, Consumer<T> setter) {
		try {
			setter.accept(value);
		}
		catch (IllegalArgumentException | NullPointerException ex) {
			throw new InvalidAmbConfigurationException(property, value, ex.getMessage());
		}
	}

	// One bound for every backend unless the backend's own is set.
	private static int starvationBound(Integer backendBound, AmbProperties properties) {
		return (backendBound != null) ? backendBound : properties.getPriority().getStarvationBound();
	}

	private static void setIfPresent(String property, String value, Consumer<String> setter) {
		if (value != null) {
			set(property, value, setter);
		}
	}

}
