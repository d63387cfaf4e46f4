package dev.amb.core.adapters.rabbitmq;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;

import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

import dev.amb.core.testsupport.LoopbackServer;

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
		LoopbackServer.RABBITMQ.require();
		this.connectionFactory = newConnectionFactory(this.connectionName);
		this.settings = settings.exchange("amb-test-" + this.suffix).requeueDelay(java.time.Duration.ofMillis(100))
			.build();
	}

	static CachingConnectionFactory newConnectionFactory(String connectionName) {
		CachingConnectionFactory factory = new CachingConnectionFactory(LoopbackServer.RABBITMQ.host(),
				LoopbackServer.RABBITMQ.port());
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

	static List<String> rabbitmqctl(String... arguments) throws IOException, InterruptedException {
		List<String> command = new ArrayList<>();
		command.add("rabbitmqctl");
		command.addAll(List.of(arguments));
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		List<String> lines = new ArrayList<>();
		try (BufferedReader reader = new BufferedReader(
				new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				lines.add(line);
			}
		}
		if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
			throw new IOException("rabbitmqctl " + String.join(" ", arguments) + " failed: " + lines);
		}
		return lines;
	}

}
