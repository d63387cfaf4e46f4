package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

import dev.amb.core.spi.Envelope;

/**
 * A write-ahead log in a directory of segment files (see {@link RecordFormat} for the format).
 * Publishers frame their records on their own threads; one writer thread takes everything queued,
 * writes it with one call and, under {@link FsyncPolicy#ALWAYS}, forces it once (group commit); a
 * second thread completes the publish futures so that callbacks never hold up the next force.
 * Opening the store recovers the log: torn tails are cut off, damaged stretches are reported and
 * skipped, unfinished messages are kept for {@link #takeRecovered()}, each with the durable names
 * that have not acknowledged it.
 * <p>
 * The work is split by responsibility: {@link Segments} (files, rotation, deletion),
 * {@link LogWriter} (the group-commit writer), {@link LogRecovery} (reading the log at start),
 * {@link PendingIndex} (what is unfinished, and for whom), {@link DiskBudget} (the cap) and
 * {@link FsyncStats}.
 */
public final class FileMessageStore implements MessageStore {

	static final String LOCK_FILE = "amb-wal.lock";

	private final Path directory;

	private final FsyncPolicy policy;

	private final DiskBudget budget;

	private final FileChannel lockChannel;

	private final FileLock lock;

	private final RecoveryReport report;

	private final LogWriter writer;

	private List<RecoveredMessage> recovered;

	private volatile boolean closed;

	private FileMessageStore(Builder builder) {
		this.directory = builder.directory.toAbsolutePath().normalize();
		this.policy = builder.policy;
		// A cap of a few segments at least, so that acknowledged segments can always be deleted to make room
		long segmentBytes = Math.max(4096, Math.min(builder.segmentBytes, builder.maxDiskBytes / 4));
		this.budget = new DiskBudget(this.directory, builder.maxDiskBytes, builder.capWait);
		createDirectory();
		this.lockChannel = openLockFile();
		Segments segments = new Segments(this.directory, this.policy, this.budget);
		try {
			this.lock = lockDirectory();
			PendingIndex index = new PendingIndex();
			this.report = new LogRecovery(this.directory, segments, index).recover(this.budget);
			this.recovered = index.takeRecovered();
			segments.startNext();
			this.writer = new LogWriter(this.directory, this.policy, builder.fsyncInterval.toNanos(), segmentBytes,
					builder.fsyncListener, this.budget, segments, index);
		}
		catch (RuntimeException ex) {
			segments.closeActiveQuietly();
			IoSupport.closeQuietly(this.lockChannel);
			throw ex;
		}
		this.writer.start();
	}

	/**
	 * Opens (and recovers) a log with the defaults: {@link FsyncPolicy#ALWAYS}, 64 MiB segments, a
	 * 1 GiB cap.
	 * @param directory the log's directory, created if missing
	 * @return the store
	 * @throws MessageStoreException if the directory cannot be used
	 */
	public static FileMessageStore open(Path directory) {
		return builder(directory).build();
	}

	/**
	 * A builder for a log in a directory.
	 * @param directory the log's directory, created if missing
	 * @return the builder
	 */
	public static Builder builder(Path directory) {
		return new Builder(directory);
	}

	@Override
	public CompletableFuture<Void> append(Envelope envelope) {
		return queueAppend(envelope, null);
	}

	@Override
	public CompletableFuture<Void> append(Envelope envelope, String[] durableNames) {
		return queueAppend(envelope, Objects.requireNonNull(durableNames, "durableNames must not be null"));
	}

	private CompletableFuture<Void> queueAppend(Envelope envelope, String[] names) {
		ensureWritable();
		byte[] record = RecordFormat.appendRecord(envelope, names);
		this.budget.reserve(record.length, this.writer::pendingCount, () -> this.closed);
		AppendRequest append = new AppendRequest(record, envelope.id(), envelope.timestamp(), names);
		try {
			this.writer.put(append);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.budget.release(record.length);
			throw new MessageStoreException("Interrupted while queueing a message for the write-ahead log", ex);
		}
		if (this.closed) {
			// Closed while queueing: the writer may have gone before it saw this append, so make sure it is answered
			this.writer.awaitThreads();
			append.completeExceptionally(new MessageStoreException("The write-ahead log in " + this.directory + " is closed"));
		}
		return append;
	}

	@Override
	public void acknowledge(UUID id) {
		if (this.closed) {
			// Left pending, so it is replayed after the restart: at-least-once
			return;
		}
		this.budget.add(RecordFormat.ACK_RECORD_BYTES);
		this.writer.putUninterruptibly(id);
	}

	@Override
	public void acknowledge(UUID id, String durableName) {
		if (this.closed) {
			return;
		}
		this.budget.add(RecordFormat.namedAckRecordBytes(durableName));
		this.writer.putUninterruptibly(new RecordFormat.NamedAck(id, durableName));
	}

	@Override
	public synchronized List<RecoveredMessage> takeRecovered() {
		List<RecoveredMessage> taken = (this.recovered != null) ? this.recovered : List.of();
		this.recovered = null;
		return taken;
	}

	@Override
	public RecoveryReport recoveryReport() {
		return this.report;
	}

	/** @return the log's directory */
	public Path directory() {
		return this.directory;
	}

	/** @return the fsync policy */
	public FsyncPolicy policy() {
		return this.policy;
	}

