package dev.amb.core.adapters.redis;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import io.netty.buffer.ByteBuf;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisPipelineException;
import org.springframework.data.redis.connection.RedisStreamCommands.XAddOptions;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;

import dev.amb.core.BusClosedException;

/**
 * A writing thread of the adapter (one for XADDs, one for XACKs): takes everything queued and
 * sends it without waiting for the replies of what it sent before, completing each send's future
 * when Redis has replied. A lone publish goes out at once; under load, everything that queued
 * while the thread was busy goes out together, and acknowledgements to one stream and group go
 * out as one {@code XACK}.
 * <p>
 * On Lettuce the commands go through the connection's asynchronous API, so the writer never waits
 * for a round trip; with another driver, through a Spring Data Redis pipeline per batch, which
 * waits for the batch's replies before the next one. Either way at most
 * {@code max-pending-sends} sends (or acknowledgements) are queued or unanswered at once.
 */
final class RedisWriter implements Runnable {

	private static final System.Logger logger = System.getLogger(RedisWriter.class.getName());

	private static final int MAX_ACK_RETRIES = 3;

	private final RedisConnectionFactory connectionFactory;

	private final RedisBrokerSettings settings;

	private final byte[] registryKey;

	private final BlockingQueue<Op> queue = new LinkedBlockingQueue<>();

	/** One per send or acknowledgement queued or waiting for its reply. */
	private final Semaphore permits;

	private final int maxPending;

	private final int maxBatch;

	private final boolean pipelineOnly;

	private final Thread thread;

	private final Consumer<String> registrationFailed;

	private volatile boolean stopping;

	private RedisConnection connection;

	/** Set by the writing thread once it has a Lettuce connection; workers acknowledge through it directly. */
	private volatile LettuceDispatch lettuce;

	private XAddOptions maxLengthOptions;

