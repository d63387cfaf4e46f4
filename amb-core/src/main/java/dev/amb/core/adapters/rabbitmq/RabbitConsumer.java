package dev.amb.core.adapters.rabbitmq;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.rabbitmq.client.Channel;

import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;

import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * One subscription's consumer: a {@link DirectMessageListenerContainer} with one AMQP consumer on
 * the subscription's queue, manual acknowledgements and the prefetch as the bound on what is held
 * in the process. Deliveries go to {@link LaneWorkers} by key, which run the bus's pipeline and
 * order what was prefetched by lane: RabbitMQ's priority queue orders the backlog on the broker,
 * the workers order the prefetch window, which would otherwise be first come first served. A
 * message is acknowledged only after the pipeline answered {@link Disposition#ACK}, in runs
 * ({@link AckWindow}) of up to a quarter of the prefetch, sent at once when a worker runs out of
 * work; {@link Disposition#REQUEUE} hands it back to the broker after
 * {@link RabbitBrokerSettings#requeueDelay()}.
 */
final class RabbitConsumer implements BrokerConsumer, ChannelAwareMessageListener {

	private static final System.Logger logger = System.getLogger(RabbitConsumer.class.getName());

	private static final int MAX_ACK_BATCH = 64;

	private final RabbitBrokerAdapter adapter;

	private final ConsumerSpec spec;

	private final String queue;

	private final DeliveryHandler handler;

	private final RabbitBrokerSettings settings;

	private final boolean[] acceptsLane = new boolean[3];

	private final boolean filter;

	private final int prefetch;

	private final DirectMessageListenerContainer container;

	private final LaneWorkers workers;

	private final AtomicInteger inFlight = new AtomicInteger();

	private final int ackBatchSize;

	/** The acknowledgements of the channel deliveries last came on. */
	private volatile AckWindow acks;

	private volatile boolean paused;

	private volatile boolean closing;

	private volatile long lastDeliveryMillis;

	RabbitConsumer(RabbitBrokerAdapter adapter, ConnectionFactory connectionFactory, ConsumerSpec spec, String queue,
			boolean filter, DeliveryHandler handler, RabbitBrokerSettings settings) {
		this.adapter = adapter;
		this.spec = spec;
		this.queue = queue;
		this.handler = handler;
		this.settings = settings;
		this.filter = filter;
		spec.lanes().forEach((lane) -> this.acceptsLane[lane.lane()] = true);
		// Backpressure bounds what the process holds: never more unacknowledged than the queue bound.
		this.prefetch = (spec.backpressure() != null)
				? Math.min(settings.prefetch(), spec.backpressure().maxQueueSize()) : settings.prefetch();
		// Acknowledgements go in runs of up to a quarter of the prefetch, so the broker keeps
		// sending while a run is held back.
		this.ackBatchSize = Math.max(1, Math.min(MAX_ACK_BATCH, this.prefetch / 4));
		this.workers = new LaneWorkers(spec.id(), spec.concurrency(), settings.starvationBound(), this::process,
				this::flushAcks);
		this.container = new DirectMessageListenerContainer(connectionFactory);
		this.container.setQueueNames(queue);
		this.container.setAcknowledgeMode(AcknowledgeMode.MANUAL);
		this.container.setPrefetchCount(this.prefetch);
		this.container.setConsumersPerQueue(1);
		this.container.setMonitorInterval(settings.recoveryInterval().toMillis());
		this.container.setMissingQueuesFatal(false);
		this.container.setRecoveryInterval(settings.recoveryInterval().toMillis());
		this.container.setDefaultRequeueRejected(true);
		this.container.setMessageListener(this);
		this.container.setConsumerTagStrategy((name) -> "amb-" + spec.id());
		this.container.setBeanName("amb-" + spec.id());
		this.container.afterPropertiesSet();
	}

	/** Starts consuming; returns once the AMQP consumer is registered. */
	void start() {
		this.workers.start();
		this.container.start();
	}

	ConsumerSpec spec() {
		return this.spec;
	}

	String queue() {
		return this.queue;
	}

	@Override
	public void onMessage(Message message, Channel cachedChannel) {
		// Acknowledge on the physical channel the delivery came on: the cached proxy may be given a new
		// channel after a reconnect, where this tag would acknowledge a different message.
		Channel channel = (cachedChannel instanceof ChannelProxy proxy) ? proxy.getTargetChannel() : cachedChannel;
		AckWindow acks = acksFor(channel);
		MessageProperties properties = message.getMessageProperties();
		long tag = properties.getDeliveryTag();
		acks.received(tag);
		if (this.closing) {
			settle(acks, tag, Disposition.REQUEUE);
			return;
		}
		this.lastDeliveryMillis = System.currentTimeMillis();
		Map<String, String> headers = RabbitWire.stringHeaders(properties.getHeaders());
		RabbitWire.addImplied(headers, properties.getPriority());
		Envelope envelope;
		try {
			envelope = WireHeaders.read(headers, message.getBody(), properties.getReceivedRoutingKey());
		}
		catch (MalformedEnvelopeException ex) {
			settle(acks, tag, this.adapter.deadLetterUnreadable(properties.getReceivedRoutingKey(), headers,
					message.getBody(), ex, this.spec.id()));
			return;
		}
		if (!this.acceptsLane[envelope.priority().lane()]
				|| (this.filter && !this.spec.pattern().matches(envelope.topic()))) {
			// Not for this subscription: the lane is not consumed, or the internal exchange's binding
			// is broader than the AMB pattern.
			settle(acks, tag, Disposition.ACK);
			return;
		}
		this.workers.submit(new RabbitDelivery(envelope, acks, tag));
	}

	private AckWindow acksFor(Channel channel) {
		AckWindow acks = this.acks;
		if (acks != null && acks.channel() == channel) {
			return acks;
		}
		if (acks != null && acks.channel().isOpen()) {
			// Deliveries come on another channel now; what the old one holds back goes first.
			flush(acks);
		}
		acks = new AckWindow(channel, this.ackBatchSize);
		this.acks = acks;
		return acks;
	}

	private void process(RabbitDelivery delivery) {
		if (!delivery.channel().isOpen()) {
			// The broker already took it back when the channel closed; it will be delivered again.
			delivery.acks().forget(delivery.deliveryTag());
			return;
		}
		Disposition disposition;
		this.inFlight.incrementAndGet();
		try {
			disposition = this.handler.deliver(delivery.envelope());
		}
		finally {
			this.inFlight.decrementAndGet();
		}
		settle(delivery.acks(), delivery.deliveryTag(), disposition);
	}

	private void settle(AckWindow acks, long tag, Disposition disposition) {
		try {
			if (disposition == Disposition.ACK) {
				acks.ack(tag);
				if (this.closing || this.paused) {
					// A handler that finishes while the subscription stops holds nothing back.
					acks.flush();
				}
				return;
			}
			Duration delay = this.settings.requeueDelay();
			if (!this.closing && !delay.isZero()) {
				// A short pause keeps a message the bus cannot finish (its dead-letter topic is
				// unreachable, say) from spinning between broker and process.
				TimeUnit.MILLISECONDS.sleep(delay.toMillis());
			}
			acks.requeue(tag);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			acks.forget(tag);
		}
		catch (Exception ex) {
			// The channel is gone: the broker redelivers whatever was not acknowledged on it.
			acks.forget(tag);
			logger.log(System.Logger.Level.DEBUG, () -> "Could not settle delivery " + tag + " of '" + this.spec.id()
					+ "' (" + disposition + "); the broker redelivers it", ex);
		}
	}

	/** Sends the acknowledgements held back; a worker that ran out of work calls it. */
	private void flushAcks() {
		AckWindow acks = this.acks;
		if (acks != null) {
			flush(acks);
		}
	}

	private void flush(AckWindow acks) {
		try {
			acks.flush();
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.DEBUG, () -> "Could not acknowledge handled deliveries of '" + this.spec.id()
					+ "'; the broker redelivers them", ex);
		}
	}

	private void handBackWaiting() {
		for (RabbitDelivery delivery : this.workers.drainWaiting()) {
			try {
				if (delivery.channel().isOpen()) {
					delivery.acks().requeue(delivery.deliveryTag());
				}
			}
			catch (Exception ex) {
				logger.log(System.Logger.Level.DEBUG, "Could not hand a delivery back; the broker redelivers it", ex);
			}
		}
	}

	@Override
	public void pause() {
		this.paused = true;
		this.container.stop();
		handBackWaiting();
		flushAcks();
	}

	@Override
	public void resume() {
		this.paused = false;
		this.container.start();
	}

	@Override
	public ConsumerState state() {
		// What this process holds, by lane; the broker's backlog beyond the prefetch is in health.
		return new ConsumerState(this.workers.laneDepths(), -1, -1, this.inFlight.get(), this.paused,
				this.lastDeliveryMillis);
	}

	/** @return messages ready in the subscription's queue on the broker, or -1 if unknown */
	long brokerDepth() {
		return this.adapter.queueDepth(this.queue);
	}

	@Override
	public void close(Duration drainTimeout) {
		long deadline = System.nanoTime() + drainTimeout.toNanos();
		this.closing = true;
		this.adapter.detach(this);
		handBackWaiting();
		this.workers.stop(deadline);
		handBackWaiting();
		// What was handled is acknowledged before the channel closes, not delivered again.
		flushAcks();
		long remainingMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
		this.container.setShutdownTimeout(remainingMillis);
		this.container.stop();
		this.container.destroy();
		if (this.spec.isBroadcast()) {
			this.adapter.deleteQueue(this.queue);
		}
	}

}
