package dev.amb.core.support;

import java.util.Arrays;
import java.util.UUID;

/**
 * The canonical text of a UUID ({@code 8-4-4-4-12} hex digits, as {@link UUID#toString()}
 * writes it) straight to and from ASCII bytes, without an intermediate string: the adapters
 * write and read a message id this way for every message.
 */
public final class UuidText {

	/** The length of the canonical text. */
	public static final int LENGTH = 36;

	private static final byte[] DIGITS = { '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e',
			'f' };

	/** The value of each ASCII hex digit, -1 for every other byte value below 128. */
	private static final byte[] VALUES = new byte[128];

	static {
		Arrays.fill(VALUES, (byte) -1);
		for (int i = 0; i < 10; i++) {
			VALUES['0' + i] = (byte) i;
		}
		for (int i = 0; i < 6; i++) {
			VALUES['a' + i] = (byte) (10 + i);
			VALUES['A' + i] = (byte) (10 + i);
		}
	}

	private UuidText() {
	}

	/**
	 * The canonical text of a UUID, lower case, as ASCII bytes.
	 * @param id the UUID
	 * @return 36 bytes
	 */
	public static byte[] toAscii(UUID id) {
		byte[] text = new byte[LENGTH];
		long msb = id.getMostSignificantBits();
		long lsb = id.getLeastSignificantBits();
		write(text, 0, msb >>> 32, 8);
		text[8] = '-';
		write(text, 9, msb >>> 16, 4);
		text[13] = '-';
		write(text, 14, msb, 4);
		text[18] = '-';
		write(text, 19, lsb >>> 48, 4);
		text[23] = '-';
		write(text, 24, lsb, 12);
		return text;
	}

	/**
	 * Reads the canonical text of a UUID, hex digits in either case.
	 * @param text ASCII bytes
	 * @return the UUID, or {@code null} if the bytes are not in the canonical form (the caller
	 * decides what else it accepts and how it fails)
	 */
	public static UUID parseCanonical(byte[] text) {
		if (text.length != LENGTH || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') {
			return null;
		}
		long a = read(text, 0, 8);
		long b = read(text, 9, 4);
		long c = read(text, 14, 4);
		long d = read(text, 19, 4);
		long e = read(text, 24, 12);
		if ((a | b | c | d | e) < 0) {
			return null;
		}
		return new UUID((a << 32) | (b << 16) | c, (d << 48) | e);
	}

	private static void write(byte[] text, int start, long value, int digits) {
		for (int i = start + digits - 1; i >= start; i--) {
			text[i] = DIGITS[(int) (value & 0xF)];
			value >>>= 4;
		}
	}

	/** Hex digits as a number, or -1 if one of them is not a hex digit. */
	private static long read(byte[] text, int start, int digits) {
		long value = 0;
		int invalid = 0;
		for (int i = start; i < start + digits; i++) {
			int digit = VALUES[text[i] & 0x7F];
			// A byte of 128 or more masks to an ASCII value: it is not a digit all the same.
			invalid |= digit | text[i];
			value = (value << 4) | (digit & 0xF);
		}
		return (invalid < 0) ? -1 : value;
	}

}
