package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Replays what the write-ahead log recovered once the listeners have subscribed, so that messages
 * left unfinished by the last run reach the listeners of this one. With a durable backend the log is
 * an outbox the bus already forwarded when it was built, and there is nothing left to replay.
 */
final class AmbReplayLifecycle implements SmartLifecycle {

	private static final Log logger = LogFactory.getLog(AmbReplayLifecycle.class);

	private final ObjectProvider<MessageBus> bus;

	private volatile boolean running;

	AmbReplayLifecycle(ObjectProvider<MessageBus> bus) {
		this.bus = bus;
	}

	@Override
	public void start() {
		if (this.bus.getIfAvailable() instanceof DefaultMessageBus messageBus) {
			int replayed = messageBus.replay();
			if (replayed > 0) {
				logger.info("Replayed " + replayed + " message(s) recovered from the write-ahead log");
			}
		}
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return AmbListenerEndpointRegistry.PHASE + 1;
	}

}
