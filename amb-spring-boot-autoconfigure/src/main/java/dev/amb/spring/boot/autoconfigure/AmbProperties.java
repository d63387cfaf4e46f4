package dev.amb.spring.boot.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.amb.core.Backoff;
import dev.amb.core.Backpressure;
import dev.amb.core.BackpressurePolicy;
import dev.amb.spring.boot.diagnostics.InvalidAmbConfigurationException;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * Settings of the Agent Message Bus, under {@code amb.*}. Connections to Redis, RabbitMQ and
 * Kafka come from Spring Boot's own {@code spring.data.redis.*}, {@code spring.rabbitmq.*} and
 * {@code spring.kafka.*}.
 */
@ConfigurationProperties("amb")
public class AmbProperties implements InitializingBean {

	/** The backend names {@code amb.backend} accepts. */
	public static final List<String> BACKENDS = List.of("in-memory", "redis", "rabbitmq", "kafka");

	/** The backend that carries messages: in-memory, redis, rabbitmq or kafka. */
	private String backend = "in-memory";

	/** The largest encoded payload a publish accepts. */
	private DataSize maxPayloadSize = DataSize.ofMegabytes(1);

	/** The CloudEvents source of the messages this application publishes. */
	private String source = "/amb";

	/** How long closing the bus waits for in-flight handlers to finish. */
	private Duration drainTimeout = Duration.ofSeconds(30);

	private final BackpressureSettings backpressure = new BackpressureSettings();

	private final PrioritySettings priority = new PrioritySettings();

	private final Retry retry = new Retry();

	private final Persistence persistence = new Persistence();

	private final Health health = new Health();

	private final Redis redis = new Redis();

	private final RabbitMq rabbitmq = new RabbitMq();

	private final Kafka kafka = new Kafka();

	/** @return the backend name */
	public String getBackend() {
		return this.backend;
	}

	/** @param backend the backend name */
	public void setBackend(String backend) {
		this.backend = backend;
	}

	/** @return the payload limit */
	public DataSize getMaxPayloadSize() {
		return this.maxPayloadSize;
	}

	/** @param maxPayloadSize the payload limit */
	public void setMaxPayloadSize(DataSize maxPayloadSize) {
		this.maxPayloadSize = maxPayloadSize;
	}

	/** @return the CloudEvents source */
	public String getSource() {
		return this.source;
	}

	/** @param source the CloudEvents source */
	public void setSource(String source) {
		this.source = source;
	}

	/** @return the drain timeout */
	public Duration getDrainTimeout() {
		return this.drainTimeout;
	}

	/** @param drainTimeout the drain timeout */
	public void setDrainTimeout(Duration drainTimeout) {
		this.drainTimeout = drainTimeout;
	}

	/** @return the backpressure settings */
	public BackpressureSettings getBackpressure() {
		return this.backpressure;
	}

	/** @return the priority lane settings */
	public PrioritySettings getPriority() {
		return this.priority;
	}

	/** @return the retry defaults of listeners */
	public Retry getRetry() {
		return this.retry;
	}

	/** @return the write-ahead log settings */
	public Persistence getPersistence() {
		return this.persistence;
	}

	/** @return the health settings */
	public Health getHealth() {
		return this.health;
	}

	/** @return the Redis backend's settings */
	public Redis getRedis() {
		return this.redis;
	}

	/** @return the RabbitMQ backend's settings */
	public RabbitMq getRabbitmq() {
		return this.rabbitmq;
	}

	/** @return the Kafka backend's settings */
	public Kafka getKafka() {
		return this.kafka;
	}

	/** The backend name, normalised to lower case. @return the name */
	public String backendName() {
		return (this.backend != null) ? this.backend.trim().toLowerCase(java.util.Locale.ROOT) : "in-memory";
	}

	@Override
	public void afterPropertiesSet() {
		validate();
	}

