package dev.amb.core.adapters.rabbitmq;

import java.util.Map;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Subscription;
import dev.amb.core.contract.BrokerContractTests;
import dev.amb.core.contract.DurableGroupContract;
import dev.amb.core.contract.KeyOrderContract;
import dev.amb.core.contract.PauseContract;
import dev.amb.core.contract.PriorityContract;
import dev.amb.core.contract.WildcardContract;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.testsupport.RealServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The RabbitMQ backend against the whole contract, on the loopback broker.
 */
class RabbitBrokerContractTests extends BrokerContractTests {

	private static RabbitTestBroker broker;

	@BeforeAll
	static void requireBroker() {
		RealServer.RABBITMQ.require();
		broker = new RabbitTestBroker();
	}

	@AfterAll
	static void cleanUp() {
		if (broker != null) {
			broker.cleanUp();
		}
	}

	@Override
	protected BrokerAdapter createAdapter() {
		return broker.newAdapter();
	}

	@Override
	protected boolean sendUnreadable(String topic, byte[] body) throws Exception {
		try (var connection = broker.connectionFactory.createConnection()) {
			Channel channel = connection.createChannel(false);
			channel.basicPublish(broker.settings.exchange(), topic,
					new AMQP.BasicProperties.Builder().headers(Map.of("id", "not-a-uuid")).build(), body);
			channel.close();
		}
		return true;
	}

	/**
	 * A message reaches the consumer's prefetch window a little after the broker confirmed it:
	 * the priority clauses wait until the whole backlog is there before releasing the handler.
	 */
	@Override
	protected void awaitBacklogVisible(DefaultMessageBus on, Subscription subscription, int messages) {
		await().atMost(deliveryTimeout())
			.untilAsserted(() -> assertThat(state(on, subscription).depth()).isGreaterThanOrEqualTo(messages));
	}

	@Nested
	class DurableGroups extends DurableGroupContract {

	}

	@Nested
	class KeyOrder extends KeyOrderContract {

	}

	@Nested
	class Priorities extends PriorityContract {

	}

	@Nested
	class Wildcards extends WildcardContract {

	}

	@Nested
	class Pause extends PauseContract {

	}

}
