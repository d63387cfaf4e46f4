package dev.amb.core.adapters.redis;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * A {@code redis-server} process of a test's own, on a free loopback port with its data in a
 * temporary directory, for tests that stop Redis: the shared server on 6379, which other tests use
 * at the same time, is never touched. {@link #kill()} ends the process with SIGKILL, as a crash
 * or a power cut would; {@link #start()} starts it again on the same port and directory.
 * {@link #close()} ends it and deletes its directory, whatever state it is in.
 */
final class PrivateRedisServer implements AutoCloseable {

	private final String binary;

	private final boolean appendOnly;

	private final int port;

	private final Path directory;

	private Process process;

	private PrivateRedisServer(String binary, boolean appendOnly) throws IOException {
		this.binary = binary;
		this.appendOnly = appendOnly;
		this.port = freePort();
		this.directory = Files.createTempDirectory("amb-redis-");
	}

	/**
	 * Starts a server. Where {@code redis-server} is not installed, outside CI the test is skipped
	 * loudly; in CI ({@code CI=true}) that is a failure.
	 * @param appendOnly {@code --appendonly yes --appendfsync always}: every write Redis has
	 * answered is on disk; otherwise no persistence at all ({@code --save "" --appendonly no}, as
	 * the shared server runs)
	 * @return the running server
	 */
	static PrivateRedisServer start(boolean appendOnly) throws IOException, InterruptedException {
		String binary = find("redis-server");
		if (binary == null) {
			String message = "redis-server is not installed, so the Redis restart tests cannot run their own server; "
					+ "install it (apt-get install redis-server) or run bash .ci/run";
			if ("true".equalsIgnoreCase(System.getenv("CI"))) {
				throw new IllegalStateException("CI=true and " + message);
			}
			System.err.println("SKIPPED: " + message);
			Assumptions.abort(message);
		}
		PrivateRedisServer server = new PrivateRedisServer(binary, appendOnly);
		try {
			server.start();
		}
		catch (IOException | InterruptedException | RuntimeException ex) {
			server.close();
			throw ex;
		}
		return server;
	}

	/** @return the port it listens on, on 127.0.0.1 */
	int port() {
		return this.port;
	}

	/** @return a connection factory for it, its connections named {@code clientName} */
	LettuceConnectionFactory connectionFactory(String clientName) {
		LettuceConnectionFactory factory = new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1",
				this.port), org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration.builder()
					.clientName(clientName)
					.build());
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	/** Starts the process (again), and waits until it answers {@code PING} with its data loaded. */
	synchronized void start() throws IOException, InterruptedException {
		if (this.process != null && this.process.isAlive()) {
			return;
		}
		List<String> command = new ArrayList<>(List.of(this.binary, "--port", Integer.toString(this.port), "--bind",
				"127.0.0.1", "--daemonize", "no", "--save", "", "--dir", this.directory.toString(), "--logfile",
				this.directory.resolve("redis.log").toString()));
		if (this.appendOnly) {
			command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
		}
		else {
			command.addAll(List.of("--appendonly", "no"));
		}
		this.process = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(this.directory.resolve("stdout.log").toFile())
			.start();
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
		while (!answersPing()) {
			if (!this.process.isAlive()) {
				throw new IOException("redis-server exited with " + this.process.exitValue() + ": " + log());
			}
			if (System.nanoTime() > deadline) {
				throw new IOException("redis-server did not answer PING within 30 s: " + log());
			}
			Thread.sleep(50);
		}
	}

	/** Ends the process with SIGKILL: nothing is flushed or saved on the way out. */
	synchronized void kill() throws InterruptedException {
		if (this.process != null && this.process.isAlive()) {
			this.process.destroyForcibly();
			this.process.waitFor(30, TimeUnit.SECONDS);
		}
	}

	/** @return whether the process runs */
	synchronized boolean isRunning() {
		return this.process != null && this.process.isAlive();
	}

	@Override
	public void close() {
		try {
			kill();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		try (Stream<Path> files = Files.walk(this.directory)) {
			files.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
		}
		catch (IOException ex) {
			// A temporary directory left behind is harmless.
		}
	}

	private boolean answersPing() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", this.port), 500);
			socket.setSoTimeout(1000);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			InputStream in = socket.getInputStream();
			byte[] reply = new byte[64];
			int read = in.read(reply);
			// While it loads its append-only file, Redis answers -LOADING.
			return read > 0 && new String(reply, 0, read, StandardCharsets.US_ASCII).startsWith("+PONG");
		}
		catch (IOException ex) {
			return false;
		}
	}

	private String log() {
		try {
			Path log = this.directory.resolve("redis.log");
			return Files.exists(log) ? Files.readString(log) : Files.readString(this.directory.resolve("stdout.log"));
		}
		catch (IOException ex) {
			return "(no log: " + ex + ")";
		}
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static String find(String program) {
		List<String> directories = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
		directories.addAll(List.of("/usr/bin", "/usr/local/bin", "/usr/sbin", "/opt/homebrew/bin"));
		for (String directory : directories) {
			if (!directory.isEmpty()) {
				File file = new File(directory, program);
				if (file.isFile() && file.canExecute()) {
					return file.getAbsolutePath();
				}
			}
		}
		return null;
	}

}
