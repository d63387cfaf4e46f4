package dev.amb.benchmarks.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.FsyncPolicy;

/**
 * Durable publish throughput under {@link FsyncPolicy#ALWAYS} with many publishes in flight,
 * beside two raw bounds measured in the same run on the same disk:
 * <ul>
 * <li>{@code rawGroupCommitBound}: one thread writes {@value #IN_FLIGHT} records of the same size
 * with a plain {@link FileChannel} and forces once, as a group commit of that many publishes would;</li>
 * <li>{@code rawGroupCommitBoundWithAcks}: the same with the bytes a message takes when one
 * group subscription handles it (its record, which names the group, and the group's
 * acknowledgement record);</li>
 * <li>{@code rawFsyncPerMessage}: one record written and forced at a time.</li>
 * </ul>
 * {@code durablePublish}: {@value #THREADS} publisher threads, each with {@value #WINDOW} publishes in
 * flight ({@value #IN_FLIGHT} in all), through a {@link DefaultMessageBus} with the in-memory
 * backend and a {@link FileMessageStore}; an operation is one publish whose future completed, so
 * its record was forced. There is no subscription, so no acknowledgement is written.
 * {@code durablePublishWithGroup}: the same with one group subscription ({@value #GROUP}) that
 * handles every message, so each record names the group and each handled message adds an
 * acknowledgement record for it, written by the same writer thread between the appends. Files go under {@code -Damb.bench.dir} (default {@code target/wal-bench}
 * in the working directory): put it on the disk you want to measure, not on a tmpfs.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class WalBenchmark {

	static final int THREADS = 16;

	static final int WINDOW = 16;

	static final int IN_FLIGHT = THREADS * WINDOW;

	/** 200 characters: about 200 bytes of JSON, a short agent message. */
	static final String PAYLOAD = "x".repeat(200);

	static final String TOPIC = "bench.wal";

	static final String GROUP = "bench";

	static Path benchDirectory(String prefix) throws IOException {
		Path base = Path.of(System.getProperty("amb.bench.dir", "target/wal-bench")).toAbsolutePath();
		Files.createDirectories(base);
		return Files.createTempDirectory(base, prefix);
	}

	static void delete(Path directory) throws IOException {
		if (directory == null || !Files.exists(directory)) {
			return;
		}
		try (Stream<Path> files = Files.walk(directory)) {
			for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
				Files.deleteIfExists(file);
			}
		}
	}

	/**
	 * The size of one logged publish on disk, measured by logging one: what the raw bounds write per
	 * message. With a group subscription, the record names the group and the message is handled and
	 * acknowledged for it, so the size includes the acknowledgement record.
	 * @param withGroup whether a group subscription handles the message
	 * @return the bytes written to the log for one message
	 */
	static int recordBytes(boolean withGroup) throws Exception {
		Path directory = benchDirectory("measure");
		try {
			try (FileMessageStore store = FileMessageStore.open(directory)) {
				DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
				if (withGroup) {
					subscribeGroup(bus, new LongAdder());
				}
				bus.publish(TOPIC, PAYLOAD).get();
				awaitAcknowledged(bus);
				bus.close();
			}
			long total = 0;
			try (Stream<Path> files = Files.list(directory)) {
				for (Path file : files.filter((file) -> file.toString().endsWith(".wal")).toList()) {
					total += Files.size(file) - 16;
				}
			}
			return (int) total;
		}
		finally {
			delete(directory);
		}
	}

	static void subscribeGroup(DefaultMessageBus bus, LongAdder handled) {
		bus.subscribe(TOPIC, String.class, (message) -> handled.increment(),
				SubscribeOptions.builder().group(GROUP).build());
	}

	/**
	 * Waits until every message logged is acknowledged (so its acknowledgements are queued for the
	 * log before the bus closes), for at most a minute.
	 * @param bus the bus
	 * @return the messages still pending after the wait (0 unless the subscription fell behind)
	 */
	static long awaitAcknowledged(DefaultMessageBus bus) throws InterruptedException {
		long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
		long pending = bus.store().health().pending();
		while (pending > 0 && System.nanoTime() < deadline) {
			Thread.sleep(10);
			pending = bus.store().health().pending();
		}
		return pending;
	}

	/** A bus with the in-memory backend and a log forced on every publish. */
	@State(Scope.Benchmark)
	public static class DurableBus {

		Path directory;

		DefaultMessageBus bus;

		@Setup(Level.Trial)
		public void open() throws IOException {
			this.directory = benchDirectory("bus");
			FileMessageStore store = FileMessageStore.builder(this.directory).fsync(FsyncPolicy.ALWAYS).build();
			this.bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
		}

		@TearDown(Level.Trial)
		public void close() throws IOException {
			this.bus.close();
			delete(this.directory);
		}

	}

	/**
	 * A bus with the in-memory backend, a log forced on every publish and one group subscription
	 * that handles every message, so that each message is acknowledged for the group in the log.
	 */
	@State(Scope.Benchmark)
	public static class DurableBusWithGroup {

		Path directory;

		DefaultMessageBus bus;

		final LongAdder handled = new LongAdder();

		@Setup(Level.Trial)
		public void open() throws IOException {
			this.directory = benchDirectory("bus-group");
			FileMessageStore store = FileMessageStore.builder(this.directory).fsync(FsyncPolicy.ALWAYS).build();
			this.bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
			subscribeGroup(this.bus, this.handled);
		}

		@TearDown(Level.Trial)
		public void close() throws Exception {
			// Shows that the subscription and its acknowledgements kept up with the publishers
			long pending = awaitAcknowledged(this.bus);
			System.out.printf("%n%d messages handled by the group, %d pending at the end of the trial%n",
					this.handled.sum(), pending);
			this.bus.close();
			delete(this.directory);
		}

	}

	/** A plain file and a batch of records of one size: what the raw bounds write. */
	static final class RawLog {

		private final Path directory;

		final FileChannel channel;

		final ByteBuffer batch;

		final ByteBuffer single;

		RawLog(int record) throws IOException {
			this.directory = benchDirectory("raw");
			this.channel = FileChannel.open(this.directory.resolve("raw.log"), StandardOpenOption.CREATE,
					StandardOpenOption.WRITE);
			byte[] bytes = new byte[record];
			for (int i = 0; i < bytes.length; i++) {
				bytes[i] = (byte) i;
			}
			this.batch = ByteBuffer.allocateDirect(record * IN_FLIGHT);
			for (int i = 0; i < IN_FLIGHT; i++) {
				this.batch.put(bytes);
			}
			this.single = ByteBuffer.allocateDirect(record);
			this.single.put(bytes);
		}

		/** Writes the batch and forces it once, as a group commit of that many publishes would. */
		void writeBatch() throws IOException {
			this.batch.clear();
			while (this.batch.hasRemaining()) {
				this.channel.write(this.batch);
			}
			this.channel.force(false);
		}

		void close() throws IOException {
			this.channel.close();
			delete(this.directory);
		}

	}

	/** A plain file and records of the size a logged publish takes. */
	@State(Scope.Thread)
	public static class RawFile {

		RawLog log;

		@Setup(Level.Trial)
		public void open() throws Exception {
			this.log = new RawLog(recordBytes(false));
		}

		@TearDown(Level.Trial)
		public void close() throws IOException {
			this.log.close();
		}

	}

	/** A plain file and records of the size a message handled by one group subscription takes. */
	@State(Scope.Thread)
	public static class RawFileWithAcks {

		RawLog log;

		@Setup(Level.Trial)
		public void open() throws Exception {
			this.log = new RawLog(recordBytes(true));
		}

		@TearDown(Level.Trial)
		public void close() throws IOException {
			this.log.close();
		}

	}

	@Benchmark
	@Threads(THREADS)
	@OperationsPerInvocation(WINDOW)
	public void durablePublish(DurableBus state) throws Exception {
		publishWindow(state.bus);
	}

	@Benchmark
	@Threads(THREADS)
	@OperationsPerInvocation(WINDOW)
	public void durablePublishWithGroup(DurableBusWithGroup state) throws Exception {
		publishWindow(state.bus);
	}

	/** {@value #WINDOW} publishes in flight, then waits for all of them. */
	@SuppressWarnings("unchecked")
	private static void publishWindow(DefaultMessageBus bus) throws Exception {
		CompletableFuture<UUID>[] futures = new CompletableFuture[WINDOW];
		for (int i = 0; i < WINDOW; i++) {
			futures[i] = bus.publish(TOPIC, PAYLOAD);
		}
		for (CompletableFuture<UUID> future : futures) {
			future.get();
		}
	}

	@Benchmark
	@Threads(1)
	@OperationsPerInvocation(IN_FLIGHT)
	public void rawGroupCommitBound(RawFile file) throws IOException {
		file.log.writeBatch();
	}

	@Benchmark
	@Threads(1)
	@OperationsPerInvocation(IN_FLIGHT)
	public void rawGroupCommitBoundWithAcks(RawFileWithAcks file) throws IOException {
		file.log.writeBatch();
	}

	@Benchmark
	@Threads(1)
	public void rawFsyncPerMessage(RawFile file) throws IOException {
		RawLog log = file.log;
		log.single.clear();
		while (log.single.hasRemaining()) {
			log.channel.write(log.single);
		}
		log.channel.force(false);
	}

}