	/**
	 * A writer; {@code pipelineOnly} keeps it on Spring Data Redis pipelines even on Lettuce, as
	 * it runs with other drivers.
	 */
	RedisWriter(String name, RedisConnectionFactory connectionFactory, RedisBrokerSettings settings, byte[] registryKey,
			Consumer<String> registrationFailed, boolean pipelineOnly) {
		this.connectionFactory = connectionFactory;
		this.settings = settings;
		this.registryKey = registryKey;
		this.registrationFailed = registrationFailed;
		this.pipelineOnly = pipelineOnly;
		this.maxPending = settings.maxPendingSends();
		this.permits = new Semaphore(this.maxPending);
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

	/** @return sends and acknowledgements queued or waiting for Redis's reply */
	int pending() {
		return this.maxPending - this.permits.availablePermits();
	}

	/**
	 * Queues an XADD, waiting for room up to the send timeout.
	 * @return whether it was queued
	 */
	boolean add(byte[] key, StreamFields.FieldList fields, String registerTopic, CompletableFuture<Void> future)
			throws InterruptedException {
		if (this.stopping) {
			return false;
		}
		if (!this.permits.tryAcquire()
				&& !this.permits.tryAcquire(this.settings.sendTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
			return false;
		}
		return enqueue(new Add(key, fields, registerTopic, future));
	}

	/** Queues an XACK of entries of one stream; acknowledgements wait for room, since dropping one only means a redelivery later. */
	void ack(byte[] key, String group, List<RecordId> ids) {
		try {
			if (!this.permits.tryAcquire()
					&& !this.permits.tryAcquire(this.settings.sendTimeout().toNanos(), TimeUnit.NANOSECONDS)) {
				logger.log(System.Logger.Level.WARNING, () -> "Acknowledgement of " + ids.size() + " entr(y/ies) on group '"
						+ group + "' could not be queued; they will be delivered again after the claim timeout");
				return;
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return;
		}
		Ack ack = new Ack(key, group, ids);
		LettuceDispatch direct = this.lettuce;
		if (direct != null && !this.stopping && direct.sendNow(ack)) {
			// Already batched by the worker, and Lettuce does not block: no hop through the writing thread.
			return;
		}
		enqueue(ack);
	}

	private boolean enqueue(Op op) {
		this.queue.add(op);
		if (this.stopping && this.queue.remove(op)) {
			// Stopped meanwhile: nobody would take it.
			this.permits.release();
			return false;
		}
		return true;
	}

	/** @return completes once everything queued before it was sent and answered */
	CompletableFuture<Void> flush() {
		CompletableFuture<Void> flushed = new CompletableFuture<>();
		if (!this.thread.isAlive() || !this.queue.offer(new Barrier(flushed))) {
			flushed.complete(null);
		}
		return flushed;
	}

	/** Sends what is queued and waits for the replies, then stops; sends queued later fail. */
	void stop(Duration timeout) {
		this.stopping = true;
		long deadline = System.nanoTime() + timeout.toNanos();
		try {
			this.thread.join(Math.max(1, timeout.toMillis()));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		List<Op> left = new ArrayList<>();
		this.queue.drainTo(left);
		for (Op op : left) {
			op.finish(new BusClosedException("The Redis backend closed before this was sent"));
		}
		try {
			// What was sent is answered (or times out) on the driver's threads: wait for it.
			long remaining = Math.max(1, deadline - System.nanoTime());
			if (this.permits.tryAcquire(this.maxPending, remaining, TimeUnit.NANOSECONDS)) {
				this.permits.release(this.maxPending);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		releaseConnection();
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
	}

	private void execute(List<Op> batch) {
		RedisConnection connection;
		try {
			connection = connection();
		}
		catch (RuntimeException ex) {
			fail(batch, 0, ex);
			return;
		}
		if (this.lettuce != null) {
			this.lettuce.execute(batch);
		}
		else {
			executePipelined(connection, batch);
		}
	}

	/** Sends a batch as one Spring Data Redis pipeline and waits for its replies. */
	private void executePipelined(RedisConnection connection, List<Op> batch) {
		XAddOptions addOptions = addOptions();
		Map<AckTarget, List<Ack>> acks = null;
		int commands = 0;
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
					acks = group(acks, ack);
				}
			}
			if (acks != null) {
				for (Map.Entry<AckTarget, List<Ack>> entry : acks.entrySet()) {
					List<RecordId> ids = new ArrayList<>();
					entry.getValue().forEach((ack) -> ids.addAll(ack.ids));
					connection.streamCommands().xAck(entry.getKey().key, entry.getKey().group, ids.toArray(new RecordId[0]));
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
			fail(batch, 0, ex);
			return;
		}
		boolean indexed = results != null && results.size() == commands;
		for (Op op : batch) {
			if (op instanceof Add add) {
				Object result = indexed ? results.get(add.resultIndex) : mismatch(results, commands);
				completed(add, (result instanceof Throwable failure) ? failure : null);
			}
			else if (op instanceof Ack ack) {
				// Counted, not matched: a failed XACK only means a redelivery after the claim timeout.
				ack.finish(null);
			}
			else {
				op.finish(null);
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

	private static Map<AckTarget, List<Ack>> group(Map<AckTarget, List<Ack>> acks, Ack ack) {
		Map<AckTarget, List<Ack>> grouped = (acks != null) ? acks : new LinkedHashMap<>();
		grouped.computeIfAbsent(new AckTarget(ack.key, ack.group), (target) -> new ArrayList<>()).add(ack);
		return grouped;
	}

	/** Replies that cannot be matched to their commands: a send is not reported as done unless Redis said so. */
	private static Throwable mismatch(List<Object> results, int commands) {
		return new org.springframework.dao.DataAccessResourceFailureException("Redis answered "
				+ ((results != null) ? results.size() : 0) + " of " + commands
				+ " pipelined commands; the send may or may not have been stored");
	}

	private void completed(Add add, Throwable failure) {
		if (failure != null && add.registerTopic != null) {
			this.registrationFailed.accept(add.registerTopic);
		}
		add.finish(failure);
	}

	/** Acknowledgements that failed: another try saves a redelivery after the claim timeout. */
	private void acksFailed(List<Ack> acks, Throwable failure) {
		for (Ack ack : acks) {
			if (ack.retries++ < MAX_ACK_RETRIES && !this.stopping) {
				this.queue.add(ack);
			}
			else {
				ack.finish(failure);
			}
		}
	}

	private void fail(List<Op> batch, int from, Throwable failure) {
		List<Ack> acks = new ArrayList<>();
		for (Op op : batch.subList(from, batch.size())) {
			if (op instanceof Add add) {
				completed(add, failure);
			}
			else if (op instanceof Ack ack) {
				acks.add(ack);
			}
			else {
				op.finish(failure);
			}
		}
		acksFailed(acks, failure);
	}

	private XAddOptions addOptions() {
		RedisBrokerSettings.Trimming trimming = this.settings.trimming();
		return switch (trimming.strategy()) {
			case NONE -> XAddOptions.none();
			case MAXLEN -> this.maxLengthOptions;
			case MINID -> XAddOptions.none()
				.minId(RecordId.of(minId(trimming) + "-0"))
				.approximateTrimming(trimming.approximate());
		};
	}

	/** Client clock: a skew between it and Redis's shifts the age by as much. */
	private static long minId(RedisBrokerSettings.Trimming trimming) {
		return System.currentTimeMillis() - trimming.maxAge().toMillis();
	}

	private RedisConnection connection() {
		if (this.connection == null || this.connection.isClosed()) {
			RedisConnection connection = this.connectionFactory.getConnection();
			this.lettuce = (!this.pipelineOnly) ? LettuceDispatch.of(this, connection) : null;
			this.connection = connection;
		}
		return this.connection;
	}

	private void releaseConnection() {
		RedisConnection current = this.connection;
		this.connection = null;
		this.lettuce = null;
		if (current != null) {
			try {
				current.close();
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.DEBUG, "Closing a broken Redis connection failed", ex);
			}
		}
	}

	/**
	 * Lettuce's asynchronous API on the connection Spring Data Redis hands out, in a class of its
	 * own so that other drivers never load it. A batch goes to Lettuce as one write (one flush, one
	 * task on its event loop) and is completed from the event loop as replies arrive; the writer
	 * goes on with the next batch at once. An XADD's fields are written as protocol text directly,
	 * the constant ones from bytes encoded once (see {@link StreamFields}). Acknowledgements, which
	 * the workers batch themselves, are sent from the worker's thread. Replies on one connection
	 * come back in order, so a {@code PING} sent after everything else answers a flush.
	 */
	private static final class LettuceDispatch {

		private static final byte[] CRLF = { '\r', '\n' };

		private static final byte[] ANY_ID = { '$', '1', '\r', '\n', '*', '\r', '\n' };

		private final RedisWriter writer;

		private final RedisClusterAsyncCommands<byte[], byte[]> redis;

		/** The trimming arguments and the id {@code *}, as protocol text, for MAXLEN and NONE. */
		private final TrimmingArgs fixedTrimming;

		private LettuceDispatch(RedisWriter writer, RedisClusterAsyncCommands<byte[], byte[]> redis) {
			this.writer = writer;
			this.redis = redis;
			RedisBrokerSettings.Trimming trimming = writer.settings.trimming();
			this.fixedTrimming = switch (trimming.strategy()) {
				case NONE -> new TrimmingArgs(ANY_ID, 1);
				case MAXLEN -> TrimmingArgs.of("MAXLEN", trimming.approximate(), Long.toString(trimming.maxLength()));
				case MINID -> null;
			};
		}

		static LettuceDispatch of(RedisWriter writer, RedisConnection connection) {
			// The native connection is thread-safe (Spring's wrapper is not): taken once, by the writing thread.
			return (connection instanceof LettuceConnection lettuce)
					? new LettuceDispatch(writer, lettuce.getNativeConnection()) : null;
		}

		void execute(List<Op> batch) {
			TrimmingArgs trimming = trimming();
			Map<AckTarget, List<Ack>> acks = null;
			List<RedisCommand<byte[], byte[], ?>> commands = new ArrayList<>(batch.size() + 4);
			List<Barrier> barriers = null;
			for (Op op : batch) {
				if (op instanceof Add add) {
					if (add.registerTopic != null) {
						commands.add(register(add.registerTopic));
					}
					AsyncCommand<byte[], byte[], String> sent = new AsyncCommand<>(new Command<>(CommandType.XADD,
							new StatusOutput<>(ByteArrayCodec.INSTANCE), new EncodedXAddArgs(add.key, trimming, add.fields)));
					sent.whenComplete((id, failure) -> this.writer.completed(add, failure));
					commands.add(sent);
				}
				else if (op instanceof Ack ack) {
					acks = group(acks, ack);
				}
				else if (op instanceof Barrier barrier) {
					if (barriers == null) {
						barriers = new ArrayList<>();
					}
					barriers.add(barrier);
				}
			}
			if (acks != null) {
				for (List<Ack> targetAcks : acks.values()) {
					commands.add(xAck(targetAcks));
				}
			}
			if (barriers != null) {
				List<Barrier> answered = barriers;
				AsyncCommand<byte[], byte[], String> ping = new AsyncCommand<>(
						new Command<>(CommandType.PING, new StatusOutput<>(ByteArrayCodec.INSTANCE)));
				ping.whenComplete((pong, failure) -> answered.forEach((barrier) -> barrier.finish(null)));
				commands.add(ping);
			}
			try {
				dispatch(commands);
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.WARNING, "Sending " + batch.size() + " command(s) to Redis failed: " + ex);
				this.writer.releaseConnection();
				// Nothing of the batch went out: dispatching is the last step.
				for (RedisCommand<byte[], byte[], ?> command : commands) {
					command.completeExceptionally(ex);
				}
			}
		}

		/** Sends an acknowledgement from the calling thread. @return whether it was sent */
		boolean sendNow(Ack ack) {
			try {
				dispatch(List.of(xAck(List.of(ack))));
				return true;
			}
			catch (RuntimeException ex) {
				// The writing thread tries again, on a fresh connection if need be.
				return false;
			}
		}

		private AsyncCommand<byte[], byte[], Long> register(String topic) {
			AsyncCommand<byte[], byte[], Long> register = new AsyncCommand<>(new Command<>(CommandType.SADD,
					new IntegerOutput<>(ByteArrayCodec.INSTANCE), new CommandArgs<>(ByteArrayCodec.INSTANCE)
						.addKey(this.writer.registryKey)
						.addValue(RedisBrokerAdapter.bytes(topic))));
			register.whenComplete((added, failure) -> {
				if (failure != null) {
					this.writer.registrationFailed.accept(topic);
				}
			});
			return register;
		}

		/** One XACK for acknowledgements of one stream and group. */
		private AsyncCommand<byte[], byte[], Long> xAck(List<Ack> acks) {
			Ack first = acks.get(0);
			CommandArgs<byte[], byte[]> args = new CommandArgs<>(ByteArrayCodec.INSTANCE).addKey(first.key)
				.addKey(RedisBrokerAdapter.bytes(first.group));
			for (Ack ack : acks) {
				for (RecordId id : ack.ids) {
					args.add(id.getValue());
				}
			}
			AsyncCommand<byte[], byte[], Long> sent = new AsyncCommand<>(
					new Command<>(CommandType.XACK, new IntegerOutput<>(ByteArrayCodec.INSTANCE), args));
			sent.whenComplete((count, failure) -> {
				if (failure != null) {
					this.writer.acksFailed(acks, failure);
				}
				else {
					acks.forEach((ack) -> ack.finish(null));
				}
			});
			return sent;
		}

		@SuppressWarnings("unchecked")
		private void dispatch(List<RedisCommand<byte[], byte[], ?>> commands) {
			if (commands.isEmpty()) {
				return;
			}
			if (this.redis instanceof RedisAsyncCommands<byte[], byte[]> standalone) {
				// One write and one flush for the whole batch.
				standalone.getStatefulConnection().dispatch(commands);
				return;
			}
			for (RedisCommand<byte[], byte[], ?> command : commands) {
				// Cluster: each command goes to its key's node; the futures are the commands themselves.
				AsyncCommand<byte[], byte[], Object> original = (AsyncCommand<byte[], byte[], Object>) command;
				this.redis.dispatch(command.getType(), (CommandOutput<byte[], byte[], Object>) command.getOutput(),
						command.getArgs())
					.whenComplete((result, failure) -> {
						if (failure != null) {
							original.completeExceptionally(failure);
						}
						else {
							original.complete(result);
						}
					});
			}
		}

		private TrimmingArgs trimming() {
			if (this.fixedTrimming != null) {
				return this.fixedTrimming;
			}
			RedisBrokerSettings.Trimming trimming = this.writer.settings.trimming();
			return TrimmingArgs.of("MINID", trimming.approximate(), minId(trimming) + "-0");
		}

		private static void bulk(ByteBuf buf, byte[] bytes) {
			buf.writeByte('$');
			int length = bytes.length;
			int divisor = 1;
			while (length / divisor >= 10) {
				divisor *= 10;
			}
			for (; divisor > 0; divisor /= 10) {
				buf.writeByte('0' + (length / divisor) % 10);
			}
			buf.writeBytes(CRLF);
			buf.writeBytes(bytes);
			buf.writeBytes(CRLF);
		}

		/** XADD's arguments after the key, up to and including the id {@code *}, as protocol text. */
		private record TrimmingArgs(byte[] resp, int count) {

			static TrimmingArgs of(String strategy, boolean approximate, String threshold) {
				List<String> args = new ArrayList<>(List.of(strategy));
				if (approximate) {
					args.add("~");
				}
				args.add(threshold);
				args.add("*");
				StringBuilder text = new StringBuilder();
				for (String arg : args) {
					text.append('$').append(arg.length()).append("\r\n").append(arg).append("\r\n");
				}
				return new TrimmingArgs(RedisBrokerAdapter.bytes(text.toString()), args.size());
			}

		}

		/**
		 * The arguments of one XADD, written straight into Lettuce's buffer: the key, the trimming
		 * arguments and the fields, the constant ones copied from their encoded bytes.
		 */
		private static final class EncodedXAddArgs extends CommandArgs<byte[], byte[]> {

			private final byte[] key;

			private final TrimmingArgs trimming;

			private final StreamFields.FieldList fields;

			EncodedXAddArgs(byte[] key, TrimmingArgs trimming, StreamFields.FieldList fields) {
				super(ByteArrayCodec.INSTANCE);
				this.key = key;
				this.trimming = trimming;
				this.fields = fields;
			}

			@Override
			public int count() {
				return 1 + this.trimming.count() + 2 * this.fields.size();
			}

			@Override
			public ByteBuffer getFirstEncodedKey() {
				return ByteBuffer.wrap(this.key);
			}

			@Override
			public void encode(ByteBuf buf) {
				bulk(buf, this.key);
				buf.writeBytes(this.trimming.resp());
				for (int i = 0; i < this.fields.size(); i++) {
					byte[] encoded = this.fields.encoded(i);
					if (encoded != null) {
						buf.writeBytes(encoded);
					}
					else {
						bulk(buf, this.fields.name(i));
						bulk(buf, this.fields.value(i));
					}
				}
			}

			@Override
			public String toCommandString() {
				// Never the payload: this ends up in logs.
				return "key<" + new String(this.key, java.nio.charset.StandardCharsets.UTF_8) + "> "
						+ this.fields.size() + " field(s)";
			}

			@Override
			public String toString() {
				return getClass().getSimpleName() + " [" + toCommandString() + "]";
			}

		}

	}

	private abstract class Op {

		private boolean finished;

		/** Done with it, one way or the other: gives its place back. */
		final void finish(Throwable failure) {
			synchronized (this) {
				if (this.finished) {
					return;
				}
				this.finished = true;
			}
			if (!(this instanceof Barrier)) {
				RedisWriter.this.permits.release();
			}
			finished(failure);
		}

		abstract void finished(Throwable failure);

	}

	private final class Add extends Op {

		final byte[] key;

		final StreamFields.FieldList fields;

		final String registerTopic;

		final CompletableFuture<Void> future;

		int resultIndex;

		Add(byte[] key, StreamFields.FieldList fields, String registerTopic, CompletableFuture<Void> future) {
			this.key = key;
			this.fields = fields;
			this.registerTopic = registerTopic;
			this.future = future;
		}

		@Override
		void finished(Throwable failure) {
			if (failure != null) {
				this.future.completeExceptionally(failure);
			}
			else {
				this.future.complete(null);
			}
		}

	}

	private final class Ack extends Op {

		final byte[] key;

		final String group;

		final List<RecordId> ids;

		int retries;

		Ack(byte[] key, String group, List<RecordId> ids) {
			this.key = key;
			this.group = group;
			this.ids = ids;
		}

		@Override
		void finished(Throwable failure) {
			if (failure != null) {
				logger.log(System.Logger.Level.DEBUG, () -> "Acknowledgement of " + this.ids + " was not sent (" + failure
						+ "); the entries will be delivered again after the claim timeout");
			}
		}

	}

	private final class Barrier extends Op {

		final CompletableFuture<Void> future;

		Barrier(CompletableFuture<Void> future) {
			this.future = future;
		}

		@Override
		void finished(Throwable failure) {
			this.future.complete(null);
		}

	}

	/** The stream and group an acknowledgement goes to; keys are the adapter's cached arrays, so identity is enough. */
	private record AckTarget(byte[] key, String group) {

		byte[] groupBytes() {
			return RedisBrokerAdapter.bytes(this.group);
		}

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