	@Override
	public StoreHealth health() {
		long free;
		try {
			free = Files.getFileStore(this.directory).getUsableSpace();
		}
		catch (IOException ex) {
			free = -1;
		}
		long oldest = this.writer.oldestPendingMillis();
		Duration oldestAge = (oldest > 0) ? Duration.ofMillis(Math.max(0, System.currentTimeMillis() - oldest))
				: Duration.ZERO;
		String failure = this.writer.failure();
		FsyncStats fsyncs = this.writer.fsyncStats();
		return new StoreHealth(!this.closed && failure == null, this.policy, this.writer.pendingCount(), oldestAge,
				Duration.ofNanos(fsyncs.lastNanos()), Duration.ofNanos(fsyncs.p99Nanos()), fsyncs.count(), free, this.report.corruptRecords(), this.writer.segmentCount(),
				this.writer.diskBytes(), this.budget.maxBytes(), (failure != null) ? failure : this.writer.lastError());
	}

	@Override
	public void close() {
		synchronized (this) {
			if (this.closed) {
				return;
			}
			this.closed = true;
		}
		this.writer.close();
		IoSupport.closeQuietly(this.lockChannel);
	}

	private void ensureWritable() {
		if (this.closed) {
			throw new MessageStoreException("The write-ahead log in " + this.directory + " is closed");
		}
		String failed = this.writer.failure();
		if (failed != null) {
			throw new MessageStoreException(failed);
		}
	}

	// ---- opening

	private void createDirectory() {
		if (Files.exists(this.directory) && !Files.isDirectory(this.directory)) {
			throw new MessageStoreException("The write-ahead log directory " + this.directory
					+ " exists but is not a directory; amb.persistence.dir must name a directory");
		}
		try {
			Files.createDirectories(this.directory);
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot create the write-ahead log directory " + this.directory + ": "
					+ IoSupport.describe(ex) + "; amb.persistence.dir must name a directory this process can create and write",
					ex);
		}
	}

	private FileChannel openLockFile() {
		try {
			// An existing lock file opens even in a directory that no longer takes new files: probe it
			Path probe = this.directory.resolve(".amb-wal-probe");
			Files.deleteIfExists(probe);
			Files.delete(Files.createFile(probe));
			return FileChannel.open(this.directory.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
		}
		catch (IOException ex) {
			throw new MessageStoreException("The write-ahead log directory " + this.directory + " is not writable: "
					+ IoSupport.describe(ex) + "; amb.persistence.dir must name a directory this process can write", ex);
		}
	}

	private FileLock lockDirectory() {
		try {
			FileLock acquired = this.lockChannel.tryLock();
			if (acquired == null) {
				throw new MessageStoreException("The write-ahead log in " + this.directory
						+ " is in use by another process; each bus needs its own amb.persistence.dir");
			}
			return acquired;
		}
		catch (OverlappingFileLockException ex) {
			throw new MessageStoreException("The write-ahead log in " + this.directory
					+ " is already open in this process; each bus needs its own amb.persistence.dir", ex);
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot lock the write-ahead log in " + this.directory + ": "
					+ IoSupport.describe(ex), ex);
		}
	}

	@Override
	public String toString() {
		return "FileMessageStore[" + this.directory + ", " + this.policy + "]";
	}

	/**
	 * Builds a {@link FileMessageStore}.
	 */
	public static final class Builder {

		private final Path directory;

		private FsyncPolicy policy = FsyncPolicy.ALWAYS;

		private Duration fsyncInterval = Duration.ofSeconds(1);

		private long segmentBytes = 64L * 1024 * 1024;

		private long maxDiskBytes = 1024L * 1024 * 1024;

		private Duration capWait = Duration.ofSeconds(5);

		private LongConsumer fsyncListener;

		private Builder(Path directory) {
			this.directory = Objects.requireNonNull(directory, "directory must not be null");
		}

		/** When records are forced to disk; {@link FsyncPolicy#ALWAYS} by default. */
		public Builder fsync(FsyncPolicy policy) {
			this.policy = Objects.requireNonNull(policy, "policy must not be null");
			return this;
		}

		/** How often {@link FsyncPolicy#INTERVAL} forces; 1 s by default. */
		public Builder fsyncInterval(Duration interval) {
			Objects.requireNonNull(interval, "interval must not be null");
			if (interval.isNegative() || interval.isZero()) {
				throw new IllegalArgumentException("fsyncInterval must be positive, was " + interval);
			}
			this.fsyncInterval = interval;
			return this;
		}

		/** The size at which a new segment starts; 64 MiB by default, at most a quarter of the cap. */
		public Builder segmentBytes(long segmentBytes) {
			if (segmentBytes < 4096 || segmentBytes > 1024L * 1024 * 1024) {
				throw new IllegalArgumentException("segmentBytes must be between 4 KiB and 1 GiB, was " + segmentBytes);
			}
			this.segmentBytes = segmentBytes;
			return this;
		}

		/** The most disk the log may use; publishes wait, then fail, above it. 1 GiB by default. */
		public Builder maxDiskBytes(long maxDiskBytes) {
			if (maxDiskBytes < 16 * 1024) {
				throw new IllegalArgumentException("maxDiskBytes must be at least 16 KiB, was " + maxDiskBytes);
			}
			this.maxDiskBytes = maxDiskBytes;
			return this;
		}

		/** How long a publish waits for room at the cap before it fails; 5 s by default. */
		public Builder capWait(Duration capWait) {
			Objects.requireNonNull(capWait, "capWait must not be null");
			if (capWait.isNegative()) {
				throw new IllegalArgumentException("capWait must not be negative, was " + capWait);
			}
			this.capWait = capWait;
			return this;
		}

		/**
		 * Told how long each force took, in nanoseconds, for a metrics timer; called on the writer
		 * thread, so it must be quick. None by default.
		 */
		public Builder fsyncListener(LongConsumer listener) {
			this.fsyncListener = listener;
			return this;
		}

		/**
		 * Opens the directory and recovers the log.
		 * @return the store
		 * @throws MessageStoreException if the directory cannot be used
		 */
		public FileMessageStore build() {
			return new FileMessageStore(this);
		}

	}

}
