package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.MessageBus;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.spring.boot.diagnostics.AmbBackendNotAvailableException;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * One configuration per backend, each guarded by {@code amb.backend} and, for the remote ones, by
 * the presence of the backend's library. A backend whose library is missing fails the start-up
 * naming the dependency to add; it never falls back to another backend. The adapter beans back off
 * when the application defines its own {@link BrokerAdapter} or {@link MessageBus}.
 */
final class AmbBackendConfigurations {

	static final String REDIS_LIBRARY = "org.springframework.data.redis.connection.RedisConnectionFactory";

	static final String RABBIT_LIBRARY = "org.springframework.amqp.rabbit.connection.ConnectionFactory";

	static final String KAFKA_LIBRARY = "org.springframework.kafka.core.KafkaTemplate";

	static final String REDIS_ADAPTER = "dev.amb.core.adapters.redis.RedisBrokerAdapter";

	static final String RABBIT_ADAPTER = "dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter";

	static final String KAFKA_ADAPTER = "dev.amb.core.adapters.kafka.KafkaBrokerAdapter";

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

			// Wiring point for the Redis adapter: return new RedisBrokerAdapter(connectionFactory, ...) here.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambRedisBrokerAdapter(AmbProperties properties) {
				throw AmbBackendNotAvailableException.missingAdapter("redis", REDIS_ADAPTER);
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

			// Wiring point for the RabbitMQ adapter: return new RabbitBrokerAdapter(connectionFactory, ...) here.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambRabbitBrokerAdapter(AmbProperties properties) {
				throw AmbBackendNotAvailableException.missingAdapter("rabbitmq", RABBIT_ADAPTER);
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

			// Wiring point for the Kafka adapter: return new KafkaBrokerAdapter(kafkaProperties, ...) here.
			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambKafkaBrokerAdapter(AmbProperties properties) {
				throw AmbBackendNotAvailableException.missingAdapter("kafka", KAFKA_ADAPTER);
			}

		}

		@Configuration(proxyBeanMethods = false)
		@ConditionalOnMissingClass(KAFKA_LIBRARY)
		static final class LibraryMissing {

			@Bean
			@ConditionalOnMissingBean({ BrokerAdapter.class, MessageBus.class })
			BrokerAdapter ambKafkaLibraryMissing() {
				throw AmbBackendNotAvailableException.missingLibrary("kafka", KAFKA_LIBRARY,
						"org.springframework.kafka:spring-kafka");
			}

		}

	}

}
