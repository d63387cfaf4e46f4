package dev.amb.core;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Time-ordered message ids: version 7 UUIDs (RFC 9562), 48 bits of Unix milliseconds followed by
 * random bits, so ids sort by creation time across processes and languages.
 */
public final class MessageIds {

	private MessageIds() {
	}

	/**
	 * A new version 7 UUID for the current time.
	 * @return the id
	 */
	public static UUID next() {
		return next(System.currentTimeMillis());
	}

	/**
	 * A new version 7 UUID for the given time.
	 * @param epochMillis the Unix time in milliseconds
	 * @return the id
	 */
	public static UUID next(long epochMillis) {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		long msb = (epochMillis << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);
		long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
		return new UUID(msb, lsb);
	}

	/**
	 * The creation time encoded in a version 7 UUID.
	 * @param id the id
	 * @return the Unix time in milliseconds, or -1 if the id is not version 7
	 */
	public static long epochMillis(UUID id) {
		return (id.version() == 7) ? (id.getMostSignificantBits() >>> 16) : -1;
	}

}
