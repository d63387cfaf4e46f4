package dev.amb.core.persistence;

import java.util.List;
import java.util.Objects;

import dev.amb.core.spi.Envelope;

/**
 * A message the write-ahead log found unfinished when it was opened.
 *
 * @param envelope the message, with its original id
 * @param durableNames the durable names of the subscriptions that were meant to get it and had not
 * acknowledged it, in the order they were logged; empty if it was logged without names (through
 * {@link MessageStore#append(Envelope)}, as an outbox does, or by a format version 1 log), so that
 * one acknowledgement finishes it
 */
public record RecoveredMessage(Envelope envelope, List<String> durableNames) {

	public RecoveredMessage {
		Objects.requireNonNull(envelope, "envelope must not be null");
		durableNames = List.copyOf(durableNames);
	}

	/** @return whether one acknowledgement finishes it, for every subscription */
	public boolean isUnnamed() {
		return this.durableNames.isEmpty();
	}

}
