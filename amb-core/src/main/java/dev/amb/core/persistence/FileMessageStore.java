package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import dev.amb.core.BackpressureException;
import dev.amb.core.BackpressurePolicy;
import dev.amb.core.spi.Envelope;

/**
 * A write-ahead log in a directory of segment files (see {@link RecordFormat} for the format).
 * Publishers frame their records on their own threads; one writer thread takes everything queued,
 * writes it with one call and, under {@link FsyncPolicy#ALWAYS}, forces it once (group commit); a
 * second thread completes the publish futures so that callbacks never hold up the next force.
 * Opening the store recovers the log: torn tails are cut off, damaged stretches are reported and
 * skipped, unacknowledged messages are kept for {@link #takeRecovered()}.
 */
public final class FileMessageStore implements MessageStore {

	private static final System.Logger logger = System.getLogger(FileMessageStore.class.getName());

	static final String SEGMENT_SUFFIX = ".wal";

	static final String LOCK_FILE = "amb-wal.lock";

	private static final int MAX_BATCH = 8192;

	private static final int BUFFER_BYTES = 1 << 20;

	private static final int FSYNC_SAMPLES = 1024;

	private static final Object CLOSE = new Object();

	private static final Object END = new Object();

	private final Path directory;

	private final FsyncPolicy policy;

	private final long fsyncIntervalNanos;

	private final long segmentBytes;

	private final long maxDiskBytes;

	private final long capWaitNanos;

	private final LongConsumer fsyncListener;

	private final FileChannel lockChannel;

	private final FileLock lock;

	private final RecoveryReport report;

	private final LinkedBlockingQueue<Object> requests = new LinkedBlockingQueue<>(64 * 1024);

	private final LinkedBlockingQueue<Object> completions = new LinkedBlockingQueue<>();

	private final AtomicLong reservedBytes = new AtomicLong();

	private final Object room = new Object();

	private final Thread writer;

	private final Thread completer;

	// Owned by the writer thread once it started
	private final ArrayDeque<Segment> segments = new ArrayDeque<>();

	private final LinkedHashMap<UUID, Pending> pending = new LinkedHashMap<>();

