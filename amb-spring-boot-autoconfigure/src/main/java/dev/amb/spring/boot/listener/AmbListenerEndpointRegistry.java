package dev.amb.spring.boot.listener;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.amb.core.MessageBus;
import dev.amb.spring.boot.diagnostics.AmbListenerConfigurationException;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Holds every {@link AmbListener @AmbListener} method's container: subscribes them when the
 * application starts, closes them (draining in-flight messages) when it stops, and pauses, resumes,
 * starts or stops one by id. Refuses a duplicate id and group members that disagree.
 */
public class AmbListenerEndpointRegistry implements SmartLifecycle {

	/** Late start, early stop: listeners receive only once every other bean is ready. */
	public static final int PHASE = Integer.MAX_VALUE - 100;

	private final ObjectProvider<MessageBus> bus;

	private final Map<String, AmbListenerContainer> containers = new LinkedHashMap<>();

	private volatile boolean running;

	/**
	 * Creates the registry.
	 * @param bus the bus the listeners subscribe to, looked up when they start
	 */
	public AmbListenerEndpointRegistry(ObjectProvider<MessageBus> bus) {
		this.bus = bus;
	}

	/**
	 * Adds a listener; it starts with the registry if it is auto-started.
	 * @param endpoint the listener
	 * @throws AmbListenerConfigurationException for a duplicate id or a disagreeing group member
	 */
	public void registerListener(AmbListenerEndpoint endpoint) {
		Objects.requireNonNull(endpoint, "endpoint must not be null");
		synchronized (this.containers) {
			AmbListenerContainer existing = this.containers.get(endpoint.getId());
			if (existing != null) {
				throw new AmbListenerConfigurationException("Two @AmbListener methods have the id '" + endpoint.getId()
						+ "': " + describe(existing.getEndpoint()) + " and " + describe(endpoint) + ".",
						"Give each @AmbListener a unique id.");
			}
			for (AmbListenerContainer container : this.containers.values()) {
				checkGroupAgreement(container.getEndpoint(), endpoint);
			}
			AmbListenerContainer container = new AmbListenerContainer(endpoint);
			this.containers.put(endpoint.getId(), container);
			if (this.running && endpoint.isAutoStartup()) {
				container.start(this.bus.getObject());
			}
		}
	}

	private static void checkGroupAgreement(AmbListenerEndpoint first, AmbListenerEndpoint second) {
		if (first.getGroup() == null || !first.getGroup().equals(second.getGroup())) {
			return;
		}
		for (String topic : second.getTopics()) {
			if (!first.getTopics().contains(topic)) {
				continue;
			}
			List<String> conflicts = new ArrayList<>();
			if (!first.getLanes().equals(second.getLanes())) {
				conflicts.add("lanes " + first.getLanes() + " vs " + second.getLanes());
			}
			if (first.getMaxAttempts() != second.getMaxAttempts()) {
				conflicts.add("maxAttempts " + first.getMaxAttempts() + " vs " + second.getMaxAttempts());
			}
			if (!first.getBackoff().equals(second.getBackoff())) {
				conflicts.add("backoff " + first.getBackoff() + " vs " + second.getBackoff());
			}
			if (first.isReplying() != second.isReplying()) {
				conflicts.add("one answers requests (non-void return) and the other does not");
			}
			if (!first.getPayloadType().equals(second.getPayloadType())) {
				conflicts.add("payload type " + first.getPayloadType().getTypeName() + " vs "
						+ second.getPayloadType().getTypeName());
			}
			if (!conflicts.isEmpty()) {
				throw new AmbListenerConfigurationException("Listeners '" + first.getId() + "' and '" + second.getId()
						+ "' both join group '" + second.getGroup() + "' on '" + topic
						+ "' but disagree: " + String.join("; ", conflicts)
						+ ". Each message goes to one member of a group, so they must handle it the same way.",
						"Give both listeners the same settings, or put them in different groups.");
			}
		}
	}

	private static String describe(AmbListenerEndpoint endpoint) {
		return endpoint.getMethod().getDeclaringClass().getName() + "." + endpoint.getMethod().getName();
	}

	/**
	 * A listener's container.
	 * @param id the listener id
	 * @return the container, or null
	 */
	public AmbListenerContainer getListenerContainer(String id) {
		synchronized (this.containers) {
			return this.containers.get(id);
		}
	}

	/** @return every listener container, in registration order */
	public Collection<AmbListenerContainer> getListenerContainers() {
		synchronized (this.containers) {
			return List.copyOf(this.containers.values());
		}
	}

	/**
	 * Pauses a listener: it stops taking messages, waiting ones stay queued.
	 * @param id the listener id
	 */
	public void pause(String id) {
		require(id).pause();
	}

	/**
	 * Resumes a paused listener.
	 * @param id the listener id
	 */
	public void resume(String id) {
		require(id).resume();
	}

	/**
	 * Starts one listener, subscribing it.
	 * @param id the listener id
	 */
	public void start(String id) {
		require(id).start(this.bus.getObject());
	}

	/**
	 * Stops one listener, closing its subscriptions after in-flight messages.
	 * @param id the listener id
	 */
	public void stop(String id) {
		require(id).stop();
	}

	private AmbListenerContainer require(String id) {
		AmbListenerContainer container = getListenerContainer(id);
		if (container == null) {
			throw new IllegalArgumentException("No @AmbListener with id '" + id + "'");
		}
		return container;
	}

	@Override
	public void start() {
		synchronized (this.containers) {
			MessageBus messageBus = null;
			for (AmbListenerContainer container : this.containers.values()) {
				if (container.getEndpoint().isAutoStartup()) {
					messageBus = (messageBus != null) ? messageBus : this.bus.getObject();
					container.start(messageBus);
				}
			}
			this.running = true;
		}
	}

	@Override
	public void stop() {
		synchronized (this.containers) {
			this.running = false;
			for (AmbListenerContainer container : this.containers.values()) {
				container.stop();
			}
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

}
