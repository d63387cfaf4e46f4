package dev.amb.core.spi;

import java.time.Duration;

/**
 * A backend's consumer for one subscription.
 */
public interface BrokerConsumer {

	/** Stops taking new messages; in-flight ones finish. */
	void pause();

	/** Takes messages again. */
	void resume();

	/** @return the consumer's state */
	ConsumerState state();

	/**
	 * Stops the consumer: no new deliveries, in-flight handlers finish (up to the timeout), nothing
	 * unhandled is acknowledged.
	 * @param drainTimeout how long to wait for in-flight handlers
	 */
	void close(Duration drainTimeout);

}
