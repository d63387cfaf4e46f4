package dev.amb.spring.boot.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;
import dev.amb.core.MessageBus;
import dev.amb.core.adapters.kafka.KafkaBrokerAdapter;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter;
import dev.amb.core.adapters.redis.RedisBrokerAdapter;
import dev.amb.core.testsupport.RealServer;
import dev.amb.spring.boot.listener.AmbListener;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One application per remote backend, wired only by auto-configuration: {@code amb.backend}, the
 * backend's Spring Boot connection properties, an {@link AmbListener @AmbListener}, and a publish
 * through the {@link MessageBus} bean that the listener receives over the real broker (Redis and
 * RabbitMQ on loopback, Kafka as an embedded KRaft broker). Every run uses its own topic and its
 * own key prefix, exchange or topic prefix, and removes what it created.
 */
class AmbBackendEndToEndTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class))
		.withUserConfiguration(ListenerConfiguration.class);

	@Test
	void redisBackendDeliversToAnAmbListener() {
		RealServer.REDIS.require();
		String prefix = "amb-e2e-" + UUID.randomUUID() + ":";
		String topic = topic();
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class))
			.withPropertyValues("amb.backend=redis", "spring.data.redis.host=" + RealServer.REDIS.host(),
					"spring.data.redis.port=" + RealServer.REDIS.port(), "amb.redis.stream-prefix=" + prefix,
					"test.topic=" + topic)
			.run((context) -> {
				// Its own connection, to clean up after the context closed Spring Boot's.
				LettuceConnectionFactory cleanup = new LettuceConnectionFactory(RealServer.REDIS.host(),
						RealServer.REDIS.port());
				cleanup.afterPropertiesSet();
				cleanup.start();
				StringRedisTemplate redis = new StringRedisTemplate(cleanup);
				try {
					assertThat(context).hasNotFailed().hasSingleBean(RedisBrokerAdapter.class);
					publishAndReceive(context.getBean(MessageBus.class), context.getBean(Received.class), topic);
					// The stream prefix reached the adapter: its keys are where amb.redis.stream-prefix says.
					assertThat(redis.keys(prefix + "*")).isNotEmpty();
				}
				finally {
					context.close();
					Set<String> keys = redis.keys(prefix + "*");
					if (keys != null && !keys.isEmpty()) {
						redis.delete(keys);
					}
					cleanup.destroy();
				}
			});
	}

	@Test
	void rabbitmqBackendDeliversToAnAmbListener() {
		RealServer.RABBITMQ.require();
		String exchange = "amb-e2e-" + UUID.randomUUID();
		String topic = topic();
		this.runner.withConfiguration(AutoConfigurations.of(RabbitAutoConfiguration.class))
			.withPropertyValues("amb.backend=rabbitmq", "spring.rabbitmq.host=" + RealServer.RABBITMQ.host(),
					"spring.rabbitmq.port=" + RealServer.RABBITMQ.port(), "spring.rabbitmq.username=guest",
					"spring.rabbitmq.password=guest", "amb.rabbitmq.exchange=" + exchange, "test.topic=" + topic)
			.run((context) -> {
				ConnectionFactory connectionFactory = context.getBean(ConnectionFactory.class);
				try {
					assertThat(context).hasNotFailed().hasSingleBean(RabbitBrokerAdapter.class);
					publishAndReceive(context.getBean(MessageBus.class), context.getBean(Received.class), topic);
					// The exchange name reached the adapter: the exchange exists (a passive declare fails otherwise).
					try (Connection connection = connectionFactory.createConnection();
							Channel channel = connection.createChannel(false)) {
						channel.exchangeDeclarePassive(exchange);
					}
				}
				finally {
					context.close();
					deleteRabbitTopology(exchange);
				}
			});
	}

	@Test
	void kafkaBackendDeliversToAnAmbListener() throws Exception {
		String prefix = "amb-e2e-" + UUID.randomUUID().toString().substring(0, 8) + ".";
		String topic = topic();
		String bootstrap = RealServer.KAFKA.address();
		this.runner.withConfiguration(AutoConfigurations.of(KafkaAutoConfiguration.class))
			.withPropertyValues("amb.backend=kafka", "spring.kafka.bootstrap-servers=" + bootstrap,
					"amb.kafka.topic-prefix=" + prefix, "amb.kafka.partitions=1", "test.topic=" + topic)
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(KafkaBrokerAdapter.class);
				publishAndReceive(context.getBean(MessageBus.class), context.getBean(Received.class), topic);
			});
		// The topic prefix reached the adapter: its topics are named with it.
		try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
			assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).contains(prefix + topic);
		}
	}

	private static void publishAndReceive(MessageBus bus, Received received, String topic) throws Exception {
		String payload = "hello " + UUID.randomUUID();
		bus.publish(topic, payload).get(30, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(received.payloads).contains(payload));
	}

	private static String topic() {
		return "e2e.tasks." + UUID.randomUUID().toString().substring(0, 8);
	}


	private static void deleteRabbitTopology(String exchange) throws Exception {
		com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
		factory.setHost(RealServer.RABBITMQ.host());
		factory.setPort(RealServer.RABBITMQ.port());
		try (com.rabbitmq.client.Connection connection = factory.newConnection();
				Channel channel = connection.createChannel()) {
			channel.queueDelete(exchange + ".dlq.unrouted");
			for (String name : List.of(exchange, exchange + ".internal", exchange + ".dlq", exchange + ".dlq.unrouted")) {
				channel.exchangeDelete(name);
			}
		}
	}

	/** What the listener received. */
	static final class Received {

		final List<String> payloads = new CopyOnWriteArrayList<>();

		@AmbListener(topics = "${test.topic}", maxAttempts = "1")
		void onTask(String payload) {
			this.payloads.add(payload);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ListenerConfiguration {

		@Bean
		Received received() {
			return new Received();
		}

	}

}
