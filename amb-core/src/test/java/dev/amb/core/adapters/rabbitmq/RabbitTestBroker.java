package dev.amb.core.adapters.rabbitmq;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.rabbitmq.client.Channel;

import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

import dev.amb.core.testsupport.RealServer;

/**
 * The loopback RabbitMQ for one test class: a connection factory whose connections carry a name
 * unique to the class (so fault tests close only their own), settings whose exchanges and queues
 * carry a unique suffix, and the clean-up of everything they declared (other helpers share the
 * broker).
 */
final class RabbitTestBroker {

	final String suffix = UUID.randomUUID().toString().substring(0, 8);

	final String connectionName = "amb-test-" + this.suffix;

	final CachingConnectionFactory connectionFactory;

	final RabbitBrokerSettings settings;

	RabbitTestBroker() {
		this(RabbitBrokerSettings.builder());
	}

	RabbitTestBroker(RabbitBrokerSettings.Builder settings) {
		RealServer.RABBITMQ.require();
		this.connectionFactory = newConnectionFactory(this.connectionName);
		this.settings = settings.exchange("amb-test-" + this.suffix).requeueDelay(java.time.Duration.ofMillis(100))
			.build();
	}

	static CachingConnectionFactory newConnectionFactory(String connectionName) {
		CachingConnectionFactory factory = new CachingConnectionFactory(RealServer.RABBITMQ.host(),
				RealServer.RABBITMQ.port());
		factory.setUsername("guest");
		factory.setPassword("guest");
		factory.setConnectionNameStrategy((cf) -> connectionName);
		factory.setChannelCacheSize(32);
		return factory;
	}

	RabbitBrokerAdapter newAdapter() {
		return new RabbitBrokerAdapter(this.connectionFactory, this.settings);
	}

	/** Closes this class's connections from the broker's side, as an operator or a failing node would. */
	int closeConnectionsFromBroker() throws IOException, InterruptedException {
		List<String> names = new ArrayList<>();
		for (String line : rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid", "client_properties")) {
			if (line.contains(this.connectionName)) {
				names.add(line.substring(0, line.indexOf('\t')));
			}
		}
		for (String name : names) {
			rabbitmqctl("close_connection", name, "AMB fault test");
		}
		return names.size();
	}

	/** Deletes the exchanges and queues this class declared. */
	void cleanUp() {
		try {
			List<String> queues = rabbitmqctl("list_queues", "-q", "--no-table-headers", "name");
			try (var connection = this.connectionFactory.createConnection()) {
				Channel channel = connection.createChannel(false);
				for (String queue : queues) {
					if (queue.startsWith(this.settings.queuePrefix())
							|| queue.equals(this.settings.unroutedDeadLetterQueue())) {
						channel.queueDelete(queue);
					}
				}
				channel.exchangeDelete(this.settings.exchange());
				channel.exchangeDelete(this.settings.deadLetterExchange());
				channel.exchangeDelete(this.settings.internalExchange());
				channel.exchangeDelete(this.settings.unroutedDeadLetterQueue());
				channel.close();
			}
		}
		catch (Exception ex) {
			System.err.println("Clean-up of RabbitMQ test objects with suffix " + this.suffix + " failed: " + ex);
		}
		finally {
			this.connectionFactory.destroy();
		}
	}

	/** Runs {@code rabbitmqctl} where the broker runs (this machine, or its container). */
	static List<String> rabbitmqctl(String... arguments) throws IOException, InterruptedException {
		String[] command = new String[arguments.length + 1];
		command[0] = "rabbitmqctl";
		System.arraycopy(arguments, 0, command, 1, arguments.length);
		return RealServer.RABBITMQ.admin(command);
	}

}