	/** Checks every value, so that a mistake stops the start-up with the property's name and the fix. */
	public void validate() {
		if (!BACKENDS.contains(backendName())) {
			throw new InvalidAmbConfigurationException("amb.backend", this.backend,
					"unknown backend; valid names are " + String.join(", ", BACKENDS));
		}
		positive("amb.max-payload-size", this.maxPayloadSize);
		if (this.maxPayloadSize.toBytes() > Integer.MAX_VALUE) {
			throw new InvalidAmbConfigurationException("amb.max-payload-size", this.maxPayloadSize,
					"must be at most " + Integer.MAX_VALUE + " bytes");
		}
		notNegative("amb.drain-timeout", this.drainTimeout);
		this.backpressure.validate();
		if (this.priority.starvationBound < 1) {
			throw new InvalidAmbConfigurationException("amb.priority.starvation-bound", this.priority.starvationBound,
					"must be at least 1");
		}
		this.retry.validate();
		this.persistence.validate();
		notNegative("amb.health.stall-timeout", this.health.stallTimeout);
	}

	private static void positive(String property, DataSize size) {
		if (size == null || size.toBytes() <= 0) {
			throw new InvalidAmbConfigurationException(property, size, "must be a positive size, such as 1MB");
		}
	}

	private static void notNegative(String property, Duration duration) {
		if (duration == null || duration.isNegative()) {
			throw new InvalidAmbConfigurationException(property, duration, "must be a duration of zero or more, such as 5s");
		}
	}

	/** Queue bounds of subscriptions, and what happens at them. */
	public static class BackpressureSettings {

		/** The most messages a subscription holds waiting, across its lanes. */
		private int maxQueueSize = 10_000;

		/** The fill ratio, above 0 and at most 1, above which publishers are slowed and health degrades. */
		private double threshold = 0.8;

		/** What a publish meets at capacity: block (with block-timeout), reject, or drop-oldest. */
		private BackpressurePolicy policy = BackpressurePolicy.BLOCK;

		/** How long a publisher waits for room under the block policy. */
		private Duration blockTimeout = Duration.ofSeconds(5);

		/** @return the queue capacity */
		public int getMaxQueueSize() {
			return this.maxQueueSize;
		}

		/** @param maxQueueSize the queue capacity */
		public void setMaxQueueSize(int maxQueueSize) {
			this.maxQueueSize = maxQueueSize;
		}

		/** @return the threshold ratio */
		public double getThreshold() {
			return this.threshold;
		}

		/** @param threshold the threshold ratio */
		public void setThreshold(double threshold) {
			this.threshold = threshold;
		}

		/** @return the policy at capacity */
		public BackpressurePolicy getPolicy() {
			return this.policy;
		}

		/** @param policy the policy at capacity */
		public void setPolicy(BackpressurePolicy policy) {
			this.policy = policy;
		}

		/** @return the block timeout */
		public Duration getBlockTimeout() {
			return this.blockTimeout;
		}

		/** @param blockTimeout the block timeout */
		public void setBlockTimeout(Duration blockTimeout) {
			this.blockTimeout = blockTimeout;
		}

		void validate() {
			if (this.maxQueueSize < 1) {
				throw new InvalidAmbConfigurationException("amb.backpressure.max-queue-size", this.maxQueueSize,
						"must be at least 1");
			}
			if (!(this.threshold > 0 && this.threshold <= 1)) {
				throw new InvalidAmbConfigurationException("amb.backpressure.threshold", this.threshold,
						"must be a fill ratio above 0 and at most 1, such as 0.8");
			}
			if (this.policy == null) {
				throw new InvalidAmbConfigurationException("amb.backpressure.policy", null,
						"must be one of block, reject, drop-oldest");
			}
			notNegative("amb.backpressure.block-timeout", this.blockTimeout);
		}

		/** The bounds as the core takes them. @return the backpressure */
		public Backpressure toBackpressure() {
			return new Backpressure(this.maxQueueSize, this.threshold, this.policy, this.blockTimeout);
		}

	}

	/** Priority lanes. */
	public static class PrioritySettings {

		/** After this many deliveries from higher lanes while a lower lane waits, one comes from the lowest. */
		private int starvationBound = 16;

		/** @return the starvation bound */
		public int getStarvationBound() {
			return this.starvationBound;
		}

		/** @param starvationBound the starvation bound */
		public void setStarvationBound(int starvationBound) {
			this.starvationBound = starvationBound;
		}

	}

