package dev.amb.spring.boot.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
import dev.amb.core.adapters.kafka.KafkaBrokerAdapter;
import dev.amb.core.adapters.kafka.KafkaBrokerSettings;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerSettings;
import dev.amb.core.adapters.redis.RedisBrokerAdapter;
import dev.amb.core.adapters.redis.RedisBrokerSettings;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.PublishInterceptor;
import dev.amb.spring.boot.diagnostics.AmbBackendNotAvailableException;
import dev.amb.spring.boot.diagnostics.AmbFailureAnalyzer;
import dev.amb.spring.boot.diagnostics.InvalidAmbConfigurationException;
import dev.amb.spring.boot.listener.AmbListenerAnnotationBeanPostProcessor;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.kafka.core.KafkaTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class AmbAutoConfigurationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class));

	@Test
	void defaultBackendIsInMemoryAndTheBusCarriesMessages() {
		this.runner.run((context) -> {
			assertThat(context).hasSingleBean(InMemoryBroker.class)
				.hasSingleBean(DefaultMessageBus.class)
				.hasSingleBean(AmbListenerEndpointRegistry.class)
				.hasSingleBean(AmbListenerAnnotationBeanPostProcessor.class);
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			assertThat(bus.backend()).isEqualTo("in-memory");
			List<String> received = new CopyOnWriteArrayList<>();
			bus.subscribe("agent.events", String.class, (message) -> received.add(message.getPayload()));
			bus.publish("agent.events", "hello").get(5, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(5)).until(() -> received.contains("hello"));
		});
	}

	@Test
	void explicitInMemoryBackendAppliesTheProperties() {
		this.runner
			.withPropertyValues("amb.backend=In-Memory", "amb.backpressure.max-queue-size=7",
					"amb.backpressure.threshold=0.5", "amb.source=/planner", "amb.max-payload-size=16B")
			.run((context) -> {
				assertThat(context).hasSingleBean(InMemoryBroker.class);
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				var subscription = bus.subscribe("t", String.class, (message) -> {
				});
				assertThat(bus.subscriptions()).singleElement()
					.satisfies((info) -> assertThat(info.state().capacity()).isEqualTo(7));
				subscription.close();
				org.assertj.core.api.Assertions.assertThatThrownBy(() -> bus.publish("t", "seventeen bytes!!"))
					.hasMessageContaining("amb.max-payload-size");
			});
	}

	@Test
	void closesTheBusWithTheContext() {
		this.runner.run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			context.close();
			org.assertj.core.api.Assertions.assertThatThrownBy(() -> bus.publish("t", "x"))
				.isInstanceOf(dev.amb.core.BusClosedException.class);
		});
	}

	@Test
	void userDefinedMessageBusWins() {
		this.runner.withUserConfiguration(UserBusConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(MessageBus.class).doesNotHaveBean(InMemoryBroker.class);
			assertThat(context.getBean(MessageBus.class)).isSameAs(context.getBean("userBus"));
		});
	}

	@Test
	void userDefinedBrokerAdapterWins() {
		this.runner.withUserConfiguration(UserAdapterConfiguration.class).run((context) -> {
			assertThat(context).hasSingleBean(BrokerAdapter.class).hasBean("userAdapter");
			assertThat(context.getBean(DefaultMessageBus.class).backend()).isEqualTo("in-memory");
		});
	}

	@Test
	void userDefinedBrokerAdapterWinsOverAnUnavailableBackend() {
		this.runner.withUserConfiguration(UserAdapterConfiguration.class)
			.withPropertyValues("amb.backend=kafka")
			.withClassLoader(new FilteredClassLoader(KafkaTemplate.class))
			.run((context) -> assertThat(context).hasNotFailed().hasBean("userAdapter"));
	}

	@Test
	void codecUsesTheApplicationsJsonMapper() {
		this.runner.withUserConfiguration(SnakeCaseMapperConfiguration.class).run((context) -> {
			PayloadCodec codec = context.getBean(PayloadCodec.class);
			String json = new String(codec.encode(new Task("plan", 2)), java.nio.charset.StandardCharsets.UTF_8);
			assertThat(json).contains("task_name");
		});
	}

	@Test
	void codecUsesSpringBootsJsonMapperAndItsSettings() {
		this.runner
			.withConfiguration(AutoConfigurations
				.of(org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration.class))
			.withPropertyValues("spring.jackson.property-naming-strategy=SNAKE_CASE")
			.run((context) -> {
				assertThat(context).hasSingleBean(JsonMapper.class);
				String json = new String(context.getBean(PayloadCodec.class).encode(new Task("plan", 2)),
						java.nio.charset.StandardCharsets.UTF_8);
				assertThat(json).contains("task_name");
			});
	}

	@Test
	void interceptorBeansAreAppliedToTheBus() {
		this.runner.withUserConfiguration(InterceptorConfiguration.class).run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			List<Map<String, String>> seen = new CopyOnWriteArrayList<>();
			bus.subscribe("t", String.class, (message) -> seen.add(message.getHeaders()));
			bus.publish("t", "x").get(5, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(5)).until(() -> !seen.isEmpty());
			assertThat(seen.get(0)).containsEntry("stamped", "yes");
		});
	}

	@Test
	void redisWithoutItsLibraryNamesTheDependency() {
		assertMissingLibrary("redis", RedisConnectionFactory.class, "spring-boot-starter-data-redis");
	}

	@Test
	void rabbitmqWithoutItsLibraryNamesTheDependency() {
		assertMissingLibrary("rabbitmq", ConnectionFactory.class, "spring-boot-starter-amqp");
	}

	@Test
	void kafkaWithoutItsLibraryNamesTheDependency() {
		assertMissingLibrary("kafka", KafkaTemplate.class, "spring-boot-starter-kafka");
	}

	private void assertMissingLibrary(String backend, Class<?> library, String dependency) {
		this.runner.withPropertyValues("amb.backend=" + backend)
			.withClassLoader(new FilteredClassLoader(library))
			.run((context) -> {
				FailureAnalysis analysis = analyze(context);
				assertThat(analysis.getDescription()).contains("amb.backend=" + backend, library.getName());
				assertThat(analysis.getAction()).contains(dependency);
				assertThat(context.getStartupFailure()).rootCause().isInstanceOf(AmbBackendNotAvailableException.class);
			});
	}

	@Test
	void redisWithSpringBootsConnectionUsesTheRedisAdapter() {
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
			.withPropertyValues("amb.backend=redis", "spring.data.redis.host=127.0.0.1", "amb.redis.stream-prefix=amb-test-" + UUID.randomUUID() + ":",
					"amb.redis.trimming.strategy=minid", "amb.redis.trimming.max-age=2h",
					"amb.redis.trimming.approximate=false", "amb.redis.claim-timeout=7s", "amb.redis.batch-size=33",
					"amb.redis.block-timeout=250ms", "amb.redis.topic-refresh-interval=3s",
					"amb.redis.max-pending-sends=99", "amb.redis.send-timeout=4s", "amb.priority.starvation-bound=5")
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(RedisBrokerAdapter.class).doesNotHaveBean(InMemoryBroker.class);
				assertThat(context.getBean(DefaultMessageBus.class).backend()).isEqualTo("redis");
				RedisBrokerSettings settings = context.getBean(RedisBrokerSettings.class);
				assertThat(settings.streamPrefix()).startsWith("amb-test-").endsWith(":");
				assertThat(settings.trimming()).isEqualTo(new RedisBrokerSettings.Trimming(
						RedisBrokerSettings.Trimming.Strategy.MINID, 1_000_000, Duration.ofHours(2), false));
				assertThat(settings.claimTimeout()).isEqualTo(Duration.ofSeconds(7));
				assertThat(settings.batchSize()).isEqualTo(33);
				assertThat(settings.blockTimeout()).isEqualTo(Duration.ofMillis(250));
				assertThat(settings.topicRefreshInterval()).isEqualTo(Duration.ofSeconds(3));
				assertThat(settings.maxPendingSends()).isEqualTo(99);
				assertThat(settings.sendTimeout()).isEqualTo(Duration.ofSeconds(4));
				assertThat(settings.starvationBound()).isEqualTo(5);
			});
	}

	@Test
	void redisBusClosesBeforeSpringBootsConnectionStops() {
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
			.withPropertyValues("amb.backend=redis", "spring.data.redis.port=1")
			.run((context) -> {
				SmartLifecycle connection = (SmartLifecycle) context.getBean(RedisConnectionFactory.class);
				assertThat(context.getBean(AmbConnectionShutdown.class).getPhase()).isGreaterThan(connection.getPhase());
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				context.stop();
				org.assertj.core.api.Assertions.assertThatThrownBy(() -> bus.publish("t", "x"))
					.isInstanceOf(dev.amb.core.BusClosedException.class);
			});
	}

	@Test
	void redisDefaultsAreTheAdaptersDefaults() {
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
			.withPropertyValues("amb.backend=redis", "spring.data.redis.port=1")
			.run((context) -> assertThat(context.getBean(RedisBrokerSettings.class)).hasToString(
					RedisBrokerSettings.defaults().toString()));
	}

	@Test
	void rabbitmqWithSpringBootsConnectionUsesTheRabbitAdapter() {
		// Nothing listens on port 1: the adapter starts before its broker, so nothing is declared on
		// the shared RabbitMQ (AmbBackendEndToEndTests covers the real broker).
		this.runner.withConfiguration(AutoConfigurations.of(RabbitAutoConfiguration.class))
			.withPropertyValues("amb.backend=rabbitmq", "spring.rabbitmq.host=127.0.0.1", "spring.rabbitmq.port=1",
					"amb.rabbitmq.exchange=amb-test-" + UUID.randomUUID(), "amb.rabbitmq.dead-letter-exchange=dead",
					"amb.rabbitmq.internal-exchange=inside", "amb.rabbitmq.unrouted-dead-letter-queue=lost",
					"amb.rabbitmq.queue-prefix=q.", "amb.rabbitmq.prefetch=12",
					"amb.rabbitmq.max-outstanding-confirms=34", "amb.rabbitmq.confirm-timeout=9s",
					"amb.rabbitmq.single-active-consumer=false", "amb.rabbitmq.broadcast-queue-expiry=2m",
					"amb.rabbitmq.requeue-delay=0s", "amb.rabbitmq.recovery-interval=3s",
					"amb.rabbitmq.persistent=false", "amb.rabbitmq.mandatory=true", "amb.priority.starvation-bound=2",
					"amb.rabbitmq.starvation-bound=6")
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(RabbitBrokerAdapter.class).doesNotHaveBean(InMemoryBroker.class);
				assertThat(context.getBean(DefaultMessageBus.class).backend()).isEqualTo("rabbitmq");
				RabbitBrokerSettings settings = context.getBean(RabbitBrokerSettings.class);
				assertThat(settings.exchange()).startsWith("amb-test-");
				assertThat(settings.deadLetterExchange()).isEqualTo("dead");
				assertThat(settings.internalExchange()).isEqualTo("inside");
				assertThat(settings.unroutedDeadLetterQueue()).isEqualTo("lost");
				assertThat(settings.queuePrefix()).isEqualTo("q.");
				assertThat(settings.prefetch()).isEqualTo(12);
				assertThat(settings.maxOutstandingConfirms()).isEqualTo(34);
				assertThat(settings.confirmTimeout()).isEqualTo(Duration.ofSeconds(9));
				assertThat(settings.singleActiveConsumer()).isFalse();
				assertThat(settings.broadcastQueueExpiry()).isEqualTo(Duration.ofMinutes(2));
				assertThat(settings.requeueDelay()).isZero();
				assertThat(settings.recoveryInterval()).isEqualTo(Duration.ofSeconds(3));
				assertThat(settings.persistent()).isFalse();
				assertThat(settings.mandatory()).isTrue();
				assertThat(settings.starvationBound()).isEqualTo(6);
			});
	}

	@Test
	void rabbitmqDefaultsAreTheAdaptersDefaults() {
		this.runner.withConfiguration(AutoConfigurations.of(RabbitAutoConfiguration.class))
			.withPropertyValues("amb.backend=rabbitmq", "spring.rabbitmq.port=1")
			.run((context) -> assertThat(context.getBean(RabbitBrokerSettings.class))
				.usingRecursiveComparison()
				.isEqualTo(RabbitBrokerSettings.DEFAULTS));
	}

	@Test
	void kafkaWithSpringBootsSettingsUsesTheKafkaAdapter() {
		// The adapter's start creates its producer and admin client, which connect only when used.
		this.runner.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class))
			.withPropertyValues("amb.backend=kafka", "spring.kafka.bootstrap-servers=127.0.0.1:1",
					"amb.kafka.topic-prefix=p.", "amb.kafka.high-lane-suffix=.hi", "amb.kafka.low-lane-suffix=.lo",
					"amb.kafka.group-prefix=g.", "amb.kafka.partitions=3", "amb.kafka.replication-factor=2",
					"amb.kafka.poll-timeout=50ms", "amb.kafka.linger=0s", "amb.kafka.batch-size=1024",
					"amb.kafka.metadata-max-age=2s", "amb.kafka.operation-timeout=11s",
					"amb.kafka.subscribe-timeout=12s", "amb.kafka.health-timeout=1s",
					"amb.kafka.delete-broadcast-groups=false", "amb.priority.starvation-bound=7")
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(KafkaBrokerAdapter.class).doesNotHaveBean(InMemoryBroker.class);
				assertThat(context.getBean(DefaultMessageBus.class).backend()).isEqualTo("kafka");
				KafkaBrokerSettings settings = context.getBean(KafkaBrokerSettings.class);
				assertThat(settings.getTopicPrefix()).isEqualTo("p.");
				assertThat(settings.getHighLaneSuffix()).isEqualTo(".hi");
				assertThat(settings.getLowLaneSuffix()).isEqualTo(".lo");
				assertThat(settings.getGroupPrefix()).isEqualTo("g.");
				assertThat(settings.getPartitions()).isEqualTo(3);
				assertThat(settings.getReplicationFactor()).isEqualTo((short) 2);
				assertThat(settings.getPollTimeout()).isEqualTo(Duration.ofMillis(50));
				assertThat(settings.getLinger()).isZero();
				assertThat(settings.getBatchSize()).isEqualTo(1024);
				assertThat(settings.getMetadataMaxAge()).isEqualTo(Duration.ofSeconds(2));
				assertThat(settings.getOperationTimeout()).isEqualTo(Duration.ofSeconds(11));
				assertThat(settings.getSubscribeTimeout()).isEqualTo(Duration.ofSeconds(12));
				assertThat(settings.getHealthTimeout()).isEqualTo(Duration.ofSeconds(1));
				assertThat(settings.isDeleteBroadcastGroups()).isFalse();
				assertThat(settings.getStarvationBound()).isEqualTo(7);
			});
	}

	@Test
	void kafkaDefaultsAreTheAdaptersDefaults() {
		this.runner.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class))
			.withPropertyValues("amb.backend=kafka", "spring.kafka.bootstrap-servers=127.0.0.1:1")
			.run((context) -> assertThat(context.getBean(KafkaBrokerSettings.class)).usingRecursiveComparison()
				.isEqualTo(KafkaBrokerSettings.DEFAULTS));
	}

	@Test
	void redisWithoutSpringBootsConnectionNamesTheStarter() {
		assertMissingConnection("redis", "RedisConnectionFactory", "spring-boot-starter-data-redis");
	}

	@Test
	void rabbitmqWithoutSpringBootsConnectionNamesTheStarter() {
		assertMissingConnection("rabbitmq", "ConnectionFactory", "spring-boot-starter-amqp");
	}

	@Test
	void kafkaWithoutSpringBootsSettingsNamesTheStarter() {
		assertMissingConnection("kafka", "ProducerFactory", "spring-boot-starter-kafka");
	}

	private void assertMissingConnection(String backend, String connectionType, String starter) {
		// The library is on the classpath, Spring Boot's auto-configuration of the connection is not.
		this.runner.withPropertyValues("amb.backend=" + backend).run((context) -> {
			FailureAnalysis analysis = analyze(context);
			assertThat(analysis.getDescription()).contains("amb.backend=" + backend, connectionType);
			assertThat(analysis.getAction()).contains(starter);
			assertThat(context.getStartupFailure()).rootCause().isInstanceOf(AmbBackendNotAvailableException.class);
		});
	}

	@Test
	void userDefinedBrokerAdapterWinsOverEachRemoteBackend() {
		backendRunners().forEach((backend, runner) -> runner.withUserConfiguration(UserAdapterConfiguration.class)
			.run((context) -> {
				assertThat(context).as(backend).hasNotFailed().hasSingleBean(BrokerAdapter.class).hasBean("userAdapter");
				assertThat(context.getBean(DefaultMessageBus.class).backend()).as(backend).isEqualTo("in-memory");
			}));
	}

	@Test
	void userDefinedMessageBusWinsOverEachRemoteBackend() {
		backendRunners().forEach((backend, runner) -> runner.withUserConfiguration(UserBusConfiguration.class)
			.run((context) -> {
				assertThat(context).as(backend).hasNotFailed().hasSingleBean(MessageBus.class).doesNotHaveBean(BrokerAdapter.class);
				assertThat(context.getBean(MessageBus.class)).isSameAs(context.getBean("userBus"));
			}));
	}

	@Test
	void userDefinedSettingsWin() {
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
			.withPropertyValues("amb.backend=redis", "amb.redis.batch-size=5")
			.withBean(RedisBrokerSettings.class, () -> RedisBrokerSettings.builder().batchSize(77).build())
			.run((context) -> assertThat(context.getBean(RedisBrokerSettings.class).batchSize()).isEqualTo(77));
	}

	@Test
	void invalidBackendSettingNamesTheProperty() {
		assertInvalid("amb.backend=redis", "amb.redis.batch-size=0", "amb.redis.batch-size", "at least 1");
		assertInvalid("amb.backend=rabbitmq", "amb.rabbitmq.exchange=amq.mine", "amb.rabbitmq.exchange", "amq.");
		assertInvalid("amb.backend=kafka", "amb.kafka.topic-prefix=a/b", "amb.kafka.topic-prefix", "'/'");
		assertInvalid("amb.backend=redis", "amb.redis.claim-timeout=0s", "amb.redis.claim-timeout", "positive");
		assertInvalid("amb.backend=kafka", "amb.kafka.starvation-bound=0", "amb.kafka.starvation-bound", "at least 1");
	}

	private Map<String, ApplicationContextRunner> backendRunners() {
		return Map.of("redis",
				this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
					.withPropertyValues("amb.backend=redis"),
				"rabbitmq",
				this.runner.withConfiguration(AutoConfigurations.of(RabbitAutoConfiguration.class))
					.withPropertyValues("amb.backend=rabbitmq", "spring.rabbitmq.port=1"),
				"kafka", this.runner.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class))
					.withPropertyValues("amb.backend=kafka", "spring.kafka.bootstrap-servers=127.0.0.1:1"));
	}

	@Test
	void unknownBackendListsTheValidNames() {
		this.runner.withPropertyValues("amb.backend=zeromq").run((context) -> {
			FailureAnalysis analysis = analyze(context);
			assertThat(analysis.getDescription()).contains("amb.backend", "zeromq",
					"in-memory, redis, rabbitmq, kafka");
			assertThat(analysis.getAction()).contains("amb.backend");
		});
	}

	@Test
	void thresholdAboveOneIsRefused() {
		assertInvalid("amb.backpressure.threshold=1.5", "amb.backpressure.threshold", "above 0 and at most 1");
	}

	@Test
	void negativeQueueSizeIsRefused() {
		assertInvalid("amb.backpressure.max-queue-size=-5", "amb.backpressure.max-queue-size", "at least 1");
	}

	@Test
	void negativePayloadSizeIsRefused() {
		assertInvalid("amb.max-payload-size=-1MB", "amb.max-payload-size", "positive size");
	}

	@Test
	void zeroAttemptsAreRefused() {
		assertInvalid("amb.retry.max-attempts=0", "amb.retry.max-attempts", "at least 1");
	}

	@Test
	void backoffMultiplierBelowOneIsRefused() {
		assertInvalid("amb.retry.backoff.multiplier=0.5", "amb.retry.backoff.multiplier", "at least 1.0");
	}

	@Test
	void negativeDrainTimeoutIsRefused() {
		assertInvalid("amb.drain-timeout=-1s", "amb.drain-timeout", "zero or more");
	}

	@Test
	void persistenceInAnUnusableDirectoryIsExplained(@TempDir Path temp) throws Exception {
		Path file = Files.createFile(temp.resolve("not-a-directory"));
		assertInvalid("amb.persistence.enabled=true", "amb.persistence.dir=" + file, "amb.persistence.dir",
				"must be a directory");
	}

	@Test
	void segmentSizeOutOfRangeIsRefused() {
		assertInvalid("amb.persistence.segment-size=1KB", "amb.persistence.segment-size", "between 4KB and 1GB");
	}

	private void assertInvalid(String property, String name, String reason) {
		assertInvalid(property, "amb.source=/amb", name, reason);
	}

	private void assertInvalid(String property, String other, String name, String reason) {
		this.runner.withPropertyValues(property, other).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().isInstanceOf(InvalidAmbConfigurationException.class);
			FailureAnalysis analysis = analyze(context);
			assertThat(analysis.getDescription()).contains("Property: " + name).contains(reason);
			assertThat(analysis.getAction()).contains(name);
		});
	}

	static FailureAnalysis analyze(AssertableApplicationContext context) {
		assertThat(context).hasFailed();
		FailureAnalysis analysis = new AmbFailureAnalyzer().analyze(context.getStartupFailure());
		assertThat(analysis).as("failure analysis of %s", context.getStartupFailure()).isNotNull();
		return analysis;
	}

	record Task(String taskName, int steps) {
	}

	@Configuration(proxyBeanMethods = false)
	static class UserBusConfiguration {

		@Bean(destroyMethod = "close")
		MessageBus userBus() {
			return MessageBus.builder().adapter(new InMemoryBroker()).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserAdapterConfiguration {

		@Bean
		BrokerAdapter userAdapter() {
			return InMemoryBroker.builder().starvationBound(3).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class SnakeCaseMapperConfiguration {

		@Bean
		JsonMapper jsonMapper() {
			return JsonMapper.builder().propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class InterceptorConfiguration {

		@Bean
		PublishInterceptor stampingInterceptor() {
			return (topic, headers) -> {
				headers.put("stamped", "yes");
				return null;
			};
		}

	}

}
