package dev.amb.core.adapters.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisPipelineException;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;

import dev.amb.core.BusClosedException;

/**
 * A writing thread of the adapter (one for XADDs, one for XACKs): drains what was queued and
 * sends it as one pipeline, completing each send's future when Redis has replied. A lone
 * publish goes out at once in a pipeline of one; under load, everything that queued while the
 * previous pipeline was on the wire goes out together, which is where Redis's throughput is.
 */
final class RedisWriter implements Runnable {

	private static final System.Logger logger = System.getLogger(RedisWriter.class.getName());

	private static final int MAX_ACK_RETRIES = 3;

	private static final boolean LETTUCE_PRESENT = isPresent("io.lettuce.core.RedisClient");

	/**
	 * One write per pipeline instead of one per command. Off: with it, a pipeline in flight when
	 * the connection was killed hung until the command timeout in the fault tests (acknowledgements
	 * stalled, entries were claimed over and over); see the Redis backend documentation.
	 */
	private static final boolean FLUSH_ON_CLOSE = Boolean.getBoolean("amb.redis.flush-on-close");

	private final RedisConnectionFactory connectionFactory;

	private final RedisBrokerSettings settings;

	private final byte[] registryKey;

	private final BlockingQueue<Op> queue;

	private final int maxBatch;

	private final Thread thread;

	private final Consumer<String> registrationFailed;

	private volatile boolean stopping;

	private RedisConnection connection;

	private XAddOptions maxLengthOptions;

	RedisWriter(String name, RedisConnectionFactory connectionFactory, RedisBrokerSettings settings, byte[] registryKey,
			Consumer<String> registrationFailed) {
		this.connectionFactory = connectionFactory;
		this.settings = settings;
		this.registryKey = registryKey;
		this.registrationFailed = registrationFailed;
		this.queue = new LinkedBlockingQueue<>(settings.maxPendingSends());
		// Larger batches than one read's worth only add latency to the first sends of the batch.
		this.maxBatch = Math.max(64, settings.batchSize() * 4);
		RedisBrokerSettings.Trimming trimming = settings.trimming();
		if (trimming.strategy() == RedisBrokerSettings.Trimming.Strategy.MAXLEN) {
			this.maxLengthOptions = XAddOptions.maxlen(trimming.maxLength()).approximateTrimming(trimming.approximate());
		}
		this.thread = new Thread(this, name);
		this.thread.setDaemon(true);
	}

	void start() {
		this.thread.start();
	}

	/** @return sends and acknowledgements waiting for the pipeline */
	int pending() {
		return this.queue.size();
	}

	/**
	 * Queues an XADD, waiting for room up to the send timeout.
	 * @return whether it was queued
	 */
	boolean add(byte[] key, Map<byte[], byte[]> fields, String registerTopic, CompletableFuture<Void> future)
			throws InterruptedException {
		if (this.stopping) {
			return false;
		}
		Add add = new Add(key, fields, registerTopic, future);
		return this.queue.offer(add) || this.queue.offer(add, this.settings.sendTimeout().toNanos(),
				TimeUnit.NANOSECONDS);
	}

