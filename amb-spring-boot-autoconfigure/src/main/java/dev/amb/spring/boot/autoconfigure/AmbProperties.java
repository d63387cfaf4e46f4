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

}
