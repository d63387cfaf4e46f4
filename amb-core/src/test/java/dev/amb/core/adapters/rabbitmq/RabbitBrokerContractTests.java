package dev.amb.core.adapters.rabbitmq;

import java.util.Map;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.amb.core.contract.BrokerContractTests;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.testsupport.LoopbackServer;

/**
 * The RabbitMQ backend against the whole contract, on the loopback broker.
 */
class RabbitBrokerContractTests extends BrokerContractTests {

	private static RabbitTestBroker broker;

	@BeforeAll
	static void requireBroker() {
		LoopbackServer.RABBITMQ.require();
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

}