	/** Retry defaults of {@code @AmbListener} methods that set none of their own. */
	public static class Retry {

		/** Deliveries of a failing message, the first included, before it goes to the dead-letter topic. */
		private int maxAttempts = 3;

		private final BackoffSettings backoff = new BackoffSettings();

		/** @return the attempts */
		public int getMaxAttempts() {
			return this.maxAttempts;
		}

		/** @param maxAttempts the attempts */
		public void setMaxAttempts(int maxAttempts) {
			this.maxAttempts = maxAttempts;
		}

		/** @return the backoff between attempts */
		public BackoffSettings getBackoff() {
			return this.backoff;
		}

		void validate() {
			if (this.maxAttempts < 1) {
				throw new InvalidAmbConfigurationException("amb.retry.max-attempts", this.maxAttempts,
						"must be at least 1 (1 means no retry)");
			}
			notNegative("amb.retry.backoff.initial", this.backoff.initial);
			notNegative("amb.retry.backoff.max", this.backoff.max);
			if (!(this.backoff.multiplier >= 1.0)) {
				throw new InvalidAmbConfigurationException("amb.retry.backoff.multiplier", this.backoff.multiplier,
						"must be at least 1.0");
			}
		}

	}

	/** Exponential backoff between attempts. */
	public static class BackoffSettings {

		/** The wait before the second attempt. */
		private Duration initial = Duration.ofMillis(100);

		/** The factor applied to the wait after each further failure. */
		private double multiplier = 2.0;

		/** The longest wait between attempts. */
		private Duration max = Duration.ofSeconds(5);

		/** @return the first wait */
		public Duration getInitial() {
			return this.initial;
		}

		/** @param initial the first wait */
		public void setInitial(Duration initial) {
			this.initial = initial;
		}

		/** @return the multiplier */
		public double getMultiplier() {
			return this.multiplier;
		}

		/** @param multiplier the multiplier */
		public void setMultiplier(double multiplier) {
			this.multiplier = multiplier;
		}

		/** @return the longest wait */
		public Duration getMax() {
			return this.max;
		}

		/** @param max the longest wait */
		public void setMax(Duration max) {
			this.max = max;
		}

		/** The backoff as the core takes it. @return the backoff */
		public Backoff toBackoff() {
			return new Backoff(this.initial, this.multiplier, this.max);
		}

	}

	/** The write-ahead log. */
	public static class Persistence {

		/** Whether published messages are appended to a write-ahead log before they are sent. */
		private boolean enabled;

		/** The directory of the log's segments. */
		private Path dir = Path.of("amb-wal");

		/** When appended records reach the disk: always (per publish, group commit), interval, or never (left to the OS). */
		private Fsync fsync = Fsync.ALWAYS;

		/** How often the log is synced under the interval policy. */
		private Duration fsyncInterval = Duration.ofSeconds(1);

		/** The size at which the log starts a new segment file, between 4KB and 1GB and at most a quarter of max-disk-size. */
		private DataSize segmentSize = DataSize.ofMegabytes(64);

		/** The most disk the log may use; above it publishes wait (cap-wait), then fail, instead of losing messages. */
		private DataSize maxDiskSize = DataSize.ofGigabytes(1);

		/** How long a publish waits for room when the log is at max-disk-size. */
		private Duration capWait = Duration.ofSeconds(5);

		/** @return whether the log is on */
		public boolean isEnabled() {
			return this.enabled;
		}

		/** @param enabled whether the log is on */
		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		/** @return the log directory */
		public Path getDir() {
			return this.dir;
		}

		/** @param dir the log directory */
		public void setDir(Path dir) {
			this.dir = dir;
		}

		/** @return the fsync policy */
		public Fsync getFsync() {
			return this.fsync;
		}

		/** @param fsync the fsync policy */
		public void setFsync(Fsync fsync) {
			this.fsync = fsync;
		}

		/** @return the fsync interval */
		public Duration getFsyncInterval() {
			return this.fsyncInterval;
		}

		/** @param fsyncInterval the fsync interval */
		public void setFsyncInterval(Duration fsyncInterval) {
			this.fsyncInterval = fsyncInterval;
		}

		/** @return the segment size */
		public DataSize getSegmentSize() {
			return this.segmentSize;
		}

