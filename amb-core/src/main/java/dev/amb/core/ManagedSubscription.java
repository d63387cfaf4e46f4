package dev.amb.core;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;

/**
 * A subscription as the bus keeps it: the backend's consumer and the dispatcher feeding the handler.
 */
final class ManagedSubscription implements Subscription {

	private final DefaultMessageBus bus;

	private final ConsumerSpec spec;

	private final SubscribeOptions options;

	private final BrokerConsumer consumer;

	private final SubscriptionDispatcher dispatcher;

	private final AtomicBoolean active = new AtomicBoolean(true);

	private volatile boolean paused;

	ManagedSubscription(DefaultMessageBus bus, ConsumerSpec spec, SubscribeOptions options, BrokerConsumer consumer,
			SubscriptionDispatcher dispatcher) {
		this.bus = bus;
		this.spec = spec;
		this.options = options;
		this.consumer = consumer;
		this.dispatcher = dispatcher;
	}

	@Override
	public String id() {
		return this.spec.id();
	}

	@Override
	public String pattern() {
		return this.spec.pattern().pattern();
	}

	@Override
	public String group() {
		return this.spec.group();
	}

	@Override
	public String durableName() {
		return this.spec.durableName();
	}

	ConsumerSpec spec() {
		return this.spec;
	}

	@Override
	public void pause() {
		if (!this.bus.capabilities().contains(Capability.PAUSE)) {
			throw new UnsupportedCapabilityException("The " + this.bus.backend()
					+ " backend cannot pause a subscription; close it and subscribe again instead");
		}
		this.paused = true;
		this.consumer.pause();
	}

	@Override
	public void resume() {
		this.paused = false;
		this.consumer.resume();
	}

	@Override
	public boolean isPaused() {
		return this.paused;
	}

	@Override
	public boolean isActive() {
		return this.active.get();
	}

	boolean isInternal() {
		return this.spec.pattern().pattern().startsWith(Topics.INTERNAL_SEGMENT + ".");
	}

	SubscriptionInfo info() {
		return new SubscriptionInfo(id(), pattern(), group(), this.spec.concurrency(), this.options.getMaxAttempts(),
				this.consumer.state());
	}

	void stopRetrying() {
		this.dispatcher.stop();
	}

	@Override
	public void close() {
		close(this.bus.drainTimeout());
	}

	/**
	 * Closes with what is left of a drain timeout shared with other subscriptions.
	 * @param drainTimeout how long in-flight handlers may still take
	 */
	void close(Duration drainTimeout) {
		if (this.active.compareAndSet(true, false)) {
			this.dispatcher.stop();
			this.consumer.close(drainTimeout);
			this.bus.unregister(this);
		}
	}

	@Override
	public String toString() {
		return "Subscription[id=" + id() + ", pattern=" + pattern() + ", group=" + group() + "]";
	}

}
