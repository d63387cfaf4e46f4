package dev.amb.spring.boot.actuate;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Subscription;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.Topics;
import dev.amb.core.spi.ConsumerState;
import dev.amb.spring.boot.listener.AmbListenerContainer;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;

import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code amb} Actuator endpoint. Read: the backend and its capabilities, messages published
 * per topic, subscriptions with their groups and lane depths, listeners, and the bus counters.
 * Write: pause, resume, start or stop a listener by id. Never shows payloads, headers or
 * credentials.
 */
@Endpoint(id = "amb")
public class AmbEndpoint {

	private final DefaultMessageBus bus;

	private final AmbListenerEndpointRegistry registry;

	/**
	 * Creates the endpoint.
	 * @param bus the bus
	 * @param registry the listener registry, or null
	 */
	public AmbEndpoint(DefaultMessageBus bus, AmbListenerEndpointRegistry registry) {
		this.bus = bus;
		this.registry = registry;
	}

	/** @return the bus as a whole */
	@ReadOperation
	public BusDescriptor bus() {
		Set<String> capabilities = new TreeSet<>();
		this.bus.capabilities().forEach((capability) -> capabilities.add(capability.name()));
		List<SubscriptionDescriptor> subscriptions = new ArrayList<>();
		for (SubscriptionInfo info : this.bus.subscriptions()) {
			subscriptions.add(SubscriptionDescriptor.of(info));
		}
		Map<String, Long> published = new java.util.LinkedHashMap<>(this.bus.publishedByTopic());
		// Reply topics are the bus's own plumbing, one per bus instance; replies are counted in the counters.
		published.keySet().removeIf((topic) -> topic.startsWith(Topics.INTERNAL_SEGMENT + "."));
		Map<String, Object> wal = (this.bus.store() != null) ? AmbHealthIndicator
			.describe(this.bus.store().health(), this.bus.waitingReplays())
				: null;
		return new BusDescriptor(this.bus.backend(), capabilities, this.bus.health().reachable(), published,
				subscriptions, listeners(), this.bus.counters().snapshot(), wal);
	}

	/**
	 * One listener.
	 * @param id the listener id
	 * @return the listener, or null (404) if there is none
	 */
	@ReadOperation
	public ListenerDescriptor listener(@Selector String id) {
		if (this.registry == null) {
			return null;
		}
		AmbListenerContainer container = this.registry.getListenerContainer(id);
		return (container != null) ? ListenerDescriptor.of(container) : null;
	}

	/**
	 * Pauses, resumes, starts or stops a listener (an {@code @AmbListener} id, or the id of a
	 * subscription made in code, for pause and resume).
	 * @param id the listener id
	 * @param action {@code pause}, {@code resume}, {@code start} or {@code stop}
	 * @return the listener after the change, or null (404) if there is none
	 */
	@WriteOperation
	public Object changeState(@Selector String id, String action) {
		AmbListenerContainer container = (this.registry != null) ? this.registry.getListenerContainer(id) : null;
		if (container != null) {
			switch (normalise(action)) {
				case "pause" -> this.registry.pause(id);
				case "resume" -> this.registry.resume(id);
				case "start" -> this.registry.start(id);
				case "stop" -> this.registry.stop(id);
				default -> throw invalidAction(action);
			}
			return ListenerDescriptor.of(container);
		}
		Subscription subscription = this.bus.subscription(id);
		if (subscription == null) {
			return null;
		}
		switch (normalise(action)) {
			case "pause" -> subscription.pause();
			case "resume" -> subscription.resume();
			default -> throw invalidAction(action);
		}
		return Map.of("id", subscription.id(), "paused", subscription.isPaused());
	}

	private static String normalise(String action) {
		return (action != null) ? action.trim().toLowerCase(java.util.Locale.ROOT) : "";
	}

	private static IllegalArgumentException invalidAction(String action) {
		return new IllegalArgumentException(
				"Unknown action '" + action + "'; use pause or resume (and start or stop for @AmbListener ids)");
	}

	private List<ListenerDescriptor> listeners() {
		if (this.registry == null) {
			return List.of();
		}
		return this.registry.getListenerContainers().stream().map(ListenerDescriptor::of).toList();
	}

	/**
	 * The bus as a whole.
	 *
	 * @param backend the backend's name
	 * @param capabilities what the backend honours
	 * @param reachable whether the backend answers
	 * @param published messages published per application topic since start
	 * @param subscriptions the open subscriptions
	 * @param listeners the {@code @AmbListener} methods
	 * @param counters the bus counters
	 * @param wal the write-ahead log's state, or null without one
	 */
	public record BusDescriptor(String backend, Set<String> capabilities, boolean reachable,
			Map<String, Long> published, List<SubscriptionDescriptor> subscriptions, List<ListenerDescriptor> listeners,
			Map<String, Long> counters, Map<String, Object> wal) {

	}

	/**
	 * One subscription.
	 *
	 * @param id the subscription id
	 * @param pattern the topic or pattern
	 * @param group the group, or null for broadcast
	 * @param concurrency the workers
	 * @param maxAttempts deliveries before dead-lettering
	 * @param depth messages waiting
	 * @param capacity the queue capacity, or -1
	 * @param fillRatio depth over capacity, or -1
	 * @param aboveThreshold whether publishers are being slowed
	 * @param lanes messages waiting per lane
	 * @param inFlight messages being handled
	 * @param paused whether it is paused
	 * @param lastDeliveryMillis when it last took a message, Unix milliseconds, or 0
	 */
	public record SubscriptionDescriptor(String id, String pattern, String group, int concurrency, int maxAttempts,
			long depth, long capacity, double fillRatio, boolean aboveThreshold, Map<String, Long> lanes, int inFlight,
			boolean paused, long lastDeliveryMillis) {

		static SubscriptionDescriptor of(SubscriptionInfo info) {
			ConsumerState state = info.state();
			return new SubscriptionDescriptor(info.id(), info.pattern(), info.group(), info.concurrency(),
					info.maxAttempts(), state.depth(), state.capacity(), state.fillRatio(), state.isAboveThreshold(),
					AmbHealthIndicator.laneDepths(state), state.inFlight(), state.paused(), state.lastDeliveryMillis());
		}

	}

	/**
	 * One {@code @AmbListener} method.
	 *
	 * @param id the listener id
	 * @param topics the topics or patterns
	 * @param group the group, or null for broadcast
	 * @param lanes the lanes it consumes
	 * @param concurrency the workers
	 * @param running whether it is subscribed
	 * @param paused whether it is paused
	 * @param replying whether it answers requests
	 * @param subscriptions the ids of its subscriptions
	 */
	public record ListenerDescriptor(String id, List<String> topics, String group, List<String> lanes,
			int concurrency, boolean running, boolean paused, boolean replying, List<String> subscriptions) {

		static ListenerDescriptor of(AmbListenerContainer container) {
			var endpoint = container.getEndpoint();
			List<String> lanes = endpoint.getLanes()
				.stream()
				.sorted()
				.map(dev.amb.core.Priority::wireName)
				.toList();
			return new ListenerDescriptor(endpoint.getId(), endpoint.getTopics(), endpoint.getGroup(), lanes,
					endpoint.getConcurrency(), container.isRunning(), container.isPaused(), endpoint.isReplying(),
					container.getSubscriptionIds());
		}

	}

}
