package dev.amb.core.spi;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A backend: moves envelopes from publishers to subscriptions. The bus owns the semantics around
 * it (encoding, expiry, retries, dead letters, replies, the write-ahead log) so that they are the
 * same on every backend; an adapter owns transport, fan-out, groups, lanes and acknowledgement.
 */
public interface BrokerAdapter {

	/** @return the backend's name, such as {@code in-memory} or {@code kafka} */
	String name();

	/** @return what the backend honours */
	Set<Capability> capabilities();

	/**
	 * Connects and declares what the backend needs. Called once, by the bus, before anything else.
	 * @param context what the bus offers the adapter
	 */
	void start(AdapterContext context);

	/**
	 * Sends one envelope.
	 * @param envelope the envelope
	 * @return completes once the backend has the message, as durably as it promises; fails with
	 * {@link dev.amb.core.BackpressureException} if the backpressure policy refused it
	 */
	CompletableFuture<Void> send(Envelope envelope);

	/**
	 * Starts consuming for one subscription. Returns once the consumer is ready to receive (for
	 * example, once a Kafka consumer has its partitions), so that a message published after
	 * {@code subscribe} returns reaches it.
	 * @param spec what to consume
	 * @param handler the bus's side of each delivery
	 * @return the consumer
	 */
	BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler);

	/** @return whether the backend is reachable */
	BrokerHealth health();

	/**
	 * Stops the backend after the consumers were closed.
	 * @param timeout how long to wait for pending sends
	 */
	void close(Duration timeout);

}
