package dev.amb.core.adapters.rabbitmq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.amb.core.testsupport.RealServer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link AckWindow} on a real channel: what a run acknowledges, and what the broker delivers again
 * when the channel closes in the middle of a batch.
 */
class RabbitAckWindowTests {

	private Connection connection;

	private final String queue = "amb-test-ackwindow-" + UUID.randomUUID().toString().substring(0, 8);

	@BeforeEach
	void connect() throws Exception {
		RealServer.RABBITMQ.require();
		ConnectionFactory factory = new ConnectionFactory();
		factory.setHost(RealServer.RABBITMQ.host());
		factory.setPort(RealServer.RABBITMQ.port());
		factory.setUsername("guest");
		factory.setPassword("guest");
		this.connection = factory.newConnection();
		Channel channel = this.connection.createChannel();
		channel.queueDeclare(this.queue, false, false, false, Map.of());
		for (int i = 1; i <= 10; i++) {
			channel.basicPublish("", this.queue, null, String.valueOf(i).getBytes(StandardCharsets.UTF_8));
		}
		channel.close();
	}

	@AfterEach
	void disconnect() throws Exception {
		if (this.connection != null) {
			Channel channel = this.connection.createChannel();
			channel.queueDelete(this.queue);
			this.connection.close();
		}
	}

	@Test
	void aRunStopsBelowTheLowestUnhandledAndACloseRedeliversOnlyTheUnacknowledged() throws Exception {
		Channel channel = this.connection.createChannel();
		List<Delivery> deliveries = consume(channel, 10);
		AckWindow acks = new AckWindow(channel, 3);
		deliveries.forEach((delivery) -> acks.received(delivery.tag()));
		ack(acks, deliveries, 1, 2);
		assertThat(acks.pending()).isEqualTo(2);
		// The batch is full: 1 to 3 go as one run.
		ack(acks, deliveries, 3);
		assertThat(acks.pending()).isZero();
		// Message 4 stays with its handler: the run cannot pass it, so a full batch goes singly.
		ack(acks, deliveries, 5, 6);
		assertThat(acks.pending()).isEqualTo(2);
		ack(acks, deliveries, 8);
		assertThat(acks.pending()).isZero();
		// The channel closes in the middle of the next batch (9 handled, not yet acknowledged).
		ack(acks, deliveries, 9);
		assertThat(acks.pending()).isEqualTo(1);
		channel.close();
		Channel next = this.connection.createChannel();
		List<Delivery> again = consume(next, 10);
		assertThat(again).extracting(Delivery::message).containsExactlyInAnyOrder(4, 7, 9, 10);
		assertThat(again).allMatch(Delivery::redelivered);
		next.close();
	}

	@Test
	void flushAcknowledgesEverythingHandledAndKeepsTheRest() throws Exception {
		Channel channel = this.connection.createChannel();
		List<Delivery> deliveries = consume(channel, 10);
		AckWindow acks = new AckWindow(channel, 64);
		deliveries.forEach((delivery) -> acks.received(delivery.tag()));
		ack(acks, deliveries, 1, 2, 4, 7, 8);
		acks.requeue(deliveries.get(2).tag());
		assertThat(acks.pending()).isEqualTo(5);
		acks.flush();
		assertThat(acks.pending()).isZero();
		ack(acks, deliveries, 5);
		acks.flush();
		// A round trip: acknowledging a tag twice or one the channel does not know would have
		// closed the channel (PRECONDITION_FAILED) by now.
		channel.queueDeclarePassive(this.queue);
		assertThat(channel.isOpen()).isTrue();
		channel.close();
		Channel next = this.connection.createChannel();
		List<Delivery> again = consume(next, 10);
		assertThat(again).extracting(Delivery::message).containsExactlyInAnyOrder(3, 6, 9, 10);
		next.close();
	}

	private static void ack(AckWindow acks, List<Delivery> deliveries, int... messages) throws Exception {
		for (int message : messages) {
			acks.ack(deliveries.get(message - 1).tag());
		}
	}

	/** Consumes up to {@code count} deliveries with manual acknowledgement, waiting briefly for more. */
	private List<Delivery> consume(Channel channel, int count) throws Exception {
		BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();
		channel.basicQos(count);
		channel.basicConsume(this.queue, false, new DefaultConsumer(channel) {

			@Override
			public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties,
					byte[] body) {
				received.add(new Delivery(envelope.getDeliveryTag(),
						Integer.parseInt(new String(body, StandardCharsets.UTF_8)), envelope.isRedeliver()));
			}

		});
		List<Delivery> deliveries = new ArrayList<>();
		Delivery delivery;
		while (deliveries.size() < count && (delivery = received.poll(2, TimeUnit.SECONDS)) != null) {
			deliveries.add(delivery);
		}
		deliveries.sort((a, b) -> Long.compare(a.tag(), b.tag()));
		return deliveries;
	}

	private record Delivery(long tag, int message, boolean redelivered) {
	}

}
