package dev.amb.core.adapters.rabbitmq;

import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.rabbitmq.client.Channel;

import org.springframework.amqp.rabbit.connection.Connection;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.ConnectionListener;

import dev.amb.core.BusClosedException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * The RabbitMQ backend on Spring AMQP. Topics are routing keys on durable topic exchanges (so
 * {@code *} and {@code #} are RabbitMQ's own), a group is a durable queue, a broadcast
 * subscription a queue of its own; lanes are AMQP priorities on {@code x-max-priority} queues;
 * publishes complete on publisher confirms; deliveries are acknowledged after the bus handled
 * them. See the reference documentation's RabbitMQ section for the whole mapping.
 */
public final class RabbitBrokerAdapter implements BrokerAdapter {

	private static final System.Logger logger = System.getLogger(RabbitBrokerAdapter.class.getName());

	private final ConnectionFactory connectionFactory;

	private final RabbitBrokerSettings settings;

	private final RabbitTopology topology;

	private final RabbitPublisher publisher;

	private final Set<Capability> capabilities;

	private final List<RabbitConsumer> consumers = new CopyOnWriteArrayList<>();

	private final AtomicLong unreadableDeadLettered = new AtomicLong();

	private final ConnectionListener redeclarer = this::redeclare;

	private ScheduledExecutorService scheduler;

	private volatile boolean started;

	private volatile boolean closed;

	/**
	 * Creates the adapter; nothing is declared or connected before {@link #start(AdapterContext)}.
	 * @param connectionFactory the connection factory, such as Spring Boot's
	 * @param settings AMB's own settings
	 */
	public RabbitBrokerAdapter(ConnectionFactory connectionFactory, RabbitBrokerSettings settings) {
		this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory must not be null");
		this.settings = Objects.requireNonNull(settings, "settings must not be null");
		this.topology = new RabbitTopology(settings);
		this.publisher = new RabbitPublisher(connectionFactory, this.topology, settings);
		EnumSet<Capability> declared = EnumSet.of(Capability.DURABLE, Capability.DURABLE_GROUPS, Capability.WILDCARDS,
				Capability.PRIORITY, Capability.PAUSE);
		if (settings.singleActiveConsumer()) {
			declared.add(Capability.KEY_ORDER);
		}
		this.capabilities = Set.copyOf(declared);
	}

	@Override
	public String name() {
		return "rabbitmq";
	}

	@Override
	public Set<Capability> capabilities() {
		return this.capabilities;
	}

	@Override
	public void start(AdapterContext context) {
		this.started = true;
		this.connectionFactory.addConnectionListener(this.redeclarer);
		try {
			withChannel((channel) -> {
				this.topology.declareExchanges(channel);
				return null;
			});
		}
		catch (RabbitDeclarationException ex) {
			// An application may start before its broker: the listener declares on the first connection.
			logger.log(System.Logger.Level.WARNING, "RabbitMQ is not reachable at start-up (" + ex.getMessage()
					+ "); AMB's exchanges are declared once it is, publishes fail until then");
		}
		this.scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "amb-rabbitmq-confirms");
			thread.setDaemon(true);
			return thread;
		});
		long period = Math.max(10, Math.min(1000, this.settings.confirmTimeout().toMillis() / 4));
		this.scheduler.scheduleWithFixedDelay(this.publisher::expireOverdue, period, period, TimeUnit.MILLISECONDS);
	}

	@Override
	public CompletableFuture<Void> send(Envelope envelope) {
		if (this.closed) {
			return CompletableFuture.failedFuture(new BusClosedException("The RabbitMQ adapter is closed"));
		}
		return this.publisher.send(envelope);
	}

	@Override
	public BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler) {
		Objects.requireNonNull(spec, "spec must not be null");
		if (this.closed || !this.started) {
			throw new BusClosedException("The RabbitMQ adapter is " + (this.closed ? "closed" : "not started"));
		}
		String queue = this.topology.queueFor(spec);
		withChannel((channel) -> {
			this.topology.declareQueue(channel, spec, queue);
			return null;
		});
		RabbitConsumer consumer = new RabbitConsumer(this, this.connectionFactory, spec, queue,
				this.topology.needsFilter(spec.pattern()), handler, this.settings);
		this.consumers.add(consumer);
		try {
			consumer.start();
		}
		catch (RuntimeException ex) {
			this.consumers.remove(consumer);
			throw ex;
		}
		return consumer;
	}

	/**
	 * Sends wire data that is not an AMB envelope to the dead-letter topic, with the reason.
	 * @return {@link Disposition#ACK} once the dead letter is confirmed, else REQUEUE
	 */
	Disposition deadLetterUnreadable(String routingKey, Map<String, String> headers, byte[] body, Exception reason,
			String subscription) {
		Envelope deadLetter = WireHeaders.unreadable(routingKey, headers, body, reason);
		try {
			this.publisher.send(deadLetter).get(this.settings.confirmTimeout().toMillis(), TimeUnit.MILLISECONDS);
			this.unreadableDeadLettered.incrementAndGet();
			logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + subscription
					+ "' received a message on '" + routingKey + "' that is not an AMB envelope (" + reason.getMessage()
					+ "); sent to '" + deadLetter.topic() + "' as " + deadLetter.id());
			return Disposition.ACK;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return Disposition.REQUEUE;
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.ERROR, "Could not dead-letter an unreadable message from '" + routingKey
					+ "'; it stays on the queue", ex);
			return Disposition.REQUEUE;
		}
	}

	/** @return unreadable messages sent to a dead-letter topic since start */
	public long unreadableDeadLettered() {
		return this.unreadableDeadLettered.get();
	}

	void detach(RabbitConsumer consumer) {
		this.consumers.remove(consumer);
	}

	void deleteQueue(String queue) {
		try {
			withChannel((channel) -> channel.queueDelete(queue));
		}
		catch (RuntimeException ex) {
			// It expires on its own (x-expires) if the broker is unreachable now.
			logger.log(System.Logger.Level.DEBUG, "Could not delete queue '" + queue + "'", ex);
		}
	}

	long queueDepth(String queue) {
		try {
			return withChannel((channel) -> channel.queueDeclarePassive(queue).getMessageCount());
		}
		catch (RuntimeException ex) {
			return -1;
		}
	}

	/** On each new connection (the first, and after the broker dropped one): declare everything again. */
	private void redeclare(Connection connection) {
		if (this.closed || !this.started) {
			return;
		}
		try {
			Channel channel = connection.createChannel(false);
			try {
				this.topology.declareExchanges(channel);
				for (RabbitConsumer consumer : this.consumers) {
					this.topology.declareQueue(channel, consumer.spec(), consumer.queue());
				}
			}
			finally {
				if (channel.isOpen()) {
					channel.close();
				}
			}
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.WARNING, "Could not declare AMB's exchanges and queues on a new RabbitMQ "
					+ "connection; consumers retry every " + this.settings.recoveryInterval(), ex);
		}
	}

	@Override
	public BrokerHealth health() {
		try {
			Connection connection = this.connectionFactory.createConnection();
			if (!connection.isOpen()) {
				return BrokerHealth.down("The RabbitMQ connection is closed");
			}
			Map<String, Object> details = new LinkedHashMap<>();
			details.put("host", this.connectionFactory.getHost());
			details.put("port", this.connectionFactory.getPort());
			details.put("virtualHost", this.connectionFactory.getVirtualHost());
			Object version = connection.getDelegate().getServerProperties().get("version");
			details.put("version", (version != null) ? version.toString() : "unknown");
			details.put("exchange", this.settings.exchange());
			details.put("awaitingConfirm", this.publisher.outstanding());
			details.put("unroutedDeadLetters", queueDepth(this.settings.unroutedDeadLetterQueue()));
			details.put("unreadableDeadLettered", this.unreadableDeadLettered.get());
			details.put("consumers", this.consumers.size());
			return BrokerHealth.up(details);
		}
		catch (RuntimeException ex) {
			return BrokerHealth.down("RabbitMQ is not reachable: " + ex.getMessage());
		}
	}

	@Override
	public void close(Duration timeout) {
		if (this.closed) {
			return;
		}
		this.closed = true;
		long deadline = System.nanoTime() + timeout.toNanos();
		for (RabbitConsumer consumer : List.copyOf(this.consumers)) {
			consumer.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
		}
		this.publisher.close(Math.max(0, deadline - System.nanoTime()));
		this.connectionFactory.removeConnectionListener(this.redeclarer);
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
		}
	}

	private <T> T withChannel(ChannelCallback<T> callback) {
		Channel channel;
		try {
			channel = this.connectionFactory.createConnection().createChannel(false);
		}
		catch (RuntimeException ex) {
			throw new RabbitDeclarationException("RabbitMQ is not reachable: " + ex.getMessage(), ex);
		}
		try {
			return callback.doWith(channel);
		}
		catch (Exception ex) {
			throw new RabbitDeclarationException("RabbitMQ refused an operation: " + ex.getMessage(), ex);
		}
		finally {
			try {
				if (channel.isOpen()) {
					channel.close();
				}
			}
			catch (Exception ex) {
				logger.log(System.Logger.Level.DEBUG, "Closing a channel failed", ex);
			}
		}
	}

	@FunctionalInterface
	private interface ChannelCallback<T> {

		T doWith(Channel channel) throws Exception;

	}

}