		/** @param segmentSize the segment size */
		public void setSegmentSize(DataSize segmentSize) {
			this.segmentSize = segmentSize;
		}

		/** @return the disk-usage cap */
		public DataSize getMaxDiskSize() {
			return this.maxDiskSize;
		}

		/** @param maxDiskSize the disk-usage cap */
		public void setMaxDiskSize(DataSize maxDiskSize) {
			this.maxDiskSize = maxDiskSize;
		}

		/** @return how long a publish waits at the cap */
		public Duration getCapWait() {
			return this.capWait;
		}

		/** @param capWait how long a publish waits at the cap */
		public void setCapWait(Duration capWait) {
			this.capWait = capWait;
		}

		void validate() {
			if (this.segmentSize == null || this.segmentSize.toBytes() < 4096
					|| this.segmentSize.toBytes() > DataSize.ofGigabytes(1).toBytes()) {
				throw new InvalidAmbConfigurationException("amb.persistence.segment-size", this.segmentSize,
						"must be between 4KB and 1GB");
			}
			if (this.maxDiskSize == null || this.maxDiskSize.toBytes() < 16 * 1024) {
				throw new InvalidAmbConfigurationException("amb.persistence.max-disk-size", this.maxDiskSize,
						"must be at least 16KB");
			}
			notNegative("amb.persistence.cap-wait", this.capWait);
			if (this.enabled && this.dir == null) {
				throw new InvalidAmbConfigurationException("amb.persistence.dir", null,
						"must name a directory when amb.persistence.enabled=true");
			}
			if (this.fsync == null) {
				throw new InvalidAmbConfigurationException("amb.persistence.fsync", null,
						"must be one of always, interval, never");
			}
			if (this.fsyncInterval == null || this.fsyncInterval.isNegative() || this.fsyncInterval.isZero()) {
				throw new InvalidAmbConfigurationException("amb.persistence.fsync-interval", this.fsyncInterval,
						"must be a positive duration, such as 100ms");
			}
		}

	}

	/** When records of the write-ahead log are forced to disk. */
	public enum Fsync {

		/** Before each publish completes; concurrent publishers share one fsync. */
		ALWAYS,

		/** Every {@code amb.persistence.fsync-interval}. */
		INTERVAL,

		/** Left to the operating system. */
		NEVER

	}

	/** What the {@code amb} health contributor reports. */
	public static class Health {

		/** How long a subscription may hold waiting messages without a delivery before health calls it stalled; 0 turns the check off. */
		private Duration stallTimeout = Duration.ofSeconds(60);

		/** @return the stall timeout */
		public Duration getStallTimeout() {
			return this.stallTimeout;
		}

		/** @param stallTimeout the stall timeout */
		public void setStallTimeout(Duration stallTimeout) {
			this.stallTimeout = stallTimeout;
		}

	}

	/** The Redis backend's own settings; the connection is spring.data.redis.*. */
	public static class Redis {

		/** Entries served from higher lanes in a row while a lower lane waits before it gets one; amb.priority.starvation-bound when not set. */
		private Integer starvationBound;

		/** The prefix of every Redis key AMB writes (streams, registry, groups). */
		private String streamPrefix = "amb:";

		/** How long an entry stays unacknowledged before another group member claims it for redelivery. */
		private Duration claimTimeout = Duration.ofSeconds(60);

		/** Entries read per XREADGROUP and acknowledged per XACK; the writer sends up to four times as many commands at once. */
		private int batchSize = 100;

		/** How long an idle XREADGROUP blocks; also bounds how long closing a subscription waits. */
		private Duration blockTimeout = Duration.ofMillis(500);

		/** How often wildcard subscriptions look for new topics in the topic registry. */
		private Duration topicRefreshInterval = Duration.ofSeconds(1);

		/** Sends (and, separately, acknowledgements) queued or awaiting Redis's reply before publishers wait. */
		private int maxPendingSends = 10_000;

		/** How long a publisher waits for room among the pending sends before its publish fails. */
		private Duration sendTimeout = Duration.ofSeconds(10);

		private final RedisTrimming trimming = new RedisTrimming();

