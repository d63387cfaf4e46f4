package dev.amb.core.persistence;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.amb.core.spi.Envelope;

/**
 * Where the bus keeps published messages until they are finished with: for an in-process
 * backend, until every subscription has handled them; for a remote backend (an outbox), until the
 * broker has them. Implementations are thread-safe.
 */
public interface MessageStore extends AutoCloseable {

	/**
	 * Logs an envelope.
	 * @param envelope the envelope
	 * @return completes when the record is as durable as the store's policy promises, or fails
	 * with a {@link MessageStoreException} if it could not be written
	 * @throws dev.amb.core.BackpressureException if the store is at its disk-usage cap and no room
	 * was made in time
	 * @throws MessageStoreException if the store is closed or failed
	 */
	CompletableFuture<Void> append(Envelope envelope);

	/**
	 * Records that a message is finished with; its space is reclaimed once everything around it is.
	 * Acknowledging an unknown or already acknowledged id does nothing.
	 * @param id the message id
	 */
	void acknowledge(UUID id);

	/**
	 * Hands over, once, the messages found unacknowledged when the store was opened, in log order
	 * and with their original ids. They stay pending until acknowledged, so a process that dies
	 * before replaying them finds them again.
	 * @return the messages; empty on every later call
	 */
	List<Envelope> takeRecovered();

	/** @return what opening the store found */
	RecoveryReport recoveryReport();

	/** @return a snapshot for health checks */
	StoreHealth health();

	/** Writes and forces what is queued, then closes; later appends fail. */
	@Override
	void close();

}
