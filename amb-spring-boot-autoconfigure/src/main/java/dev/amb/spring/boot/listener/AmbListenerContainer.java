package dev.amb.spring.boot.listener;

import java.util.ArrayList;
import java.util.List;

import dev.amb.core.MessageBus;
import dev.amb.core.Subscription;

/**
 * The running side of one {@link AmbListenerEndpoint}: its subscriptions, one per topic, started,
 * stopped, paused and resumed together.
 */
public final class AmbListenerContainer {

	private final AmbListenerEndpoint endpoint;

	private final List<Subscription> subscriptions = new ArrayList<>();

	private boolean paused;

	AmbListenerContainer(AmbListenerEndpoint endpoint) {
		this.endpoint = endpoint;
	}

	/** @return the endpoint */
	public AmbListenerEndpoint getEndpoint() {
		return this.endpoint;
	}

	/** @return the listener id */
	public String getId() {
		return this.endpoint.getId();
	}

	synchronized void start(MessageBus bus) {
		if (!this.subscriptions.isEmpty()) {
			return;
		}
		try {
			List<String> topics = this.endpoint.getTopics();
			for (int i = 0; i < topics.size(); i++) {
				Subscription subscription = this.endpoint.isReplying()
						? bus.respond(topics.get(i), this.endpoint.getPayloadType(), this.endpoint.invoker(),
								this.endpoint.subscribeOptions(i))
						: bus.subscribe(topics.get(i), this.endpoint.getPayloadType(), this.endpoint.invoker()::handle,
								this.endpoint.subscribeOptions(i));
				this.subscriptions.add(subscription);
				if (this.paused) {
					subscription.pause();
				}
			}
		}
		catch (RuntimeException ex) {
			stop();
			throw ex;
		}
	}

	synchronized void stop() {
		for (Subscription subscription : this.subscriptions) {
			subscription.close();
		}
		this.subscriptions.clear();
	}

	/** Stops taking messages; waiting ones stay queued (and count toward backpressure). */
	public synchronized void pause() {
		this.paused = true;
		this.subscriptions.forEach(Subscription::pause);
	}

	/** Takes messages again. */
	public synchronized void resume() {
		this.paused = false;
		this.subscriptions.forEach(Subscription::resume);
	}

	/** @return whether the listener is subscribed */
	public synchronized boolean isRunning() {
		return !this.subscriptions.isEmpty();
	}

	/** @return whether the listener is paused */
	public synchronized boolean isPaused() {
		return this.paused;
	}

	/** @return the ids of the bus subscriptions this listener holds while it runs */
	public synchronized List<String> getSubscriptionIds() {
		return this.subscriptions.stream().map(Subscription::id).toList();
	}

}