		/** @return how streams are trimmed */
		public RedisTrimming getTrimming() {
			return this.trimming;
		}

		/** @return the key prefix */
		public String getStreamPrefix() {
			return this.streamPrefix;
		}

		/** @param streamPrefix the key prefix */
		public void setStreamPrefix(String streamPrefix) {
			this.streamPrefix = streamPrefix;
		}

		/** @return the claim timeout */
		public Duration getClaimTimeout() {
			return this.claimTimeout;
		}

		/** @param claimTimeout the claim timeout */
		public void setClaimTimeout(Duration claimTimeout) {
			this.claimTimeout = claimTimeout;
		}

		/** @return the batch size */
		public int getBatchSize() {
			return this.batchSize;
		}

		/** @param batchSize the batch size */
		public void setBatchSize(int batchSize) {
			this.batchSize = batchSize;
		}

		/** @return the read block timeout */
		public Duration getBlockTimeout() {
			return this.blockTimeout;
		}

		/** @param blockTimeout the read block timeout */
		public void setBlockTimeout(Duration blockTimeout) {
			this.blockTimeout = blockTimeout;
		}

		/** @return the topic refresh interval */
		public Duration getTopicRefreshInterval() {
			return this.topicRefreshInterval;
		}

		/** @param topicRefreshInterval the topic refresh interval */
		public void setTopicRefreshInterval(Duration topicRefreshInterval) {
			this.topicRefreshInterval = topicRefreshInterval;
		}

		/** @return the pending-send bound */
		public int getMaxPendingSends() {
			return this.maxPendingSends;
		}

		/** @param maxPendingSends the pending-send bound */
		public void setMaxPendingSends(int maxPendingSends) {
			this.maxPendingSends = maxPendingSends;
		}

		/** @return the send timeout */
		public Duration getSendTimeout() {
			return this.sendTimeout;
		}

		/** @param sendTimeout the send timeout */
		public void setSendTimeout(Duration sendTimeout) {
			this.sendTimeout = sendTimeout;
		}

		/** @return the starvation bound, or null for amb.priority.starvation-bound */
		public Integer getStarvationBound() {
			return this.starvationBound;
		}

		/** @param starvationBound the starvation bound, or null for amb.priority.starvation-bound */
		public void setStarvationBound(Integer starvationBound) {
			this.starvationBound = starvationBound;
		}

	}

	/** How Redis streams are trimmed, as part of each XADD. */
	public static class RedisTrimming {

		/** What bounds each stream on XADD: maxlen (entries), minid (age) or none. */
		private RedisTrimStrategy strategy = RedisTrimStrategy.MAXLEN;

		/** The entries kept per stream under the maxlen strategy. */
		private long maxLength = 1_000_000;

		/** The age of entries kept under the minid strategy. */
		private Duration maxAge = Duration.ofDays(1);

		/** Whether Redis may trim lazily (~), which is much cheaper than exact trimming. */
		private boolean approximate = true;

		/** @return the trimming strategy */
		public RedisTrimStrategy getStrategy() {
			return this.strategy;
		}

		/** @param strategy the trimming strategy */
		public void setStrategy(RedisTrimStrategy strategy) {
			this.strategy = strategy;
		}

		/** @return the length kept */
		public long getMaxLength() {
			return this.maxLength;
		}

		/** @param maxLength the length kept */
		public void setMaxLength(long maxLength) {
			this.maxLength = maxLength;
		}

		/** @return the age kept */
		public Duration getMaxAge() {
			return this.maxAge;
		}

		/** @param maxAge the age kept */
		public void setMaxAge(Duration maxAge) {
			this.maxAge = maxAge;
		}

		/** @return whether trimming is approximate */
		public boolean isApproximate() {
			return this.approximate;
		}

		/** @param approximate whether trimming is approximate */
		public void setApproximate(boolean approximate) {
			this.approximate = approximate;
		}

	}

	/** What bounds a Redis stream. */
	public enum RedisTrimStrategy {

		/** Nothing: streams grow until something else trims them. */
		NONE,

		/** A number of entries (XADD MAXLEN). */
		MAXLEN,

		/** An age: older entries are removed (XADD MINID, Redis 6.2 and later). */
		MINID

	}

