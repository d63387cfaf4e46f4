package dev.amb.core.persistence;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import dev.amb.core.spi.Envelope;

/**
 * Where the bus keeps published messages until they are finished with: for an in-process
 * backend, until every subscription it was meant for has handled it, each acknowledging it under
 * its durable name; for a remote backend (an outbox), until the broker has it. Implementations are
 * thread-safe.
 */
public interface MessageStore extends AutoCloseable {

	/**
	 * Logs an envelope that one {@link #acknowledge(UUID)} finishes, as an outbox does.
	 * @param envelope the envelope
	 * @return completes when the record is as durable as the store's policy promises, or fails
	 * with a {@link MessageStoreException} if it could not be written
	 * @throws dev.amb.core.BackpressureException if the store is at its disk-usage cap and no room
	 * was made in time
	 * @throws MessageStoreException if the store is closed or failed
	 */
	CompletableFuture<Void> append(Envelope envelope);

	/**
	 * Logs an envelope meant for the subscriptions with these durable names; it is finished once
	 * each has acknowledged it with {@link #acknowledge(UUID, String)} (or one
	 * {@link #acknowledge(UUID)} finishes it for all). With no names it is finished at once.
	 * @param envelope the envelope
	 * @param durableNames the subscriptions' durable names, distinct; the array is read, never kept
	 * past the write nor changed
	 * @return as for {@link #append(Envelope)}
	 * @throws dev.amb.core.BackpressureException as for {@link #append(Envelope)}
	 * @throws MessageStoreException as for {@link #append(Envelope)}
	 */
	CompletableFuture<Void> append(Envelope envelope, String[] durableNames);

	/**
	 * Records that a message is finished with, for every subscription; its space is reclaimed once
	 * everything around it is. Acknowledging an unknown or already acknowledged id does nothing.
	 * @param id the message id
	 */
	void acknowledge(UUID id);

	/**
	 * Records that one subscription is finished with a message; the message is finished once every
	 * durable name it was logged for has acknowledged it. An unknown id, a name the message was not
	 * logged for, or a repeated acknowledgement does nothing.
	 * @param id the message id
	 * @param durableName the subscription's durable name
	 */
	void acknowledge(UUID id, String durableName);

	/**
	 * Hands over, once, the messages found unfinished when the store was opened, in log order, with
	 * their original ids and the durable names that still have to acknowledge them. They stay
	 * pending until acknowledged, so a process that dies before replaying them finds them again.
	 * @return the messages; empty on every later call
	 */
	List<RecoveredMessage> takeRecovered();

	/** @return what opening the store found */
	RecoveryReport recoveryReport();

	/** @return a snapshot for health checks */
	StoreHealth health();

	/** Writes and forces what is queued, then closes; later appends fail. */
	@Override
	void close();

}
