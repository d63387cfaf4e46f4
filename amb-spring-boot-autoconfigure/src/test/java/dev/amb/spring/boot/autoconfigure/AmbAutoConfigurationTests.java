package dev.amb.spring.boot.autoconfigure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
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
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
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
		assertMissingLibrary("kafka", KafkaTemplate.class, "org.springframework.kafka:spring-kafka");
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
	void redisWithItsLibraryButNoAdapterSaysSoAndDoesNotFallBack() {
		assertMissingAdapter("redis", "dev.amb.core.adapters.redis.RedisBrokerAdapter");
	}

	@Test
	void rabbitmqWithItsLibraryButNoAdapterSaysSoAndDoesNotFallBack() {
		assertMissingAdapter("rabbitmq", "dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter");
	}

	@Test
	void kafkaWithItsLibraryButNoAdapterSaysSoAndDoesNotFallBack() {
		assertMissingAdapter("kafka", "dev.amb.core.adapters.kafka.KafkaBrokerAdapter");
	}

	private void assertMissingAdapter(String backend, String adapterClass) {
		this.runner.withPropertyValues("amb.backend=" + backend).run((context) -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = analyze(context);
			assertThat(analysis.getDescription()).contains("amb.backend=" + backend, "not available in this version",
					adapterClass);
		});
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