	/** The RabbitMQ backend's own settings; the connection is spring.rabbitmq.*. */
	public static class RabbitMq {

		/** Deliveries from higher lanes after which a waiting lower-lane message goes first; amb.priority.starvation-bound when not set. */
		private Integer starvationBound;

		/** The topic exchange of ordinary topics; the other names derive from it. */
		private String exchange = "amb";

		/** The topic exchange of dead-letter topics; the exchange name followed by .dlq when not set. */
		private String deadLetterExchange;

		/** The topic exchange of AMB's internal topics, such as reply topics; the exchange name followed by .internal when not set. */
		private String internalExchange;

		/** The durable queue keeping dead letters no subscription takes; the dead-letter exchange name followed by .unrouted when not set. */
		private String unroutedDeadLetterQueue;

		/** The prefix of every queue AMB declares; the exchange name followed by a dot when not set. */
		private String queuePrefix;

		/** Unacknowledged deliveries per subscription (the consumer prefetch). */
		private int prefetch = 250;

		/** Published messages awaiting a publisher confirm before publishers wait. */
		private int maxOutstandingConfirms = 500;

		/** How long a publish waits for its confirm, or for room in the confirm window. */
		private Duration confirmTimeout = Duration.ofSeconds(30);

		/** Whether group queues have one active consumer, which keeps key order across group members. */
		private boolean singleActiveConsumer = true;

		/** How long an unused broadcast queue outlives a lost connection. */
		private Duration broadcastQueueExpiry = Duration.ofMinutes(1);

		/** The pause before a message the bus did not finish is handed back to the broker. */
		private Duration requeueDelay = Duration.ofSeconds(1);

		/** The pause between attempts to restart a consumer after its connection was lost. */
		private Duration recoveryInterval = Duration.ofSeconds(1);

		/** Whether messages are published persistent, to survive a broker restart. */
		private boolean persistent = true;

		/** Whether a publish that reaches no queue fails (pub/sub without subscribers is otherwise legal). */
		private boolean mandatory = false;

		/** @return the exchange */
		public String getExchange() {
			return this.exchange;
		}

		/** @param exchange the exchange */
		public void setExchange(String exchange) {
			this.exchange = exchange;
		}

		/** @return the dead-letter exchange */
		public String getDeadLetterExchange() {
			return this.deadLetterExchange;
		}

		/** @param deadLetterExchange the dead-letter exchange */
		public void setDeadLetterExchange(String deadLetterExchange) {
			this.deadLetterExchange = deadLetterExchange;
		}

		/** @return the internal exchange */
		public String getInternalExchange() {
			return this.internalExchange;
		}

		/** @param internalExchange the internal exchange */
		public void setInternalExchange(String internalExchange) {
			this.internalExchange = internalExchange;
		}

		/** @return the unrouted dead-letter queue */
		public String getUnroutedDeadLetterQueue() {
			return this.unroutedDeadLetterQueue;
		}

		/** @param unroutedDeadLetterQueue the unrouted dead-letter queue */
		public void setUnroutedDeadLetterQueue(String unroutedDeadLetterQueue) {
			this.unroutedDeadLetterQueue = unroutedDeadLetterQueue;
		}

		/** @return the queue prefix */
		public String getQueuePrefix() {
			return this.queuePrefix;
		}

		/** @param queuePrefix the queue prefix */
		public void setQueuePrefix(String queuePrefix) {
			this.queuePrefix = queuePrefix;
		}

		/** @return the prefetch */
		public int getPrefetch() {
			return this.prefetch;
		}

		/** @param prefetch the prefetch */
		public void setPrefetch(int prefetch) {
			this.prefetch = prefetch;
		}

		/** @return the confirm window */
		public int getMaxOutstandingConfirms() {
			return this.maxOutstandingConfirms;
		}

		/** @param maxOutstandingConfirms the confirm window */
		public void setMaxOutstandingConfirms(int maxOutstandingConfirms) {
			this.maxOutstandingConfirms = maxOutstandingConfirms;
		}

		/** @return the confirm timeout */
		public Duration getConfirmTimeout() {
			return this.confirmTimeout;
		}

