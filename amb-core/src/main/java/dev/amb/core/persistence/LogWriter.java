package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;

/**
 * The group-commit writer: one thread takes everything queued (appends framed by the publishers,
 * acknowledgements), writes it with one call and, under {@link FsyncPolicy#ALWAYS}, forces it once;
 * a second thread completes the publish futures so that callbacks never hold up the next force. The
 * writer thread owns the segments and the pending index, and publishes a health snapshot after
 * each batch.
 */
final class LogWriter {

	private static final System.Logger logger = System.getLogger(FileMessageStore.class.getName());

	private static final int MAX_BATCH = 8192;

	private static final int BUFFER_BYTES = 1 << 20;

	private static final Object CLOSE = new Object();

	private static final Object END = new Object();

	private final Path directory;

	private final FsyncPolicy policy;

	private final long fsyncIntervalNanos;

	private final long segmentBytes;

	private final FsyncStats fsyncStats;

	private final DiskBudget budget;

	private final LinkedBlockingQueue<Object> requests = new LinkedBlockingQueue<>(64 * 1024);

	private final LinkedBlockingQueue<Object> completions = new LinkedBlockingQueue<>();

	private final Thread writer;

	private final Thread completer;

	// Owned by the writer thread
	private final Segments segments;

	private final PendingIndex index;

