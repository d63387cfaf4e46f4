package dev.amb.core.testsupport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

import org.junit.jupiter.api.Assumptions;

/**
 * A real server the adapter tests need on loopback. Outside CI a missing server skips the tests
 * loudly, saying how to start it; in CI ({@code CI=true}) it fails them, because a skipped
 * adapter test there would hide a broken backend.
 */
public enum LoopbackServer {

	/** Redis on 127.0.0.1:6379. */
	REDIS("Redis", 6379, "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no"),

	/** RabbitMQ on 127.0.0.1:5672, guest/guest. */
	RABBITMQ("RabbitMQ", 5672, "rabbitmq-server -detached && rabbitmqctl await_startup");

	private final String displayName;

	private final int port;

	private final String startCommand;

	LoopbackServer(String displayName, int port, String startCommand) {
		this.displayName = displayName;
		this.port = port;
		this.startCommand = startCommand;
	}

	/** @return the loopback port */
	public int port() {
		return this.port;
	}

	/** @return the loopback host */
	public String host() {
		return "127.0.0.1";
	}

	/** @return whether something accepts connections on the port */
	public boolean isReachable() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(host(), this.port), 1000);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Makes sure the server is there: fails in CI, skips loudly elsewhere.
	 */
	public void require() {
		if (isReachable()) {
			return;
		}
		String message = this.displayName + " is not reachable on " + host() + ":" + this.port + "; start it with: "
				+ this.startCommand + " (or run bash .ci/run, which starts it)";
		if ("true".equalsIgnoreCase(System.getenv("CI"))) {
			throw new IllegalStateException("CI=true and " + message);
		}
		System.err.println("SKIPPED: " + message);
		Assumptions.abort(message);
	}

}