	/** Queues an XACK; acknowledgements wait for room, since dropping one only means a redelivery later. */
	void ack(byte[] key, String group, RecordId id) {
		Ack ack = new Ack(key, group, id);
		if (this.queue.offer(ack)) {
			return;
		}
		try {
			if (!this.queue.offer(ack, this.settings.sendTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
				logger.log(System.Logger.Level.WARNING, () -> "Acknowledgement of " + id + " on group '" + group
						+ "' could not be queued; the entry will be delivered again after the claim timeout");
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** @return completes once everything queued before it was sent */
	CompletableFuture<Void> flush() {
		CompletableFuture<Void> flushed = new CompletableFuture<>();
		if (!this.thread.isAlive() || !this.queue.offer(new Barrier(flushed))) {
			flushed.complete(null);
		}
		return flushed;
	}

	/** Sends what is queued, then stops; sends queued later fail. */
	void stop(Duration timeout) {
		this.stopping = true;
		try {
			this.thread.join(Math.max(1, timeout.toMillis()));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		List<Op> left = new ArrayList<>();
		this.queue.drainTo(left);
		for (Op op : left) {
			op.fail(new BusClosedException("The Redis backend closed before this was sent"));
		}
	}

	@Override
	public void run() {
		List<Op> batch = new ArrayList<>(this.maxBatch);
		try {
			while (true) {
				Op first = this.queue.poll(100, TimeUnit.MILLISECONDS);
				if (first == null) {
					if (this.stopping) {
						return;
					}
					continue;
				}
				batch.add(first);
				this.queue.drainTo(batch, this.maxBatch - 1);
				execute(batch);
				batch.clear();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			releaseConnection();
		}
	}

	private void execute(List<Op> batch) {
		XAddOptions addOptions = addOptions();
		Map<AckTarget, List<RecordId>> acks = null;
		int commands = 0;
		RedisConnection connection;
		try {
			connection = connection();
		}
		catch (RuntimeException ex) {
			fail(batch, ex);
			return;
		}
		List<Object> results;
		try {
			connection.openPipeline();
			for (Op op : batch) {
				if (op instanceof Add add) {
					if (add.registerTopic != null) {
						connection.setCommands().sAdd(this.registryKey, RedisBrokerAdapter.bytes(add.registerTopic));
						commands++;
					}
					connection.streamCommands()
						.xAdd(StreamRecords.rawBytes(add.fields).withStreamKey(add.key), addOptions);
					add.resultIndex = commands++;
				}
				else if (op instanceof Ack ack) {
					if (acks == null) {
						acks = new LinkedHashMap<>();
					}
					acks.computeIfAbsent(new AckTarget(ack.key, ack.group), (target) -> new ArrayList<>()).add(ack.id);
				}
			}
			if (acks != null) {
				for (Map.Entry<AckTarget, List<RecordId>> entry : acks.entrySet()) {
					connection.streamCommands()
						.xAck(entry.getKey().key, entry.getKey().group, entry.getValue().toArray(new RecordId[0]));
					commands++;
				}
			}
			results = connection.closePipeline();
		}
		catch (RedisPipelineException ex) {
			results = ex.getPipelineResult();
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "Redis pipeline of " + batch.size() + " command(s) failed: " + ex);
			releaseConnection();
			fail(batch, ex);
			return;
		}
		complete(batch, results, commands);
	}

	private void complete(List<Op> batch, List<Object> results, int commands) {
		boolean indexed = results != null && results.size() == commands;
		for (Op op : batch) {
			if (op instanceof Add add) {
				Object result = indexed ? results.get(add.resultIndex) : mismatch(results, commands);
				if (result instanceof Throwable failure) {
					if (add.registerTopic != null) {
						this.registrationFailed.accept(add.registerTopic);
					}
					add.future.completeExceptionally(failure);
				}
				else {
					add.future.complete(null);
				}
			}
			else if (op instanceof Barrier barrier) {
				barrier.future.complete(null);
			}
		}
		if (results != null) {
			for (Object result : results) {
				if (result instanceof Throwable failure) {
					logger.log(System.Logger.Level.WARNING, "A Redis command in a pipeline failed: " + failure);
				}
			}
		}
	}

	/** Replies that cannot be matched to their commands: a send is not reported as done unless Redis said so. */
	private static Object mismatch(List<Object> results, int commands) {
		return new org.springframework.dao.DataAccessResourceFailureException("Redis answered "
				+ ((results != null) ? results.size() : 0) + " of " + commands
				+ " pipelined commands; the send may or may not have been stored");
	}

	private void fail(List<Op> batch, RuntimeException ex) {
		for (Op op : batch) {
			if (op instanceof Add add && add.registerTopic != null) {
				this.registrationFailed.accept(add.registerTopic);
			}
			if (op instanceof Ack ack && ack.retries++ < MAX_ACK_RETRIES && !this.stopping && this.queue.offer(ack)) {
				// The entry was handled: another try saves a redelivery after the claim timeout.
				continue;
			}
			op.fail(ex);
		}
	}

	private XAddOptions addOptions() {
		RedisBrokerSettings.Trimming trimming = this.settings.trimming();
		return switch (trimming.strategy()) {
			case NONE -> XAddOptions.none();
			case MAXLEN -> this.maxLengthOptions;
			// Client clock: a skew between it and Redis's shifts the age by as much.
			case MINID -> XAddOptions.none()
				.minId(RecordId.of((System.currentTimeMillis() - trimming.maxAge().toMillis()) + "-0"))
				.approximateTrimming(trimming.approximate());
		};
	}

	private RedisConnection connection() {
		if (this.connection == null || this.connection.isClosed()) {
			RedisConnection connection = this.connectionFactory.getConnection();
			if (LETTUCE_PRESENT && FLUSH_ON_CLOSE) {
				LettuceTuning.flushOnClose(connection);
			}
			this.connection = connection;
		}
		return this.connection;
	}

	private void releaseConnection() {
		RedisConnection current = this.connection;
		this.connection = null;
		if (current != null) {
			try {
				current.close();
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.DEBUG, "Closing a broken Redis connection failed", ex);
			}
		}
	}

	private static boolean isPresent(String className) {
		try {
			Class.forName(className, false, RedisWriter.class.getClassLoader());
			return true;
		}
		catch (ClassNotFoundException | LinkageError ex) {
			return false;
		}
	}

	/** Lettuce only, in a class of its own so that other drivers never load it. */
	private static final class LettuceTuning {

		static void flushOnClose(RedisConnection connection) {
			// The pipeline goes out in one write instead of one per command; safe, since pipelines use a dedicated connection.
			if (connection instanceof LettuceConnection lettuce) {
				lettuce.setPipeliningFlushPolicy(LettuceConnection.PipeliningFlushPolicy.flushOnClose());
			}
		}

	}

	private abstract static class Op {

		void fail(Throwable failure) {
		}

	}

	private static final class Add extends Op {

		final byte[] key;

		final Map<byte[], byte[]> fields;

		final String registerTopic;

		final CompletableFuture<Void> future;

		int resultIndex;

		Add(byte[] key, Map<byte[], byte[]> fields, String registerTopic, CompletableFuture<Void> future) {
			this.key = key;
			this.fields = fields;
			this.registerTopic = registerTopic;
			this.future = future;
		}

		@Override
		void fail(Throwable failure) {
			this.future.completeExceptionally(failure);
		}

	}

	private static final class Ack extends Op {

		final byte[] key;

		final String group;

		final RecordId id;

		int retries;

		Ack(byte[] key, String group, RecordId id) {
			this.key = key;
			this.group = group;
			this.id = id;
		}

		@Override
		void fail(Throwable failure) {
			logger.log(System.Logger.Level.DEBUG, () -> "Acknowledgement of " + this.id + " was not sent (" + failure
					+ "); the entry will be delivered again after the claim timeout");
		}

	}

	private static final class Barrier extends Op {

		final CompletableFuture<Void> future;

		Barrier(CompletableFuture<Void> future) {
			this.future = future;
		}

		@Override
		void fail(Throwable failure) {
			this.future.complete(null);
		}

	}

	/** The stream and group an acknowledgement goes to; keys are the adapter's cached arrays, so identity is enough. */
	private record AckTarget(byte[] key, String group) {

		@Override
		public boolean equals(Object other) {
			return other instanceof AckTarget target && target.key == this.key && target.group.equals(this.group);
		}

		@Override
		public int hashCode() {
			return System.identityHashCode(this.key) * 31 + this.group.hashCode();
		}

	}

}
