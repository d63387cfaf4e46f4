package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Closes the bus just before the connection of its backend stops. Spring Boot's Lettuce
 * {@code RedisConnectionFactory} is a {@link SmartLifecycle} that closes its connections when the
 * context stops, before beans are destroyed; without this the bus would drain its last deliveries
 * and acknowledgements on a closed connection. The phase is one above the connection's, so that
 * everything else (listeners, web server) has stopped first and publishing works until then.
 */
final class AmbConnectionShutdown implements SmartLifecycle {

	private final ObjectProvider<MessageBus> bus;

	private final String backend;

	private final int phase;

	private volatile boolean running;

	AmbConnectionShutdown(ObjectProvider<MessageBus> bus, String backend, Object connection) {
		this.bus = bus;
		this.backend = backend;
		int connectionPhase = (connection instanceof SmartLifecycle lifecycle) ? lifecycle.getPhase() : 0;
		this.phase = (connectionPhase < Integer.MAX_VALUE) ? connectionPhase + 1 : connectionPhase;
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
		// Only a bus on this backend: a bus on another backend does not use this connection.
		if (this.bus.getIfAvailable() instanceof DefaultMessageBus messageBus
				&& this.backend.equals(messageBus.backend())) {
			messageBus.close();
		}
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return this.phase;
	}

}