		/** @param confirmTimeout the confirm timeout */
		public void setConfirmTimeout(Duration confirmTimeout) {
			this.confirmTimeout = confirmTimeout;
		}

		/** @return whether group queues have a single active consumer */
		public boolean isSingleActiveConsumer() {
			return this.singleActiveConsumer;
		}

		/** @param singleActiveConsumer whether group queues have a single active consumer */
		public void setSingleActiveConsumer(boolean singleActiveConsumer) {
			this.singleActiveConsumer = singleActiveConsumer;
		}

		/** @return the broadcast queue expiry */
		public Duration getBroadcastQueueExpiry() {
			return this.broadcastQueueExpiry;
		}

		/** @param broadcastQueueExpiry the broadcast queue expiry */
		public void setBroadcastQueueExpiry(Duration broadcastQueueExpiry) {
			this.broadcastQueueExpiry = broadcastQueueExpiry;
		}

		/** @return the requeue delay */
		public Duration getRequeueDelay() {
			return this.requeueDelay;
		}

		/** @param requeueDelay the requeue delay */
		public void setRequeueDelay(Duration requeueDelay) {
			this.requeueDelay = requeueDelay;
		}

		/** @return the recovery interval */
		public Duration getRecoveryInterval() {
			return this.recoveryInterval;
		}

		/** @param recoveryInterval the recovery interval */
		public void setRecoveryInterval(Duration recoveryInterval) {
			this.recoveryInterval = recoveryInterval;
		}

		/** @return whether messages are persistent */
		public boolean isPersistent() {
			return this.persistent;
		}

		/** @param persistent whether messages are persistent */
		public void setPersistent(boolean persistent) {
			this.persistent = persistent;
		}

		/** @return whether publishes are mandatory */
		public boolean isMandatory() {
			return this.mandatory;
		}

		/** @param mandatory whether publishes are mandatory */
		public void setMandatory(boolean mandatory) {
			this.mandatory = mandatory;
		}

		/** @return the starvation bound, or null for amb.priority.starvation-bound */
		public Integer getStarvationBound() {
			return this.starvationBound;
		}

		/** @param starvationBound the starvation bound, or null for amb.priority.starvation-bound */
		public void setStarvationBound(Integer starvationBound) {
			this.starvationBound = starvationBound;
		}

	}

	/** The Kafka backend's own settings; the connection and client settings are spring.kafka.*. */
	public static class Kafka {

		/** Polls in a row that may defer a waiting lower lane before it is served; amb.priority.starvation-bound when not set. */
		private Integer starvationBound;

		/** The prefix of every Kafka topic AMB uses. */
		private String topicPrefix = "";

		/** The suffix of a topic's high-lane Kafka topic. */
		private String highLaneSuffix = "..high";

		/** The suffix of a topic's low-lane Kafka topic. */
		private String lowLaneSuffix = "..low";

		/** The prefix of every consumer group id AMB uses. */
		private String groupPrefix = "amb.";

		/** Partitions of the topics AMB creates: the most members of a group that work at once. */
		private int partitions = 4;

		/** Replication factor of the topics AMB creates (use 3 on a production cluster). */
		private int replicationFactor = 1;

		/** The longest wait of one poll, which is also how quickly pause and close take effect. */
		private Duration pollTimeout = Duration.ofMillis(100);

		/** The producer linger.ms where spring.kafka.producer.* sets none. */
		private Duration linger = Duration.ofMillis(5);

		/** The producer batch.size in bytes where spring.kafka.producer.* sets none. */
		private int batchSize = 64 * 1024;

		/** How often wildcard subscriptions look for new matching topics (metadata.max.age.ms). */
		private Duration metadataMaxAge = Duration.ofSeconds(1);

		/** The longest an admin operation, such as creating a topic, may take. */
		private Duration operationTimeout = Duration.ofSeconds(30);

		/** The longest subscribing waits for the consumers' partition assignment. */
		private Duration subscribeTimeout = Duration.ofSeconds(60);

		/** The longest a health check waits for the cluster to answer. */
		private Duration healthTimeout = Duration.ofSeconds(2);

		/** Whether closing a broadcast subscription deletes its single-use consumer group. */
		private boolean deleteBroadcastGroups = true;

