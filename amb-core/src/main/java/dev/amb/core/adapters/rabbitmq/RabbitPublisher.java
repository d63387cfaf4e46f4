package dev.amb.core.adapters.rabbitmq;

import java.io.IOException;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownSignalException;

import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.PublisherCallbackChannel;

import dev.amb.core.spi.Envelope;

/**
 * Publishes on one channel in confirm mode, without waiting for each confirm before the next
 * publish: up to {@link RabbitBrokerSettings#maxOutstandingConfirms()} messages are in flight,
 * each send's future completes when the broker confirms it (a multiple-ack completes a run at
 * once), fails on a negative acknowledgement, a return (mandatory publishes only), a closed
 * channel or the confirm timeout. A closed channel is replaced on the next send.
 */
final class RabbitPublisher {

	private static final System.Logger logger = System.getLogger(RabbitPublisher.class.getName());

	private final ConnectionFactory connectionFactory;

	private final RabbitTopology topology;

	private final RabbitBrokerSettings settings;

	private final Semaphore window;

	private final ReentrantLock lock = new ReentrantLock();

	private final long confirmTimeoutNanos;

	private volatile ConfirmChannel current;

	private volatile boolean closed;

	RabbitPublisher(ConnectionFactory connectionFactory, RabbitTopology topology, RabbitBrokerSettings settings) {
		this.connectionFactory = connectionFactory;
		this.topology = topology;
		this.settings = settings;
		this.window = new Semaphore(settings.maxOutstandingConfirms());
		this.confirmTimeoutNanos = settings.confirmTimeout().toNanos();
	}

