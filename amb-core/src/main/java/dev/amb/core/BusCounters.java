package dev.amb.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What happened to messages on one bus since it started. Contended-write friendly
 * ({@link LongAdder}); read by health, the Actuator endpoint and metrics.
 */
public final class BusCounters {

	/** Topics counted one by one; any further topic is counted under {@value #OTHER_TOPICS}. */
	static final int MAX_TRACKED_TOPICS = 1024;

	static final String OTHER_TOPICS = "(other)";

	/** Publishes by topic; their sum is the total, so a publish pays for one count, not two. */
	private final ConcurrentHashMap<String, LongAdder> publishedByTopic = new ConcurrentHashMap<>();

	/** The per-topic counter last used, so a steady stream to one topic skips the map lookup. */
	private volatile TopicCount lastCounted;

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
		long total = 0;
		for (LongAdder count : this.publishedByTopic.values()) {
			total += count.sum();
		}
		return total;
	}

	/**
	 * Messages accepted by publish, by topic: the first {@value #MAX_TRACKED_TOPICS} topics one by
	 * one, any further ones together under {@value #OTHER_TOPICS}.
	 * @return the counts by topic
	 */
	public Map<String, Long> publishedByTopic() {
		Map<String, Long> snapshot = new LinkedHashMap<>();
		this.publishedByTopic.forEach((topic, count) -> snapshot.put(topic, count.sum()));
		return snapshot;
	}

	/**
	 * Counts a message accepted by publish.
	 * @param topic its topic
	 */
	void recordPublished(String topic) {
		TopicCount last = this.lastCounted;
		if (last != null && topic.equals(last.topic())) {
			last.count().increment();
			return;
		}
		LongAdder perTopic = this.publishedByTopic.get(topic);
		if (perTopic == null) {
			String counted = (this.publishedByTopic.size() < MAX_TRACKED_TOPICS) ? topic : OTHER_TOPICS;
			perTopic = this.publishedByTopic.computeIfAbsent(counted, (name) -> new PaddedAdder());
		}
		perTopic.increment();
		this.lastCounted = new TopicCount(topic, perTopic);
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

	/** A topic and its publish counter; immutable, so it can be shared between threads without a lock. */
	private record TopicCount(String topic, LongAdder count) {
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