		/** @return the topic prefix */
		public String getTopicPrefix() {
			return this.topicPrefix;
		}

		/** @param topicPrefix the topic prefix */
		public void setTopicPrefix(String topicPrefix) {
			this.topicPrefix = topicPrefix;
		}

		/** @return the high-lane suffix */
		public String getHighLaneSuffix() {
			return this.highLaneSuffix;
		}

		/** @param highLaneSuffix the high-lane suffix */
		public void setHighLaneSuffix(String highLaneSuffix) {
			this.highLaneSuffix = highLaneSuffix;
		}

		/** @return the low-lane suffix */
		public String getLowLaneSuffix() {
			return this.lowLaneSuffix;
		}

		/** @param lowLaneSuffix the low-lane suffix */
		public void setLowLaneSuffix(String lowLaneSuffix) {
			this.lowLaneSuffix = lowLaneSuffix;
		}

		/** @return the group prefix */
		public String getGroupPrefix() {
			return this.groupPrefix;
		}

		/** @param groupPrefix the group prefix */
		public void setGroupPrefix(String groupPrefix) {
			this.groupPrefix = groupPrefix;
		}

		/** @return the partitions */
		public int getPartitions() {
			return this.partitions;
		}

		/** @param partitions the partitions */
		public void setPartitions(int partitions) {
			this.partitions = partitions;
		}

		/** @return the replication factor */
		public int getReplicationFactor() {
			return this.replicationFactor;
		}

		/** @param replicationFactor the replication factor */
		public void setReplicationFactor(int replicationFactor) {
			this.replicationFactor = replicationFactor;
		}

		/** @return the poll timeout */
		public Duration getPollTimeout() {
			return this.pollTimeout;
		}

		/** @param pollTimeout the poll timeout */
		public void setPollTimeout(Duration pollTimeout) {
			this.pollTimeout = pollTimeout;
		}

		/** @return the linger */
		public Duration getLinger() {
			return this.linger;
		}

		/** @param linger the linger */
		public void setLinger(Duration linger) {
			this.linger = linger;
		}

		/** @return the batch size */
		public int getBatchSize() {
			return this.batchSize;
		}

		/** @param batchSize the batch size */
		public void setBatchSize(int batchSize) {
			this.batchSize = batchSize;
		}

		/** @return the metadata max age */
		public Duration getMetadataMaxAge() {
			return this.metadataMaxAge;
		}

		/** @param metadataMaxAge the metadata max age */
		public void setMetadataMaxAge(Duration metadataMaxAge) {
			this.metadataMaxAge = metadataMaxAge;
		}

		/** @return the operation timeout */
		public Duration getOperationTimeout() {
			return this.operationTimeout;
		}

		/** @param operationTimeout the operation timeout */
		public void setOperationTimeout(Duration operationTimeout) {
			this.operationTimeout = operationTimeout;
		}

		/** @return the subscribe timeout */
		public Duration getSubscribeTimeout() {
			return this.subscribeTimeout;
		}

		/** @param subscribeTimeout the subscribe timeout */
		public void setSubscribeTimeout(Duration subscribeTimeout) {
			this.subscribeTimeout = subscribeTimeout;
		}

		/** @return the health timeout */
		public Duration getHealthTimeout() {
			return this.healthTimeout;
		}

		/** @param healthTimeout the health timeout */
		public void setHealthTimeout(Duration healthTimeout) {
			this.healthTimeout = healthTimeout;
		}

		/** @return whether broadcast groups are deleted */
		public boolean isDeleteBroadcastGroups() {
			return this.deleteBroadcastGroups;
		}

		/** @param deleteBroadcastGroups whether broadcast groups are deleted */
		public void setDeleteBroadcastGroups(boolean deleteBroadcastGroups) {
			this.deleteBroadcastGroups = deleteBroadcastGroups;
		}

		/** @return the starvation bound, or null for amb.priority.starvation-bound */
		public Integer getStarvationBound() {
			return this.starvationBound;
		}

		/** @param starvationBound the starvation bound, or null for amb.priority.starvation-bound */
		public void setStarvationBound(Integer starvationBound) {
			this.starvationBound = starvationBound;
		}

	}

}
