package dev.amb.benchmarks.inmemory;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts what consumers received and lets the benchmark thread wait for it, the same way for the
 * bus and for the raw queue, so their numbers compare.
 */
final class Deliveries {

	/** Messages published per benchmark invocation, before waiting for all of them to arrive. */
	static final int BATCH = 1000;

	/** The size of every payload, as in the shared baselines. */
	static final int PAYLOAD_BYTES = 256;

	private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(30);

	private final AtomicLong received = new AtomicLong();

	private final AtomicLong published = new AtomicLong();

	/** Called by a consumer for each message. */
	void received() {
		this.received.incrementAndGet();
	}

	/**
	 * Reserves a number of messages about to be published.
	 * @param count how many
	 * @return the received count to wait for once they are published
	 */
	long expect(int count) {
		return this.published.addAndGet(count);
	}

	/**
	 * Waits until consumers have received at least {@code target} messages. Spins briefly, then
	 * yields: on a machine with few cores a pure spin would steal the consumer's core.
	 * @param target the received count to reach
	 */
	void awaitReceived(long target) {
		AtomicLong received = this.received;
		int spins = 0;
		long stalledSince = 0;
		while (received.get() < target) {
			if (++spins < 100) {
				Thread.onSpinWait();
				continue;
			}
			Thread.yield();
			if ((spins & 1023) == 0) {
				long now = System.nanoTime();
				if (stalledSince == 0) {
					stalledSince = now;
				}
				else if (now - stalledSince > STALL_NANOS) {
					throw new IllegalStateException("Consumers received " + received.get() + " of " + target
							+ " messages and made no progress for 30 s");
				}
			}
		}
	}

	static byte[] payload() {
		byte[] payload = new byte[PAYLOAD_BYTES];
		for (int i = 0; i < payload.length; i++) {
			payload[i] = (byte) ('a' + (i % 26));
		}
		return payload;
	}

}
