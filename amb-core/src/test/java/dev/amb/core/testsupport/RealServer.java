package dev.amb.core.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A real server the adapter tests run against, found once per JVM.
 * <p>
 * Where it comes from is chosen by the system property {@code amb.test.servers} (or the
 * environment variable {@code AMB_TEST_SERVERS}):
 * <ul>
 * <li>{@code auto} (the default): the server on loopback that {@code .ci/run} starts (Kafka: a
 * KRaft broker embedded in the test JVM); where a loopback server is not running and Docker is,
 * a Testcontainers container instead;</li>
 * <li>{@code loopback}: only the loopback (or embedded) server;</li>
 * <li>{@code testcontainers}: always a container, one per server per JVM.</li>
 * </ul>
 * Where the server is in none of these places, outside CI the tests are skipped loudly, saying how
 * to start it; in CI ({@code CI=true}) they fail, because a skipped adapter test there would hide a
 * broken backend.
 */
public enum RealServer {

	/** Redis; on loopback 127.0.0.1:6379. */
	REDIS("Redis", 6379,
			"redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no") {

		@Override
		GenericContainer<?> newContainer() {
			return new GenericContainer<>(image("redis", "redis:7.4")).withExposedPorts(6379)
				.withCommand("redis-server", "--save", "", "--appendonly", "no");
		}

	},

	/** RabbitMQ, guest/guest; on loopback 127.0.0.1:5672. */
	RABBITMQ("RabbitMQ", 5672, "rabbitmq-server -detached && rabbitmqctl await_startup") {

		@Override
		GenericContainer<?> newContainer() {
			return new RabbitMQContainer(image("rabbitmq", "rabbitmq:3.13"));
		}

	},

	/** Kafka; by default a KRaft broker embedded in the test JVM (spring-kafka-test). */
	KAFKA("Kafka", 0, "nothing: the broker is embedded in the test JVM") {

		@Override
		GenericContainer<?> newContainer() {
			return new KafkaContainer(image("kafka", "apache/kafka-native:4.1.0"));
		}

		@Override
		Endpoint findLocal() {
			EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1);
			broker.brokerProperties(KAFKA_FAST_START);
			broker.afterPropertiesSet();
			Runtime.getRuntime().addShutdownHook(new Thread(broker::destroy, "embedded-kafka-shutdown"));
			String address = broker.getBrokersAsString().split(",")[0];
			int colon = address.lastIndexOf(':');
			return new Endpoint(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)), null);
		}

		@Override
		int containerPort() {
			return 9092;
		}

	};

	/** Broker settings for a test KRaft broker: one offsets partition, so the first group join is seconds sooner. */
	public static final Map<String, String> KAFKA_FAST_START = Map.of("offsets.topic.num.partitions", "1");

	private static final String LOOPBACK = "127.0.0.1";

	private final String displayName;

	private final int loopbackPort;

	private final String startCommand;

	private Endpoint endpoint;

	private String unavailable;

	RealServer(String displayName, int loopbackPort, String startCommand) {
		this.displayName = displayName;
		this.loopbackPort = loopbackPort;
		this.startCommand = startCommand;
	}

	abstract GenericContainer<?> newContainer();

	/** @return the host the tests connect to */
	public String host() {
		return endpoint().host();
	}

	/** @return the port the tests connect to */
	public int port() {
		return endpoint().port();
	}

	/** @return {@code host:port}, as Kafka's bootstrap servers take it */
	public String address() {
		return host() + ":" + port();
	}

	/** @return whether the server runs in a Testcontainers container */
	public boolean inContainer() {
		return endpoint().container() != null;
	}

	/**
	 * Makes sure the server is there: fails in CI, skips loudly elsewhere.
	 */
	public void require() {
		endpoint();
	}

	/**
	 * Runs an administration command (such as {@code rabbitmqctl} or {@code redis-cli}) where the
	 * server runs: on this machine for a loopback server, inside the container otherwise.
	 * @param command the command and its arguments
	 * @return the lines it printed
	 * @throws IOException if it could not run or exited with a failure
	 */
	public List<String> admin(String... command) throws IOException, InterruptedException {
		GenericContainer<?> container = endpoint().container();
		if (container != null) {
			ExecResult result = container.execInContainer(command);
			if (result.getExitCode() != 0) {
				throw new IOException(String.join(" ", command) + " failed in the container: " + result.getStdout()
						+ result.getStderr());
			}
			return result.getStdout().lines().toList();
		}
		Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
		List<String> lines = new ArrayList<>();
		try (BufferedReader reader = new BufferedReader(
				new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
			String line;
			while ((line = reader.readLine()) != null) {
				lines.add(line);
			}
		}
		if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
			throw new IOException(String.join(" ", command) + " failed: " + lines);
		}
		return lines;
	}

	private synchronized Endpoint endpoint() {
		if (this.endpoint == null && this.unavailable == null) {
			find();
		}
		if (this.endpoint != null) {
			return this.endpoint;
		}
		if ("true".equalsIgnoreCase(System.getenv("CI"))) {
			throw new IllegalStateException("CI=true and " + this.unavailable);
		}
		System.err.println("SKIPPED: " + this.unavailable);
		return Assumptions.abort(this.unavailable);
	}

	private void find() {
		String mode = mode();
		if (!mode.equals("testcontainers")) {
			this.endpoint = findLocal();
			if (this.endpoint != null) {
				return;
			}
			if (mode.equals("loopback")) {
				this.unavailable = this.displayName + " is not reachable on " + LOOPBACK + ":" + this.loopbackPort
						+ "; start it with: " + this.startCommand + " (or run bash .ci/run, which starts it)";
				return;
			}
		}
		if (!dockerAvailable()) {
			String where = mode.equals("testcontainers") ? "amb.test.servers=testcontainers asks for a container"
					: "nothing answers on " + LOOPBACK + ":" + this.loopbackPort;
			this.unavailable = this.displayName + " for the tests: " + where
					+ ", and Docker is not available for Testcontainers; start Docker, or start the server with: "
					+ this.startCommand + " (or run bash .ci/run, which starts it)";
			return;
		}
		GenericContainer<?> container = newContainer();
		container.start();
		System.err.println(this.displayName + " for the tests: Testcontainers " + container.getDockerImageName());
		this.endpoint = new Endpoint(container.getHost(), container.getMappedPort(containerPort()), container);
	}

	/** @return the loopback (or embedded) server, or {@code null} if it is not running */
	Endpoint findLocal() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(LOOPBACK, this.loopbackPort), 1000);
			return new Endpoint(LOOPBACK, this.loopbackPort, null);
		}
		catch (IOException ex) {
			return null;
		}
	}

	int containerPort() {
		return this.loopbackPort;
	}

	private static boolean dockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (RuntimeException | LinkageError ex) {
			return false;
		}
	}

	private static String mode() {
		String mode = System.getProperty("amb.test.servers", System.getenv("AMB_TEST_SERVERS"));
		mode = (mode != null) ? mode.trim().toLowerCase(Locale.ROOT) : "auto";
		if (!List.of("auto", "loopback", "testcontainers").contains(mode)) {
			throw new IllegalArgumentException(
					"amb.test.servers must be auto, loopback or testcontainers, not '" + mode + "'");
		}
		return mode;
	}

	private static String image(String server, String fallback) {
		return System.getProperty("amb.test." + server + "-image", fallback);
	}

	record Endpoint(String host, int port, GenericContainer<?> container) {
	}

}
