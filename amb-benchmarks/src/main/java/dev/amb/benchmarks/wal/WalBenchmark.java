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
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.FsyncPolicy;

/**
 * Durable publish throughput under {@link FsyncPolicy#ALWAYS} with many publishes in flight,
 * beside two raw bounds measured in the same run on the same disk:
 * <ul>
 * <li>{@code rawGroupCommitBound}: one thread writes {@value #IN_FLIGHT} records of the same size
 * with a plain {@link FileChannel} and forces once, as a group commit of that many publishes would;</li>
 * <li>{@code rawFsyncPerMessage}: one record written and forced at a time.</li>
 * </ul>
 * {@code durablePublish}: {@value #THREADS} publisher threads, each with {@value #WINDOW} publishes in
 * flight ({@value #IN_FLIGHT} in all), through a {@link DefaultMessageBus} with the in-memory
 * backend and a {@link FileMessageStore}; an operation is one publish whose future completed, so
 * its record was forced. Files go under {@code -Damb.bench.dir} (default {@code target/wal-bench}
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
	 * message.
	 */
	static int recordBytes() throws Exception {
		Path directory = benchDirectory("measure");
		try {
			try (FileMessageStore store = FileMessageStore.open(directory)) {
				DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
				bus.publish(TOPIC, PAYLOAD).get();
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

	/** A plain file and records of the size a logged publish takes. */
	@State(Scope.Thread)
	public static class RawFile {

		Path directory;

		FileChannel channel;

		ByteBuffer batch;

		ByteBuffer single;

		@Setup(Level.Trial)
		public void open() throws Exception {
			int record = recordBytes();
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

		@TearDown(Level.Trial)
		public void close() throws IOException {
			this.channel.close();
			delete(this.directory);
		}

	}

	@Benchmark
	@Threads(THREADS)
	@OperationsPerInvocation(WINDOW)
	@SuppressWarnings("unchecked")
	public void durablePublish(DurableBus state) throws Exception {
		CompletableFuture<UUID>[] futures = new CompletableFuture[WINDOW];
		for (int i = 0; i < WINDOW; i++) {
			futures[i] = state.bus.publish(TOPIC, PAYLOAD);
		}
		for (CompletableFuture<UUID> future : futures) {
			future.get();
		}
	}

	@Benchmark
	@Threads(1)
	@OperationsPerInvocation(IN_FLIGHT)
	public void rawGroupCommitBound(RawFile file) throws IOException {
		ByteBuffer batch = file.batch;
		batch.clear();
		while (batch.hasRemaining()) {
			file.channel.write(batch);
		}
		file.channel.force(false);
	}

	@Benchmark
	@Threads(1)
	public void rawFsyncPerMessage(RawFile file) throws IOException {
		ByteBuffer single = file.single;
		single.clear();
		while (single.hasRemaining()) {
			file.channel.write(single);
		}
		file.channel.force(false);
	}

}