	private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);

	private final CRC32C crc = new CRC32C();

	/** Acknowledgements of a batch whose write failed: written with the next one. */
	private final List<Object> unwrittenAcks = new ArrayList<>();

	private boolean dirty;

	private volatile String failure;

	private volatile String lastError;

	private volatile long pendingCount;

	private volatile long oldestPendingMillis;

	private volatile int segmentCount;

	private volatile long diskBytes;

	LogWriter(Path directory, FsyncPolicy policy, long fsyncIntervalNanos, long segmentBytes, LongConsumer fsyncListener,
			DiskBudget budget, Segments segments, PendingIndex index) {
		this.directory = directory;
		this.policy = policy;
		this.fsyncIntervalNanos = fsyncIntervalNanos;
		this.segmentBytes = segmentBytes;
		this.fsyncStats = new FsyncStats(fsyncListener);
		this.budget = budget;
		this.segments = segments;
		this.index = index;
		publishHealth();
		this.writer = new Thread(this::writeLoop, "amb-wal-writer");
		this.writer.setDaemon(true);
		this.completer = new Thread(this::completeLoop, "amb-wal-completer");
		this.completer.setDaemon(true);
	}

	void start() {
		this.writer.start();
		this.completer.start();
	}

	/** Queues an append or an acknowledgement, waiting while the queue is full. */
	void put(Object request) throws InterruptedException {
		this.requests.put(request);
	}

	/** Queues an acknowledgement; never gives up, since acknowledgements make room. */
	void putUninterruptibly(Object request) {
		boolean interrupted = false;
		while (true) {
			try {
				this.requests.put(request);
				break;
			}
			catch (InterruptedException ex) {
				interrupted = true;
			}
		}
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
	}

	/** Asks the writer to write what is queued, force, and stop; waits for both threads. */
	void close() {
		putUninterruptibly(CLOSE);
		awaitThreads();
	}

	/** Waits for the writer and the completer to finish, unless called on one of them. */
	void awaitThreads() {
		Thread current = Thread.currentThread();
		if (current == this.writer || current == this.completer) {
			return;
		}
		try {
			this.writer.join(TimeUnit.SECONDS.toMillis(30));
			this.completer.join(TimeUnit.SECONDS.toMillis(30));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	String failure() {
		return this.failure;
	}

	String lastError() {
		return this.lastError;
	}

	long pendingCount() {
		return this.pendingCount;
	}

	long oldestPendingMillis() {
		return this.oldestPendingMillis;
	}

	FsyncStats fsyncStats() {
		return this.fsyncStats;
	}

	int segmentCount() {
		return this.segmentCount;
	}

	long diskBytes() {
		return this.diskBytes;
	}

	// ---- writer thread

	private void writeLoop() {
		List<Object> batch = new ArrayList<>(MAX_BATCH);
		long nextForce = System.nanoTime() + this.fsyncIntervalNanos;
		boolean closing = false;
		while (!closing) {
			Object first;
			try {
				if (this.policy == FsyncPolicy.INTERVAL && this.dirty) {
					first = this.requests.poll(Math.max(0, nextForce - System.nanoTime()), TimeUnit.NANOSECONDS);
				}
				else {
					first = this.requests.take();
				}
			}
			catch (InterruptedException ex) {
				continue;
			}
			if (first != null) {
				batch.add(first);
				this.requests.drainTo(batch, MAX_BATCH - 1);
				int close = batch.indexOf(CLOSE);
				if (close >= 0) {
					closing = true;
					List<Object> afterClose = batch.subList(close, batch.size());
					afterClose.remove(0);
					failAppends(new ArrayList<>(afterClose), closedException());
					afterClose.clear();
				}
			}
			try {
				// Acknowledgements alone are not forced: losing one only means a redelivery, and the next append's force covers them
				writeBatch(batch, closing || (this.policy == FsyncPolicy.ALWAYS && containsAppend(batch)));
			}
			catch (RuntimeException | Error ex) {
				// Never leave a publish waiting on a writer that died
				this.failure = "The write-ahead log writer in " + this.directory + " failed (" + ex
						+ "); it accepts no more messages. Messages forced before are kept and replayed on the next start";
				logger.log(System.Logger.Level.ERROR, this.failure, ex);
				failAppends(batch, new MessageStoreException(this.failure, ex));
			}
			batch.clear();
			if (this.policy == FsyncPolicy.INTERVAL && this.dirty && System.nanoTime() - nextForce >= 0) {
				forceQuietly();
				nextForce = System.nanoTime() + this.fsyncIntervalNanos;
			}
		}
		// Whatever slipped in after close is refused
		List<Object> late = new ArrayList<>();
		this.requests.drainTo(late);
		failAppends(late, closedException());
		closeActiveSegment();
		this.completions.add(END);
	}

	private MessageStoreException closedException() {
		return new MessageStoreException("The write-ahead log in " + this.directory + " is closed");
	}

	private static boolean containsAppend(List<Object> batch) {
		for (Object request : batch) {
			if (request instanceof AppendRequest) {
				return true;
			}
		}
		return false;
	}

	private void writeBatch(List<Object> batch, boolean force) {
		String failed = this.failure;
		if (failed != null) {
			failAppends(batch, new MessageStoreException(failed));
			return;
		}
		if (batch.isEmpty() && this.unwrittenAcks.isEmpty() && !(force && this.dirty)) {
			return;
		}
		try {
			rotateIfFull();
		}
		catch (IOException | MessageStoreException ex) {
			// Keep writing to the current segment; the next batch tries again
			this.lastError = "Could not start a new segment in " + this.directory + ": " + ex;
			logger.log(System.Logger.Level.WARNING, this.lastError);
		}
		if (this.failure != null) {
			failAppends(batch, new MessageStoreException(this.failure));
			return;
		}
		Segment segment = this.segments.active();
		long start = segment.size;
		try {
			this.buffer.clear();
			for (Object ack : this.unwrittenAcks) {
				putAck(ack);
			}
			for (Object request : batch) {
				if (request instanceof AppendRequest append) {
					putRecord(append.record);
				}
				else {
					putAck(request);
				}
			}
			flushBuffer();
		}
		catch (IOException ex) {
			writeFailed(batch, segment, start, ex);
			return;
		}
		this.dirty = true;
		if (force) {
			try {
				force();
			}
			catch (IOException ex) {
				// After a failed fsync the kernel may have dropped the dirty pages: nothing written since can be trusted
				this.failure = "The write-ahead log in " + this.directory + " failed to force its segment " + segment.path
						+ " to disk (" + ex + "); it accepts no more messages. Messages forced before are kept "
						+ "and replayed on the next start";
				logger.log(System.Logger.Level.ERROR, this.failure, ex);
				failAppends(batch, new MessageStoreException(this.failure, ex));
				return;
			}
		}
		for (Object ack : this.unwrittenAcks) {
			applyAck(ack);
		}
		this.unwrittenAcks.clear();
		int appends = 0;
		for (Object request : batch) {
			if (request instanceof AppendRequest append) {
				this.index.appended(append.id, segment, append.timestamp, append.names);
				appends++;
			}
			else {
				applyAck(request);
			}
		}
		String notDeleted = this.segments.deleteFinished();
		if (notDeleted != null) {
			this.lastError = notDeleted;
			logger.log(System.Logger.Level.WARNING, notDeleted);
		}
		publishHealth();
		if (appends > 0) {
			AppendRequest[] done = new AppendRequest[appends];
			int i = 0;
			for (Object request : batch) {
				if (request instanceof AppendRequest append) {
					done[i++] = append;
				}
			}
			this.completions.add(done);
		}
	}

	private void putRecord(byte[] record) throws IOException {
		if (record.length > this.buffer.remaining()) {
			flushBuffer();
			if (record.length > this.buffer.capacity()) {
				writeFully(ByteBuffer.wrap(record));
				return;
			}
		}
		this.buffer.put(record);
	}

	private void putAck(Object ack) throws IOException {
		if (ack instanceof RecordFormat.NamedAck named) {
			if (RecordFormat.namedAckRecordBytes(named.name()) > this.buffer.remaining()) {
				flushBuffer();
			}
			RecordFormat.writeNamedAckRecord(this.buffer, named.id(), named.name(), this.crc);
		}
		else {
			if (RecordFormat.ACK_RECORD_BYTES > this.buffer.remaining()) {
				flushBuffer();
			}
			RecordFormat.writeAckRecord(this.buffer, (UUID) ack, this.crc);
		}
	}

	private void applyAck(Object ack) {
		if (ack instanceof RecordFormat.NamedAck named) {
			this.index.acknowledged(named.id(), named.name());
		}
		else {
			this.index.acknowledged((UUID) ack);
		}
	}

	private void flushBuffer() throws IOException {
		this.buffer.flip();
		writeFully(this.buffer);
		this.buffer.clear();
	}

	private void writeFully(ByteBuffer bytes) throws IOException {
		Segment segment = this.segments.active();
		while (bytes.hasRemaining()) {
			segment.size += segment.channel.write(bytes);
		}
	}

	private void force() throws IOException {
		long started = System.nanoTime();
		this.segments.active().channel.force(false);
		this.fsyncStats.record(System.nanoTime() - started);
		this.dirty = false;
	}

	private void forceQuietly() {
		try {
			force();
		}
		catch (IOException ex) {
			this.failure = "The write-ahead log in " + this.directory + " failed to force its segment to disk (" + ex
					+ "); it accepts no more messages. Messages forced before are kept and replayed on the next start";
			logger.log(System.Logger.Level.ERROR, this.failure, ex);
		}
	}

	/** A write failed (a full disk, most often): cut the segment back to before the batch and refuse its appends. */
	private void writeFailed(List<Object> batch, Segment segment, long start, IOException ex) {
		long free = -1;
		try {
			free = Files.getFileStore(this.directory).getUsableSpace();
		}
		catch (IOException ignored) {
			// reported as -1
		}
		String message = "Could not write to the write-ahead log in " + this.directory + ": " + ex.getMessage() + " ("
				+ free + " bytes free on its file system). The message was not logged; messages logged before are kept";
		this.lastError = message;
		logger.log(System.Logger.Level.WARNING, message);
		try {
			segment.channel.truncate(start);
			segment.channel.position(start);
			segment.size = start;
		}
		catch (IOException truncateFailed) {
			this.failure = "The write-ahead log in " + this.directory + " could not cut back a failed write in "
					+ segment.path + " (" + truncateFailed + "); it accepts no more messages";
			logger.log(System.Logger.Level.ERROR, this.failure, truncateFailed);
		}
		long refusedBytes = 0;
		for (Object request : batch) {
			if (request instanceof AppendRequest append) {
				refusedBytes += append.record.length;
			}
			else {
				this.unwrittenAcks.add(request);
			}
		}
		this.budget.release(refusedBytes);
		failAppends(batch, new MessageStoreException(message, ex));
	}

	private void failAppends(List<Object> batch, RuntimeException failure) {
		List<AppendRequest> appends = new ArrayList<>();
		for (Object request : batch) {
			if (request instanceof AppendRequest append) {
				appends.add(append);
			}
		}
		if (!appends.isEmpty()) {
			this.completions.add(new Failed(appends.toArray(new AppendRequest[0]), failure));
		}
	}

	private void rotateIfFull() throws IOException {
		Segment full = this.segments.active();
		if (full.size < this.segmentBytes) {
			return;
		}
		if (this.dirty && this.policy != FsyncPolicy.NEVER) {
			forceQuietly();
			if (this.failure != null) {
				return;
			}
		}
		this.segments.startNext();
		full.channel.close();
		full.channel = null;
	}

	private void closeActiveSegment() {
		try {
			if (this.dirty && this.failure == null) {
				force();
			}
			this.segments.closeActive();
		}
		catch (IOException ex) {
			logger.log(System.Logger.Level.WARNING, "Closing the active write-ahead log segment failed", ex);
			this.segments.closeActiveQuietly();
		}
	}

	private void publishHealth() {
		this.pendingCount = this.index.size();
		this.oldestPendingMillis = this.index.oldestTimestamp();
		this.segmentCount = this.segments.count();
		this.diskBytes = this.segments.bytes();
	}

	// ---- completer thread

	private void completeLoop() {
		while (true) {
			Object item;
			try {
				item = this.completions.take();
			}
			catch (InterruptedException ex) {
				continue;
			}
			if (item == END) {
				return;
			}
			if (item instanceof AppendRequest[] done) {
				for (AppendRequest append : done) {
					append.complete(null);
				}
			}
			else if (item instanceof Failed failed) {
				for (AppendRequest append : failed.appends) {
					append.completeExceptionally(failed.failure);
				}
			}
		}
	}

	private record Failed(AppendRequest[] appends, RuntimeException failure) {
	}

}
