package dev.amb.core.persistence;

import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * An append on its way to the disk, framed on the publisher's thread; it is its own publish
 * future, to save an allocation.
 */
final class AppendRequest extends CompletableFuture<Void> {

	final byte[] record;

	final UUID id;

	final long timestamp;

	/** The publisher's array, read only; null if one acknowledgement finishes the message. */
	final String[] names;

	AppendRequest(byte[] record, UUID id, long timestamp, String[] names) {
		this.record = record;
		this.id = id;
		this.timestamp = timestamp;
		this.names = names;
	}

}
