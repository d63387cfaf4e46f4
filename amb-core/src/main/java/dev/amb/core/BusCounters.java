package dev.amb.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What happened to messages on one bus since it started. Contended-write friendly
 * ({@link LongAdder}); read by health, the Actuator endpoint and metrics.
 */
public final class BusCounters {

	final LongAdder published = new PaddedAdder();

	final LongAdder delivered = new PaddedAdder();

	final LongAdder failed = new PaddedAdder();

	final LongAdder retried = new PaddedAdder();

	final LongAdder deadLettered = new PaddedAdder();

	final LongAdder expired = new PaddedAdder();

	final LongAdder undecodable = new PaddedAdder();

	final LongAdder repliesSent = new PaddedAdder();

	final LongAdder requestTimeouts = new PaddedAdder();

	private final LongAdder throttled = new PaddedAdder();

	private final LongAdder rejected = new PaddedAdder();

	private final LongAdder dropped = new PaddedAdder();

	/** @return messages accepted by publish */
	public long published() {
		return this.published.sum();
	}

	/** @return messages handled successfully */
	public long delivered() {
		return this.delivered.sum();
	}

	/** @return handler attempts that threw */
	public long failed() {
		return this.failed.sum();
	}

	/** @return attempts after the first one */
	public long retried() {
		return this.retried.sum();
	}

	/** @return messages sent to a dead-letter topic */
	public long deadLettered() {
		return this.deadLettered.sum();
	}

	/** @return messages not delivered because their time to live had passed */
	public long expired() {
		return this.expired.sum();
	}

	/** @return messages whose payload could not be read into the handler's type */
	public long undecodable() {
		return this.undecodable.sum();
	}

	/** @return replies sent by request handlers */
	public long repliesSent() {
		return this.repliesSent.sum();
	}

	/** @return requests that got no reply in time */
	public long requestTimeouts() {
		return this.requestTimeouts.sum();
	}

	/** @return publishes slowed because a queue was above its threshold */
	public long throttled() {
		return this.throttled.sum();
	}

	/** @return publishes refused at capacity (reject, or block timed out) */
	public long rejected() {
		return this.rejected.sum();
	}

	/** @return waiting messages dropped at capacity under drop-oldest */
	public long dropped() {
		return this.dropped.sum();
	}

	/** Counts a publish that was slowed. */
	public void recordThrottled() {
		this.throttled.increment();
	}

	/** Counts a publish that was refused at capacity. */
	public void recordRejected() {
		this.rejected.increment();
	}

	/** Counts a waiting message that was dropped to make room. */
	public void recordDropped() {
		this.dropped.increment();
	}

	/** @return every counter by name, for monitoring */
	public Map<String, Long> snapshot() {
		Map<String, Long> snapshot = new LinkedHashMap<>();
		snapshot.put("published", published());
		snapshot.put("delivered", delivered());
		snapshot.put("failed", failed());
		snapshot.put("retried", retried());
		snapshot.put("dead-lettered", deadLettered());
		snapshot.put("expired", expired());
		snapshot.put("undecodable", undecodable());
		snapshot.put("replies-sent", repliesSent());
		snapshot.put("request-timeouts", requestTimeouts());
		snapshot.put("throttled", throttled());
		snapshot.put("rejected", rejected());
		snapshot.put("dropped", dropped());
		return snapshot;
	}

	/**
	 * A {@link LongAdder} that fills its cache line: counters written by publishers and by
	 * consumers on other cores would otherwise share one, and each write would steal it from the
	 * other side (false sharing), which a lone adder's base field does not avoid.
	 */
	@SuppressWarnings({ "serial", "unused" })
	private static final class PaddedAdder extends LongAdder {

		private long p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15;

	}

}
