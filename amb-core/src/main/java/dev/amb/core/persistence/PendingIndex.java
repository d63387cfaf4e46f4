package dev.amb.core.persistence;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.UUID;

import dev.amb.core.spi.Envelope;

/**
 * The messages appended and not yet finished, in log order, with the segment each is in and the
 * durable names that still have to acknowledge it. Recovery fills it; the writer thread owns it
 * afterwards.
 */
final class PendingIndex {

	private final LinkedHashMap<UUID, Entry> entries = new LinkedHashMap<>();

	int size() {
		return this.entries.size();
	}

	/** @return the oldest unfinished message's timestamp, or 0 if there is none */
	long oldestTimestamp() {
		Iterator<Entry> oldest = this.entries.values().iterator();
		return oldest.hasNext() ? Math.max(1, oldest.next().timestamp) : 0;
	}

	/**
	 * A message was written.
	 * @param id its id
	 * @param segment where
	 * @param timestamp its publish time
	 * @param names the durable names it is meant for, or null if one acknowledgement finishes it;
	 * never changed here
	 */
	void appended(UUID id, Segment segment, long timestamp, String[] names) {
		Entry previous = (names != null && names.length == 0) ? this.entries.remove(id)
				: this.entries.put(id, new Entry(segment, timestamp, names));
		if (previous != null) {
			// The same id logged twice: the later record stands for both
			previous.segment.pending--;
		}
		if (names == null || names.length > 0) {
			segment.pending++;
		}
	}

	/**
	 * A message was read back at recovery; a second record with the same id changes nothing.
	 * @param envelope the message
	 * @param names as for {@link #appended}
	 * @param segment where
	 */
	void recovered(Envelope envelope, String[] names, Segment segment) {
		if ((names != null && names.length == 0) || this.entries.containsKey(envelope.id())) {
			return;
		}
		Entry entry = new Entry(segment, envelope.timestamp(), names);
		entry.envelope = envelope;
		this.entries.put(envelope.id(), entry);
		segment.pending++;
	}

	/** A message is finished for every subscription. */
	void acknowledged(UUID id) {
		Entry entry = this.entries.remove(id);
		if (entry != null) {
			entry.segment.pending--;
		}
	}

	/** One durable name finished with a message. */
	void acknowledged(UUID id, String name) {
		Entry entry = this.entries.get(id);
		if (entry != null && entry.acknowledge(name)) {
			this.entries.remove(id);
			entry.segment.pending--;
		}
	}

	/**
	 * The messages read back at recovery that are still unfinished, with the names that have not
	 * acknowledged them; the index lets go of their envelopes.
	 */
	List<RecoveredMessage> takeRecovered() {
		List<RecoveredMessage> recovered = new ArrayList<>();
		for (Entry entry : this.entries.values()) {
			if (entry.envelope != null) {
				recovered.add(new RecoveredMessage(entry.envelope, entry.remainingNames()));
				entry.envelope = null;
			}
		}
		return recovered;
	}

	/** One unfinished message. */
	private static final class Entry {

		final Segment segment;

		final long timestamp;

		/** Shared with the publisher's route (never written here), or null if one acknowledgement finishes it. */
		final String[] names;

		/** Which names acknowledged it; made on the first acknowledgement of a message with several. */
		boolean[] acknowledged;

		int remaining;

		/** Read back at recovery and not handed over yet. */
		Envelope envelope;

		Entry(Segment segment, long timestamp, String[] names) {
			this.segment = segment;
			this.timestamp = timestamp;
			this.names = names;
			this.remaining = (names != null) ? names.length : 1;
		}

		/** @return whether it is finished now */
		boolean acknowledge(String name) {
			if (this.names == null) {
				// Logged without names: only an acknowledgement for every subscription finishes it
				return false;
			}
			if (this.names.length == 1) {
				if (this.remaining == 1 && this.names[0].equals(name)) {
					this.remaining = 0;
				}
				return this.remaining == 0;
			}
			for (int i = 0; i < this.names.length; i++) {
				if (this.names[i].equals(name)) {
					if (this.acknowledged == null) {
						this.acknowledged = new boolean[this.names.length];
					}
					if (!this.acknowledged[i]) {
						this.acknowledged[i] = true;
						this.remaining--;
					}
					break;
				}
			}
			return this.remaining == 0;
		}

		List<String> remainingNames() {
			if (this.names == null) {
				return List.of();
			}
			if (this.acknowledged == null) {
				return Arrays.asList(this.names);
			}
			List<String> remaining = new ArrayList<>(this.remaining);
			for (int i = 0; i < this.names.length; i++) {
				if (!this.acknowledged[i]) {
					remaining.add(this.names[i]);
				}
			}
			return remaining;
		}

	}

}
