package dev.amb.spring.boot.actuate;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Priority;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.persistence.MessageStore;
import dev.amb.core.persistence.StoreHealth;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.ConsumerState;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;

/**
 * The {@code amb} health: DOWN when the backend is unreachable or the write-ahead log cannot be
 * written; {@link #DEGRADED} when a subscription's queue is above its backpressure threshold or
 * holds messages that have not moved for the stall timeout, or when the log found damaged records
 * at recovery or is near its disk cap; UP otherwise. Details show each subscription's depth, fill ratio and
 * state, never payloads or credentials.
 */
public final class AmbHealthIndicator extends AbstractHealthIndicator {

	/** Still serving, but a queue is filling up or a listener has stopped moving; HTTP 200 by default. */
	public static final Status DEGRADED = new Status("DEGRADED",
			"A subscription is above its backpressure threshold or has stopped moving");

	private final DefaultMessageBus bus;

	private final Duration stallTimeout;

	private final Map<String, Long> backlogSince = new java.util.concurrent.ConcurrentHashMap<>();

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
			String condition = condition(info.id(), state, now);
			degraded |= !"ok".equals(condition) && !"paused".equals(condition);
			subscriptions.put(info.id(), describe(info, state, condition));
		}
		this.backlogSince.keySet().retainAll(subscriptions.keySet());
		builder.withDetail("subscriptions", subscriptions);
		builder.withDetail("counters", this.bus.counters().snapshot());
		MessageStore store = this.bus.store();
		if (store != null) {
			StoreHealth wal = store.health();
			builder.withDetail("wal", describe(wal, this.bus.waitingReplays()));
			if (!wal.writable()) {
				builder.down();
				return;
			}
			degraded |= wal.corruptRecords() > 0 || isNearCap(wal);
		}
		builder.status(degraded ? DEGRADED : Status.UP);
	}

	private String condition(String id, ConsumerState state, long now) {
		if (state.isAboveThreshold()) {
			return "above-threshold";
		}
		if (!state.paused() && isStalled(id, state, now)) {
			return "stalled";
		}
		return state.paused() ? "paused" : "ok";
	}

	private boolean isStalled(String id, ConsumerState state, long now) {
		long depth = state.depth();
		if (depth <= 0 || this.stallTimeout.isZero()) {
			this.backlogSince.remove(id);
			return false;
		}
		long last = state.lastDeliveryMillis();
		if (last > 0) {
			this.backlogSince.remove(id);
			return now - last > this.stallTimeout.toMillis();
		}
		// Never delivered: count from the first check that saw the backlog, so that a consumer that
		// never took a message is caught too, and a fresh backlog is not a stall.
		long since = this.backlogSince.computeIfAbsent(id, (key) -> now);
		return now - since > this.stallTimeout.toMillis();
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

	// Above nine tenths of its cap the log is about to make publishers wait.
	private static boolean isNearCap(StoreHealth wal) {
		return wal.maxDiskBytes() > 0 && wal.bytesUsed() > wal.maxDiskBytes() / 10 * 9;
	}

	/**
	 * The log's state; {@code waitingReplays} counts, per durable name, the recovered messages that
	 * wait for a subscription with that name (they stay pending until it comes or they are discarded).
	 */
	static Map<String, Object> describe(StoreHealth wal, Map<String, Integer> waitingReplays) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("writable", wal.writable());
		details.put("fsync", wal.policy().name().toLowerCase(java.util.Locale.ROOT));
		details.put("pending", wal.pending());
		details.put("oldestPendingAge", wal.oldestPendingAge().toString());
		details.put("lastFsync", wal.lastFsync().toString());
		details.put("p99Fsync", wal.p99Fsync().toString());
		details.put("fsyncs", wal.fsyncs());
		details.put("freeDiskBytes", wal.freeDiskBytes());
		details.put("bytesUsed", wal.bytesUsed());
		details.put("maxDiskBytes", wal.maxDiskBytes());
		details.put("segments", wal.segments());
		details.put("corruptRecords", wal.corruptRecords());
		details.put("waitingReplays", waitingReplays);
		if (wal.lastError() != null) {
			details.put("lastError", wal.lastError());
		}
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
