package dev.amb.spring.boot.actuate;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Priority;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.ConsumerState;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code amb} health: DOWN when the backend is unreachable; {@link #DEGRADED} when a
 * subscription's queue is above its backpressure threshold or holds messages that have not moved
 * for the stall timeout; UP otherwise. Details show each subscription's depth, fill ratio and
 * state, never payloads or credentials.
 */
public final class AmbHealthIndicator extends AbstractHealthIndicator {

	/** Still serving, but a queue is filling up or a listener has stopped moving; HTTP 200 by default. */
	public static final Status DEGRADED = new Status("DEGRADED",
			"A subscription is above its backpressure threshold or has stopped moving");

	private final DefaultMessageBus bus;

	private final Duration stallTimeout;

	/**
	 * Creates the indicator.
	 * @param bus the bus
	 * @param stallTimeout how long waiting messages may go without a delivery before the subscription counts as stalled
	 */
	public AmbHealthIndicator(DefaultMessageBus bus, Duration stallTimeout) {
		super("AMB health check failed");
		this.bus = bus;
		this.stallTimeout = stallTimeout;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		BrokerHealth backend = this.bus.health();
		builder.withDetail("backend", this.bus.backend());
		if (!backend.reachable()) {
			builder.down().withDetail("broker", backend.details());
			return;
		}
		builder.withDetail("broker", backend.details());
		long now = System.currentTimeMillis();
		boolean degraded = false;
		Map<String, Object> subscriptions = new LinkedHashMap<>();
		for (SubscriptionInfo info : this.bus.subscriptions()) {
			ConsumerState state = info.state();
			String condition = condition(state, now);
			degraded |= !"ok".equals(condition) && !"paused".equals(condition);
			subscriptions.put(info.id(), describe(info, state, condition));
		}
		builder.withDetail("subscriptions", subscriptions);
		builder.withDetail("counters", this.bus.counters().snapshot());
		builder.status(degraded ? DEGRADED : Status.UP);
	}

	private String condition(ConsumerState state, long now) {
		if (state.isAboveThreshold()) {
			return "above-threshold";
		}
		if (!state.paused() && isStalled(state, now)) {
			return "stalled";
		}
		return state.paused() ? "paused" : "ok";
	}

	private boolean isStalled(ConsumerState state, long now) {
		long depth = state.depth();
		if (depth <= 0 || this.stallTimeout.isZero()) {
			return false;
		}
		// A subscription that never delivered counts from now: a fresh backlog is not a stall.
		long last = state.lastDeliveryMillis();
		return last > 0 && now - last > this.stallTimeout.toMillis();
	}

	private static Map<String, Object> describe(SubscriptionInfo info, ConsumerState state, String condition) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("pattern", info.pattern());
		if (info.group() != null) {
			details.put("group", info.group());
		}
		details.put("state", condition);
		details.put("depth", state.depth());
		if (state.capacity() > 0) {
			details.put("capacity", state.capacity());
			details.put("fillRatio", Math.round(state.fillRatio() * 1000) / 1000.0);
		}
		if (state.thresholdDepth() >= 0) {
			details.put("thresholdDepth", state.thresholdDepth());
		}
		details.put("lanes", laneDepths(state));
		details.put("inFlight", state.inFlight());
		return details;
	}

	static Map<String, Long> laneDepths(ConsumerState state) {
		Map<String, Long> lanes = new LinkedHashMap<>();
		for (Priority priority : Priority.values()) {
			long[] depths = state.laneDepths();
			lanes.put(priority.wireName(), (priority.lane() < depths.length) ? depths[priority.lane()] : -1);
		}
		return lanes;
	}

}