	CompletableFuture<Void> send(Envelope envelope) {
		if (this.closed) {
			return CompletableFuture.failedFuture(new PublishNotConfirmedException("The RabbitMQ publisher is closed"));
		}
		if (!this.window.tryAcquire()) {
			try {
				if (!this.window.tryAcquire(this.confirmTimeoutNanos, TimeUnit.NANOSECONDS)) {
					return CompletableFuture.failedFuture(new PublishNotConfirmedException(
							"No room in the confirm window (" + this.settings.maxOutstandingConfirms()
									+ " messages awaiting a confirm) within " + this.settings.confirmTimeout()));
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return CompletableFuture.failedFuture(ex);
			}
		}
		String topic = envelope.topic();
		String exchange = this.topology.exchangeFor(topic);
		// Replies must reach their requester: one that reaches no queue fails instead of vanishing.
		boolean mandatory = this.settings.mandatory() || exchange.equals(this.settings.internalExchange());
		AMQP.BasicProperties properties = RabbitWire.properties(envelope, this.settings.persistent());
		PendingSend pending = new PendingSend(this.window, envelope.id(), topic);
		this.lock.lock();
		try {
			ConfirmChannel confirmChannel = openChannel();
			long sequence = confirmChannel.channel.getNextPublishSeqNo();
			confirmChannel.pending.put(sequence, pending);
			try {
				confirmChannel.channel.basicPublish(exchange, topic, mandatory, properties, envelope.payload());
			}
			catch (IOException | RuntimeException ex) {
				confirmChannel.pending.remove(sequence);
				throw ex;
			}
		}
		catch (Exception ex) {
			pending.fail(new PublishNotConfirmedException("Could not publish " + envelope + " to RabbitMQ: " + ex, ex));
		}
		finally {
			this.lock.unlock();
		}
		return pending;
	}

	private ConfirmChannel openChannel() throws IOException {
		ConfirmChannel confirmChannel = this.current;
		if (confirmChannel != null && confirmChannel.channel.isOpen()) {
			return confirmChannel;
		}
		Channel logical = this.connectionFactory.createConnection().createChannel(false);
		Channel raw = logical;
		if (raw instanceof ChannelProxy proxy) {
			raw = proxy.getTargetChannel();
		}
		if (raw instanceof PublisherCallbackChannel callbackChannel) {
			raw = callbackChannel.getDelegate();
		}
		confirmChannel = new ConfirmChannel(logical, raw);
		raw.confirmSelect();
		raw.addConfirmListener(confirmChannel);
		raw.addReturnListener(confirmChannel);
		raw.addShutdownListener(confirmChannel::channelClosed);
		this.current = confirmChannel;
		return confirmChannel;
	}

	/** Fails the sends whose confirm is overdue; called periodically. */
	void expireOverdue() {
		ConfirmChannel confirmChannel = this.current;
		if (confirmChannel == null) {
			return;
		}
		long now = System.nanoTime();
		for (Map.Entry<Long, PendingSend> entry : confirmChannel.pending.entrySet()) {
			PendingSend pending = entry.getValue();
			if (now - pending.startNanos < this.confirmTimeoutNanos) {
				break;
			}
			if (confirmChannel.pending.remove(entry.getKey(), pending)) {
				pending.fail(new PublishNotConfirmedException("RabbitMQ did not confirm the message " + pending.id
						+ " to '" + pending.topic + "' within " + this.settings.confirmTimeout()));
			}
		}
	}

	int outstanding() {
		return this.settings.maxOutstandingConfirms() - this.window.availablePermits();
	}

	/**
	 * Waits for outstanding confirms, then closes the channel; what is still unconfirmed fails.
	 * @param timeoutNanos how long to wait
	 */
	void close(long timeoutNanos) {
		this.closed = true;
		long deadline = System.nanoTime() + timeoutNanos;
		while (outstanding() > 0 && System.nanoTime() < deadline) {
			try {
				Thread.sleep(5);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				break;
			}
		}
		this.lock.lock();
		try {
			ConfirmChannel confirmChannel = this.current;
			this.current = null;
			if (confirmChannel != null) {
				confirmChannel.close();
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/** A send awaiting its confirm; its permit in the window is released exactly once. */
	private static final class PendingSend extends CompletableFuture<Void> {

		final Semaphore window;

		// The id's text is needed only when something went wrong: not made per send.
		final UUID id;

		final String topic;

		final long startNanos = System.nanoTime();

		PendingSend(Semaphore window, UUID id, String topic) {
			this.window = window;
			this.id = id;
			this.topic = topic;
		}

		void succeed() {
			if (super.complete(null)) {
				this.window.release();
			}
		}

		void fail(Throwable failure) {
			if (super.completeExceptionally(failure)) {
				this.window.release();
			}
		}

		@Override
		public boolean complete(Void value) {
			// Only the publisher completes a send: callers see the broker's answer.
			throw new UnsupportedOperationException("A publish future completes when RabbitMQ confirms it");
		}

		@Override
		public boolean completeExceptionally(Throwable ex) {
			throw new UnsupportedOperationException("A publish future completes when RabbitMQ confirms it");
		}

	}

	/** One channel in confirm mode and the sends awaiting its confirms, in publish order. */
	private static final class ConfirmChannel implements ConfirmListener, ReturnListener {

		final Channel logical;

		final Channel channel;

		final ConcurrentNavigableMap<Long, PendingSend> pending = new ConcurrentSkipListMap<>();

		/** Returns arrive before the confirm of the same message, on the connection's thread. */
		final Map<String, String> returned = new ConcurrentHashMap<>();

		ConfirmChannel(Channel logical, Channel channel) {
			this.logical = logical;
			this.channel = channel;
		}

		@Override
		public void handleAck(long deliveryTag, boolean multiple) {
			if (multiple) {
				ConcurrentNavigableMap<Long, PendingSend> confirmed = this.pending.headMap(deliveryTag, true);
				for (PendingSend send : confirmed.values()) {
					confirm(send);
				}
				confirmed.clear();
			}
			else {
				PendingSend send = this.pending.remove(deliveryTag);
				if (send != null) {
					confirm(send);
				}
			}
		}

		private void confirm(PendingSend send) {
			if (this.returned.isEmpty()) {
				send.succeed();
				return;
			}
			String reason = this.returned.remove(send.id.toString());
			if (reason == null) {
				send.succeed();
			}
			else {
				send.fail(new UnroutableMessageException("RabbitMQ returned the message " + send.id + " to '"
						+ send.topic + "': no queue is bound for it (" + reason + ")"));
			}
		}

		@Override
		public void handleNack(long deliveryTag, boolean multiple) {
			ConcurrentNavigableMap<Long, PendingSend> refused = multiple ? this.pending.headMap(deliveryTag, true)
					: this.pending.subMap(deliveryTag, true, deliveryTag, true);
			for (PendingSend send : refused.values()) {
				send.fail(new PublishNotConfirmedException("RabbitMQ refused the message " + send.id + " to '"
						+ send.topic + "' (basic.nack)"));
			}
			refused.clear();
		}

		@Override
		public void handleReturn(int replyCode, String replyText, String exchange, String routingKey,
				AMQP.BasicProperties properties, byte[] body) {
			if (properties.getMessageId() != null) {
				this.returned.put(properties.getMessageId(), replyCode + " " + replyText + ", exchange '" + exchange
						+ "', routing key '" + routingKey + "'");
			}
		}

		void channelClosed(ShutdownSignalException cause) {
			if (!this.pending.isEmpty()) {
				logger.log(System.Logger.Level.WARNING, () -> "RabbitMQ publisher channel closed with "
						+ this.pending.size() + " message(s) awaiting a confirm: " + cause.getMessage());
			}
			for (PendingSend send : this.pending.values()) {
				send.fail(new PublishNotConfirmedException("The RabbitMQ channel closed before the broker confirmed "
						+ "the message " + send.id + " to '" + send.topic + "': " + cause.getMessage(), cause));
			}
			this.pending.clear();
		}

		void close() {
			try {
				if (this.channel.isOpen()) {
					this.channel.close();
				}
			}
			catch (Exception ex) {
				logger.log(System.Logger.Level.DEBUG, "Closing the publisher channel failed", ex);
			}
			try {
				this.logical.close();
			}
			catch (Exception ex) {
				logger.log(System.Logger.Level.DEBUG, "Releasing the publisher channel failed", ex);
			}
		}

	}

}
