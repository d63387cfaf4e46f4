package dev.amb.core.adapters.redis;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.stream.RecordId;

import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.spi.Envelope;

/**
 * A subscription's {@code XREADGROUP}s on Lettuce, read straight into entries: the reply is
 * parsed as the driver decodes it, field by field into a {@link StreamFields.EntryParser},
 * without the per-field copies and maps of the generic stream reply. Runs on the dedicated
 * connection Spring Data Redis keeps for a connection's blocking commands, so a blocking read never
 * holds up the shared connection. Lettuce only: the adapter loads it only when Lettuce is there.
 */
final class LettuceReads {

	private final RedisClusterAsyncCommands<byte[], byte[]> redis;

	private final byte[] group;

	private final byte[] consumer;

	private final StreamFields fields;

	private LettuceReads(RedisClusterAsyncCommands<byte[], byte[]> redis, String group, String consumer,
			StreamFields fields) {
		this.redis = redis;
		this.group = RedisBrokerAdapter.bytes(group);
		this.consumer = RedisBrokerAdapter.bytes(consumer);
		this.fields = fields;
	}

	/**
	 * Reads for a connection, if it is a Lettuce one.
	 * @return the reads, or null for another driver
	 */
	static LettuceReads of(RedisConnection connection, String group, String consumer, StreamFields fields) {
		if (!(connection instanceof LettuceConnection lettuce)) {
			return null;
		}
		// Within a pipeline, Spring Data Redis hands out the connection's dedicated native connection,
		// the one it uses for blocking commands; it stays the connection's until the connection closes.
		RedisClusterAsyncCommands<byte[], byte[]> dedicated;
		try {
			lettuce.openPipeline();
			try {
				dedicated = lettuce.getNativeConnection();
			}
			finally {
				lettuce.closePipeline();
			}
		}
		catch (UnsupportedOperationException ex) {
			// A connection without pipelines: the reads go through Spring Data Redis's API.
			return null;
		}
		return new LettuceReads(dedicated, group, consumer, fields);
	}