	private final ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_BYTES);

	private final CRC32C crc = new CRC32C();

	private final List<UUID> unwrittenAcks = new ArrayList<>();

	private final long[] fsyncNanos = new long[FSYNC_SAMPLES];

	private Segment active;

	private long fsyncCount;

	private boolean dirty;

	private List<Envelope> recovered;

	private volatile boolean closed;

	private volatile String failure;

	private volatile String lastError;

	private volatile long pendingCount;

	private volatile long oldestPendingMillis;

	private volatile long lastFsync;

	private volatile int segmentCount;

	private volatile long diskBytes;

	private FileMessageStore(Builder builder) {
		this.directory = builder.directory.toAbsolutePath().normalize();
		this.policy = builder.policy;
		this.fsyncIntervalNanos = builder.fsyncInterval.toNanos();
		this.maxDiskBytes = builder.maxDiskBytes;
		// A cap of a few segments at least, so that acknowledged segments can always be deleted to make room
		this.segmentBytes = Math.max(4096, Math.min(builder.segmentBytes, builder.maxDiskBytes / 4));
		this.capWaitNanos = builder.capWait.toNanos();
		this.fsyncListener = builder.fsyncListener;
		createDirectory();
		this.lockChannel = openLockFile();
		try {
			this.lock = lockDirectory();
			this.report = recover();
			this.active = createSegment((this.segments.isEmpty()) ? 1 : this.segments.peekLast().number + 1);
			publishHealth();
		}
		catch (RuntimeException ex) {
			closeQuietly();
			throw ex;
		}
		this.writer = new Thread(this::writeLoop, "amb-wal-writer");
		this.writer.setDaemon(true);
		this.completer = new Thread(this::completeLoop, "amb-wal-completer");
		this.completer.setDaemon(true);
		this.writer.start();
		this.completer.start();
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
		ensureWritable();
		byte[] record = RecordFormat.appendRecord(envelope);
		reserve(record.length);
		Append append = new Append(record, envelope.id(), envelope.timestamp());
		try {
			this.requests.put(append);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.reservedBytes.addAndGet(-record.length);
			throw new MessageStoreException("Interrupted while queueing a message for the write-ahead log", ex);
		}
		if (this.closed) {
			// Closed while queueing: the writer may have gone before it saw this append, so make sure it is answered
			awaitThreads();
			append.completeExceptionally(new MessageStoreException("The write-ahead log in " + this.directory + " is closed"));
		}
		return append;
	}

	private void awaitThreads() {
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

	@Override
	public void acknowledge(UUID id) {
		if (this.closed) {
			// Left pending, so it is replayed after the restart: at-least-once
			return;
		}
		this.reservedBytes.addAndGet(RecordFormat.ACK_RECORD_BYTES);
		boolean interrupted = false;
		while (true) {
			try {
				this.requests.put(id);
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

	@Override
	public synchronized List<Envelope> takeRecovered() {
		List<Envelope> taken = (this.recovered != null) ? this.recovered : List.of();
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
		long oldest = this.oldestPendingMillis;
		Duration oldestAge = (oldest > 0) ? Duration.ofMillis(Math.max(0, System.currentTimeMillis() - oldest))
				: Duration.ZERO;
		return new StoreHealth(!this.closed && this.failure == null, this.policy, this.pendingCount, oldestAge,
				Duration.ofNanos(this.lastFsync), Duration.ofNanos(p99Fsync()), fsyncs(), free, this.report.corruptRecords(),
				this.segmentCount, this.diskBytes, this.maxDiskBytes,
				(this.failure != null) ? this.failure : this.lastError);
	}

	private long fsyncs() {
		synchronized (this.fsyncNanos) {
			return this.fsyncCount;
		}
	}

	private long p99Fsync() {
		long count;
		long[] samples;
		synchronized (this.fsyncNanos) {
			count = Math.min(this.fsyncCount, FSYNC_SAMPLES);
			samples = Arrays.copyOf(this.fsyncNanos, (int) count);
		}
		if (count == 0) {
			return 0;
		}
		Arrays.sort(samples);
		return samples[(int) Math.max(0, Math.ceil(count * 0.99) - 1)];
	}

	@Override
	public void close() {
		synchronized (this) {
			if (this.closed) {
				return;
			}
			this.closed = true;
		}
		boolean interrupted = false;
		while (true) {
			try {
				this.requests.put(CLOSE);
				break;
			}
			catch (InterruptedException ex) {
				interrupted = true;
			}
		}
		try {
			this.writer.join(TimeUnit.SECONDS.toMillis(30));
			this.completer.join(TimeUnit.SECONDS.toMillis(30));
		}
		catch (InterruptedException ex) {
			interrupted = true;
		}
		closeQuietly();
		if (interrupted) {
			Thread.currentThread().interrupt();
		}
	}

	private void ensureWritable() {
		if (this.closed) {
			throw new MessageStoreException("The write-ahead log in " + this.directory + " is closed");
		}
		String failed = this.failure;
		if (failed != null) {
			throw new MessageStoreException(failed);
		}
	}

	/** Takes room under the disk-usage cap, waiting for acknowledged segments to be deleted if needed. */
	private void reserve(int bytes) {
		if (this.reservedBytes.addAndGet(bytes) <= this.maxDiskBytes) {
			return;
		}
		this.reservedBytes.addAndGet(-bytes);
		long deadline = System.nanoTime() + this.capWaitNanos;
		synchronized (this.room) {
			while (true) {
				long used = this.reservedBytes.get();
				if (used + bytes <= this.maxDiskBytes) {
					if (this.reservedBytes.compareAndSet(used, used + bytes)) {
						return;
					}
					continue;
				}
				long remaining = deadline - System.nanoTime();
				if (remaining <= 0 || this.closed) {
					throw new BackpressureException("The write-ahead log in " + this.directory + " is at its disk-usage cap of "
							+ this.maxDiskBytes + " bytes (amb.persistence.max-disk-size): " + used + " bytes hold "
							+ this.pendingCount + " unacknowledged messages; a " + bytes
							+ "-byte record did not fit within " + Duration.ofNanos(this.capWaitNanos).toMillis()
							+ " ms. Nothing was lost; the publish was refused", null, BackpressurePolicy.BLOCK);
				}
				try {
					TimeUnit.NANOSECONDS.timedWait(this.room, Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(50)));
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					throw new MessageStoreException("Interrupted while waiting for room in the write-ahead log", ex);
				}
			}
		}
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
		List<Append> refused = new ArrayList<>();
		for (Object request : late) {
			if (request instanceof Append append) {
				refused.add(append);
			}
		}
		if (!refused.isEmpty()) {
			this.completions.add(new Failed(refused.toArray(new Append[0]), closedException()));
		}
		closeSegments();
		this.completions.add(END);
	}

	private MessageStoreException closedException() {
		return new MessageStoreException("The write-ahead log in " + this.directory + " is closed");
	}

	private static boolean containsAppend(List<Object> batch) {
		for (Object request : batch) {
			if (request instanceof Append) {
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
		Segment segment = this.active;
		long start = segment.size;
		try {
			this.buffer.clear();
			for (UUID id : this.unwrittenAcks) {
				putAck(id);
			}
			for (Object request : batch) {
				if (request instanceof Append append) {
					putRecord(append.record);
				}
				else {
					putAck((UUID) request);
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
		for (UUID id : this.unwrittenAcks) {
			applyAck(id);
		}
		this.unwrittenAcks.clear();
		int appends = 0;
		for (Object request : batch) {
			if (request instanceof Append append) {
				Pending previous = this.pending.put(append.id, new Pending(segment, append.timestamp));
				if (previous != null) {
					// The same id logged twice: the later record stands for both
					previous.segment.pending--;
				}
				segment.pending++;
				appends++;
			}
			else {
				applyAck((UUID) request);
			}
		}
		deleteFinishedSegments();
		publishHealth();
		if (appends > 0) {
			Append[] done = new Append[appends];
			int i = 0;
			for (Object request : batch) {
				if (request instanceof Append append) {
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

	private void putAck(UUID id) throws IOException {
		if (RecordFormat.ACK_RECORD_BYTES > this.buffer.remaining()) {
			flushBuffer();
		}
		RecordFormat.writeAckRecord(this.buffer, id, this.crc);
	}

	private void flushBuffer() throws IOException {
		this.buffer.flip();
		writeFully(this.buffer);
		this.buffer.clear();
	}

	private void writeFully(ByteBuffer bytes) throws IOException {
		Segment segment = this.active;
		while (bytes.hasRemaining()) {
			segment.size += segment.channel.write(bytes);
		}
	}

	private void force() throws IOException {
		long started = System.nanoTime();
		this.active.channel.force(false);
		long took = System.nanoTime() - started;
		this.lastFsync = took;
		synchronized (this.fsyncNanos) {
			this.fsyncNanos[(int) (this.fsyncCount % FSYNC_SAMPLES)] = took;
			this.fsyncCount++;
		}
		if (this.fsyncListener != null) {
			try {
				this.fsyncListener.accept(took);
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.WARNING, "The fsync listener failed", ex);
			}
		}
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
			if (request instanceof Append append) {
				refusedBytes += append.record.length;
			}
			else {
				this.unwrittenAcks.add((UUID) request);
			}
		}
		this.reservedBytes.addAndGet(-refusedBytes);
		failAppends(batch, new MessageStoreException(message, ex));
	}

	private void failAppends(List<Object> batch, RuntimeException failure) {
		List<Append> appends = new ArrayList<>();
		for (Object request : batch) {
			if (request instanceof Append append) {
				appends.add(append);
			}
		}
		if (!appends.isEmpty()) {
			this.completions.add(new Failed(appends.toArray(new Append[0]), failure));
		}
	}

	private void applyAck(UUID id) {
		Pending entry = this.pending.remove(id);
		if (entry != null) {
			entry.segment.pending--;
		}
	}

	private void rotateIfFull() throws IOException {
		if (this.active.size < this.segmentBytes) {
			return;
		}
		if (this.dirty && this.policy != FsyncPolicy.NEVER) {
			forceQuietly();
			if (this.failure != null) {
				return;
			}
		}
		Segment next = createSegment(this.active.number + 1);
		this.active.channel.close();
		this.active.channel = null;
		this.active = next;
	}

	private void deleteFinishedSegments() {
		while (this.segments.size() > 1) {
			Segment oldest = this.segments.peekFirst();
			if (oldest == this.active || oldest.pending > 0) {
				return;
			}
			try {
				Files.deleteIfExists(oldest.path);
			}
			catch (IOException ex) {
				this.lastError = "Could not delete the acknowledged segment " + oldest.path + ": " + ex;
				logger.log(System.Logger.Level.WARNING, this.lastError);
				return;
			}
			this.segments.pollFirst();
			this.reservedBytes.addAndGet(-oldest.size);
			synchronized (this.room) {
				this.room.notifyAll();
			}
		}
	}

	private void publishHealth() {
		this.pendingCount = this.pending.size();
		Iterator<Pending> oldest = this.pending.values().iterator();
		this.oldestPendingMillis = oldest.hasNext() ? Math.max(1, oldest.next().timestamp) : 0;
		this.segmentCount = this.segments.size();
		long bytes = 0;
		for (Segment segment : this.segments) {
			bytes += segment.size;
		}
		this.diskBytes = bytes;
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
			if (item instanceof Append[] done) {
				for (Append append : done) {
					append.complete(null);
				}
			}
			else if (item instanceof Failed failed) {
				for (Append append : failed.appends) {
					append.completeExceptionally(failed.failure);
				}
			}
		}
	}

	// ---- opening and recovery

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
					+ describe(ex) + "; amb.persistence.dir must name a directory this process can create and write",
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
					+ describe(ex) + "; amb.persistence.dir must name a directory this process can write", ex);
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
			throw new MessageStoreException("Cannot lock the write-ahead log in " + this.directory + ": " + describe(ex), ex);
		}
	}

	private RecoveryReport recover() {
		List<Path> files;
		try (Stream<Path> listing = Files.list(this.directory)) {
			files = listing.filter((path) -> isSegmentName(path.getFileName().toString())).sorted().toList();
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot list the write-ahead log directory " + this.directory + ": "
					+ describe(ex), ex);
		}
		checkFormatVersions(files);
		List<LogDamage> damage = new ArrayList<>();
		LinkedHashMap<UUID, Recovered> unacknowledged = new LinkedHashMap<>();
		long records = 0;
		for (int i = 0; i < files.size(); i++) {
			records += scanSegment(files.get(i), i == files.size() - 1, unacknowledged, damage);
		}
		for (LogDamage entry : damage) {
			logger.log(System.Logger.Level.WARNING, "Write-ahead log recovery: " + entry.kind().name().toLowerCase(Locale.ROOT)
					+ " in " + entry.segment() + " at offset " + entry.offset() + ", " + entry.length() + " bytes: "
					+ entry.reason());
		}
		List<Envelope> envelopes = new ArrayList<>(unacknowledged.size());
		for (Map.Entry<UUID, Recovered> entry : unacknowledged.entrySet()) {
			envelopes.add(entry.getValue().envelope);
			this.pending.put(entry.getKey(), new Pending(entry.getValue().segment, entry.getValue().envelope.timestamp()));
		}
		this.recovered = envelopes;
		long used = 0;
		for (Segment segment : this.segments) {
			used += segment.size;
		}
		this.reservedBytes.set(used);
		// Every existing segment is closed now; the prefix that holds nothing pending can go
		Segment sentinel = new Segment(Long.MAX_VALUE, null);
		this.active = sentinel;
		this.segments.addLast(sentinel);
		deleteFinishedSegments();
		this.segments.removeLast();
		RecoveryReport result = new RecoveryReport(files.size(), records, envelopes.size(), damage);
		if (!files.isEmpty()) {
			logger.log(System.Logger.Level.INFO, "Write-ahead log in " + this.directory + " recovered: " + files.size()
					+ " segments, " + records + " records, " + envelopes.size() + " unacknowledged messages, "
					+ result.corruptRecords() + " corrupt stretches, " + result.tornBytes() + " torn bytes cut off");
		}
		return result;
	}

	private void checkFormatVersions(List<Path> files) {
		for (Path file : files) {
			try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
				ByteBuffer header = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
				while (header.hasRemaining() && channel.read(header) >= 0) {
					// read the whole header if it is there
				}
				if (header.position() >= 6 && header.getInt(0) == RecordFormat.SEGMENT_MAGIC) {
					int version = header.getShort(4) & 0xFFFF;
					if (version > RecordFormat.FORMAT_VERSION) {
						throw new MessageStoreException("The write-ahead log segment " + file + " has format version "
								+ version + ", newer than the version " + RecordFormat.FORMAT_VERSION
								+ " this AMB reads. Open it with the AMB release that wrote it, or move the directory "
								+ "aside; nothing was changed");
					}
				}
			}
			catch (IOException ex) {
				throw new MessageStoreException("Cannot read the write-ahead log segment " + file + ": " + describe(ex), ex);
			}
		}
	}

	private long scanSegment(Path file, boolean newest, Map<UUID, Recovered> unacknowledged, List<LogDamage> damage) {
		String name = file.getFileName().toString();
		long number = Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
		long records = 0;
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
			long fileSize = channel.size();
			if (fileSize > Integer.MAX_VALUE) {
				throw new MessageStoreException("The write-ahead log segment " + file + " is " + fileSize
						+ " bytes, more than a segment can be; it was not written by AMB");
			}
			int limit = (int) fileSize;
			if (limit < RecordFormat.SEGMENT_HEADER_BYTES) {
				// Created, then the process died before its header reached the disk
				damage.add(new LogDamage(name, 0, limit, newest ? LogDamage.Kind.TORN_TAIL : LogDamage.Kind.CORRUPT,
						"the segment is shorter than its header; removed"));
				channel.close();
				Files.delete(file);
				return 0;
			}
			// Read, not mapped: a mapping would keep a deleted segment's space until the garbage collector ran
			ByteBuffer data = ByteBuffer.allocate(limit);
			while (data.hasRemaining() && channel.read(data, data.position()) >= 0) {
				// read the whole segment
			}
			data.clear();
			if (data.getInt(0) != RecordFormat.SEGMENT_MAGIC) {
				damage.add(new LogDamage(name, 0, RecordFormat.SEGMENT_HEADER_BYTES, LogDamage.Kind.CORRUPT,
						"the segment header is damaged; reading its records anyway"));
			}
			Segment segment = new Segment(number, file);
			segment.size = limit;
			CRC32C check = new CRC32C();
			int position = RecordFormat.SEGMENT_HEADER_BYTES;
			while (position < limit) {
				int length = RecordFormat.intactRecordLength(data, position, limit, check);
				if (length > 0) {
					records++;
					readRecord(data, position, length, segment, unacknowledged, damage);
					position += length;
					continue;
				}
				int next = nextIntactRecord(data, position + 1, limit, check);
				if (next < 0) {
					if (newest) {
						damage.add(new LogDamage(name, position, limit - position, LogDamage.Kind.TORN_TAIL,
								"a partial write at the end of the log; cut off"));
						channel.truncate(position);
						segment.size = position;
					}
					else {
						damage.add(new LogDamage(name, position, limit - position, LogDamage.Kind.CORRUPT,
								"no intact record follows in this segment"));
					}
					break;
				}
				damage.add(new LogDamage(name, position, next - position, LogDamage.Kind.CORRUPT,
						"bytes failed their checksum; skipped to the next intact record"));
				position = next;
			}
			this.segments.addLast(segment);
			return records;
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot read the write-ahead log segment " + file + ": " + describe(ex), ex);
		}
	}

	private static int nextIntactRecord(ByteBuffer data, int from, int limit, CRC32C check) {
		byte first = (byte) (RecordFormat.RECORD_MARKER >>> 24);
		for (int position = from; position <= limit - RecordFormat.RECORD_HEADER_BYTES; position++) {
			if (data.get(position) == first && RecordFormat.intactRecordLength(data, position, limit, check) > 0) {
				return position;
			}
		}
		return -1;
	}

	private static void readRecord(ByteBuffer data, int position, int length, Segment segment,
			Map<UUID, Recovered> unacknowledged, List<LogDamage> damage) {
		byte type = data.get(position + 12);
		int body = position + RecordFormat.RECORD_HEADER_BYTES;
		int bodyLength = length - RecordFormat.RECORD_HEADER_BYTES;
		if (type == RecordFormat.TYPE_APPEND) {
			try {
				Envelope envelope = RecordFormat.readEnvelope(data, body, bodyLength);
				if (!unacknowledged.containsKey(envelope.id())) {
					unacknowledged.put(envelope.id(), new Recovered(envelope, segment));
					segment.pending++;
				}
			}
			catch (IllegalArgumentException ex) {
				damage.add(new LogDamage(segment.path.getFileName().toString(), position, length,
						LogDamage.Kind.CORRUPT, "an intact record that holds no readable envelope: " + ex.getMessage()));
			}
		}
		else if (type == RecordFormat.TYPE_ACK && bodyLength == RecordFormat.ACK_BODY_BYTES) {
			Recovered acknowledged = unacknowledged.remove(RecordFormat.readAck(data, body));
			if (acknowledged != null) {
				acknowledged.segment.pending--;
			}
		}
		else {
			damage.add(new LogDamage(segment.path.getFileName().toString(), position, length, LogDamage.Kind.CORRUPT,
					"an intact record of unknown type " + type));
		}
	}

	private Segment createSegment(long number) {
		Path path = this.directory.resolve(String.format(Locale.ROOT, "%020d%s", number, SEGMENT_SUFFIX));
		FileChannel channel = null;
		try {
			channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
			ByteBuffer header = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
			RecordFormat.writeSegmentHeader(header, number);
			header.flip();
			while (header.hasRemaining()) {
				channel.write(header);
			}
			if (this.policy == FsyncPolicy.ALWAYS) {
				channel.force(true);
				forceDirectory();
			}
		}
		catch (FileAlreadyExistsException ex) {
			closeQuietly(channel);
			throw new MessageStoreException("The write-ahead log segment " + path + " exists already; "
					+ "is another process writing to " + this.directory + "?", ex);
		}
		catch (IOException ex) {
			closeQuietly(channel);
			try {
				Files.deleteIfExists(path);
			}
			catch (IOException ignored) {
				// the next recovery reports and removes a headerless segment
			}
			throw new MessageStoreException("Cannot create a segment in the write-ahead log directory " + this.directory
					+ ": " + describe(ex), ex);
		}
		Segment segment = new Segment(number, path);
		segment.channel = channel;
		segment.size = RecordFormat.SEGMENT_HEADER_BYTES;
		this.segments.addLast(segment);
		this.reservedBytes.addAndGet(RecordFormat.SEGMENT_HEADER_BYTES);
		return segment;
	}

	/** Makes a new segment's directory entry durable, so that a forced segment is found after a power loss. */
	private void forceDirectory() {
		try (FileChannel channel = FileChannel.open(this.directory, StandardOpenOption.READ)) {
			channel.force(true);
		}
		catch (IOException ex) {
			// Some platforms cannot open a directory; the file's own force is what they offer
		}
	}

	private void closeSegments() {
		Segment segment = this.active;
		if (segment != null && segment.channel != null) {
			try {
				if (this.dirty && this.failure == null) {
					force();
				}
				segment.channel.close();
			}
			catch (IOException ex) {
				logger.log(System.Logger.Level.WARNING, "Closing the write-ahead log segment " + segment.path + " failed", ex);
			}
			segment.channel = null;
		}
	}

	private void closeQuietly() {
		if (this.active != null && this.active.channel != null) {
			closeQuietly(this.active.channel);
		}
		closeQuietly(this.lockChannel);
	}

	private static void closeQuietly(FileChannel channel) {
		if (channel != null) {
			try {
				channel.close();
			}
			catch (IOException ignored) {
				// closing is best effort
			}
		}
	}

	private static boolean isSegmentName(String name) {
		if (!name.endsWith(SEGMENT_SUFFIX) || name.length() != 20 + SEGMENT_SUFFIX.length()) {
			return false;
		}
		for (int i = 0; i < 20; i++) {
			if (!Character.isDigit(name.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	private static String describe(IOException ex) {
		String reason = ex.getMessage();
		if (ex instanceof java.nio.file.FileSystemException fileSystem && fileSystem.getReason() != null) {
			reason = fileSystem.getFile() + ": " + fileSystem.getReason();
		}
		return ex.getClass().getSimpleName() + " (" + reason + ")";
	}

	@Override
	public String toString() {
		return "FileMessageStore[" + this.directory + ", " + this.policy + "]";
	}

	/** One segment file. */
	private static final class Segment {

		final long number;

		final Path path;

		FileChannel channel;

		long size;

		int pending;

		Segment(long number, Path path) {
			this.number = number;
			this.path = path;
		}

	}

	/** A message not yet acknowledged, and where it is. */
	private record Pending(Segment segment, long timestamp) {
	}

	private record Recovered(Envelope envelope, Segment segment) {
	}

	/** An append on its way to the disk; it is its own publish future, to save an allocation. */
	private static final class Append extends CompletableFuture<Void> {

		final byte[] record;

		final UUID id;

		final long timestamp;

		Append(byte[] record, UUID id, long timestamp) {
			this.record = record;
			this.id = id;
			this.timestamp = timestamp;
		}

	}

	private record Failed(Append[] appends, RuntimeException failure) {
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