	/**
	 * Sends one {@code XREADGROUP ... >} per list of streams, all at once, and waits for the replies.
	 * @param reads the streams of each read
	 * @param count the {@code COUNT} of each
	 * @param block how long each blocks, or null for not at all
	 * @param timeout how long to wait for the replies beyond the blocking time
	 * @return the entries of each read, in order
	 */
	List<List<StreamEntry>> read(List<StreamRef[]> reads, int count, Duration block, Duration timeout)
			throws InterruptedException {
		List<AsyncCommand<byte[], byte[], List<StreamEntry>>> commands = new ArrayList<>(reads.size());
		for (StreamRef[] streams : reads) {
			commands.add(new AsyncCommand<>(new Command<>(CommandType.XREADGROUP,
					new EntriesOutput(streams, this.fields.parser()), args(streams, count, block))));
		}
		dispatch(commands);
		long deadline = System.nanoTime() + ((block != null) ? block.toNanos() : 0) + timeout.toNanos();
		List<List<StreamEntry>> results = new ArrayList<>(commands.size());
		for (AsyncCommand<byte[], byte[], List<StreamEntry>> command : commands) {
			try {
				results.add(command.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
			}
			catch (ExecutionException ex) {
				Throwable cause = ex.getCause();
				throw (cause instanceof RuntimeException runtime) ? runtime
						: new RedisException("XREADGROUP failed", cause);
			}
			catch (TimeoutException ex) {
				commands.forEach((sent) -> sent.cancel(false));
				throw new RedisCommandTimeoutException("XREADGROUP was not answered within " + timeout);
			}
			catch (InterruptedException ex) {
				commands.forEach((sent) -> sent.cancel(false));
				throw ex;
			}
		}
		return results;
	}

	private CommandArgs<byte[], byte[]> args(StreamRef[] streams, int count, Duration block) {
		CommandArgs<byte[], byte[]> args = new CommandArgs<>(ByteArrayCodec.INSTANCE).add("GROUP")
			.add(this.group)
			.add(this.consumer)
			.add("COUNT")
			.add(count);
		if (block != null) {
			args.add("BLOCK").add(Math.max(1, block.toMillis()));
		}
		args.add("STREAMS");
		for (StreamRef stream : streams) {
			args.addKey(stream.key());
		}
		for (int i = 0; i < streams.length; i++) {
			args.add(">");
		}
		return args;
	}

	@SuppressWarnings("unchecked")
	private void dispatch(List<AsyncCommand<byte[], byte[], List<StreamEntry>>> commands) {
		if (this.redis instanceof RedisAsyncCommands<byte[], byte[]> standalone) {
			// One write and one flush for all the reads.
			standalone.getStatefulConnection().dispatch((List<RedisCommand<byte[], byte[], ?>>) (List<?>) commands);
			return;
		}
		for (AsyncCommand<byte[], byte[], List<StreamEntry>> command : commands) {
			this.redis.dispatch(command.getType(), command.getOutput(), command.getArgs())
				.whenComplete((result, failure) -> {
					if (failure != null) {
						command.completeExceptionally(failure);
					}
					else {
						command.complete(result);
					}
				});
		}
	}

	/**
	 * The reply of one {@code XREADGROUP}, as Lettuce decodes it: per stream its key and its
	 * entries, each an id and its fields. The nesting differs between RESP2 (an array of
	 * [key, entries] pairs) and RESP3 (a map of key to entries), so the structure is tracked by
	 * counting elements, and the level of the first string (the first stream's key) tells which
	 * levels hold the ids and the fields.
	 */
	static final class EntriesOutput extends CommandOutput<byte[], byte[], List<StreamEntry>> {

		private final StreamRef[] streams;

		private final StreamFields.EntryParser parser;

		/** Elements still to come in each open aggregate, outermost first. */
		private int[] remaining = new int[8];

		private int depth;

		private int keyLevel = -1;

		private StreamRef stream;

		private String id;

		private boolean fieldName = true;

		private boolean skipEntry;

		EntriesOutput(StreamRef[] streams, StreamFields.EntryParser parser) {
			super(ByteArrayCodec.INSTANCE, new ArrayList<>());
			this.streams = streams;
			this.parser = parser;
		}

		@Override
		public void set(ByteBuffer bytes) {
			try {
				element(bytes);
			}
			catch (RuntimeException ex) {
				// Never into the driver's decoding: the entry is left pending, and a claim brings it back.
				this.skipEntry = true;
			}
			elementDone();
		}

		private void element(ByteBuffer bytes) {
			int level = this.depth;
			if (this.keyLevel < 0 || level == this.keyLevel) {
				this.keyLevel = level;
				this.stream = streamOf(bytes);
			}
			else if (level == this.keyLevel + 2) {
				this.id = (bytes != null) ? StandardCharsets.US_ASCII.decode(bytes).toString() : null;
				this.fieldName = true;
				this.skipEntry = this.stream == null || this.id == null;
			}
			else if (level == this.keyLevel + 3 && !this.skipEntry) {
				if (this.fieldName) {
					this.parser.name((bytes != null) ? bytes : ByteBuffer.allocate(0));
				}
				else {
					this.parser.value(bytes);
				}
				this.fieldName = !this.fieldName;
			}
		}

		@Override
		public void set(long integer) {
			elementDone();
		}

		@Override
		public void multi(int count) {
			if (count > 0) {
				if (this.depth == this.remaining.length) {
					this.remaining = java.util.Arrays.copyOf(this.remaining, this.depth * 2);
				}
				this.remaining[this.depth++] = count;
				return;
			}
			// Empty, or null (an entry deleted since it was delivered): an element of its parent.
			if (this.depth + 1 == this.keyLevel + 3) {
				this.skipEntry = true;
			}
			elementDone();
		}

		private void elementDone() {
			while (this.depth > 0) {
				if (--this.remaining[this.depth - 1] > 0) {
					return;
				}
				int level = this.depth--;
				if (level == this.keyLevel + 2) {
					entryDone();
				}
			}
		}

		private void entryDone() {
			if (this.skipEntry) {
				// Nothing to deliver; if it is pending, a claim brings it back.
				this.parser.discard();
				this.id = null;
				return;
			}
			String localKey = RedisConsumer.localKey(this.stream, this.id);
			RecordId recordId = RecordId.of(this.id);
			StreamEntry entry;
			try {
				Envelope envelope = this.parser.build(this.stream);
				entry = new StreamEntry(this.stream, recordId, envelope, null, null, localKey);
			}
			catch (MalformedEnvelopeException ex) {
				entry = new StreamEntry(this.stream, recordId, null, null, ex, localKey);
			}
			catch (RuntimeException ex) {
				entry = new StreamEntry(this.stream, recordId, null, null,
						new MalformedEnvelopeException("Unreadable entry: " + ex, ex), localKey);
			}
			this.output.add(entry);
			this.id = null;
		}

		private StreamRef streamOf(ByteBuffer key) {
			if (key == null) {
				return null;
			}
			for (StreamRef candidate : this.streams) {
				if (key.remaining() == candidate.key().length && key.equals(ByteBuffer.wrap(candidate.key()))) {
					return candidate;
				}
			}
			return null;
		}

	}

}
