package dev.amb.core.persistence;

/**
 * A stretch of a segment that recovery could not read as records.
 *
 * @param segment the segment file's name
 * @param offset where the damage starts, in bytes from the start of the file
 * @param length how many bytes were skipped (or cut off, for a torn tail)
 * @param kind what recovery did about it
 * @param reason what was wrong, for the log
 */
public record LogDamage(String segment, long offset, long length, Kind kind, String reason) {

	/** What recovery did with damage. */
	public enum Kind {

		/** The end of the newest segment held a partial write from a crash; it was cut off. */
		TORN_TAIL,

		/**
		 * Bytes in the middle of the log failed their check (bit rot, a lost write); recovery skipped
		 * them and went on with the next intact record. Any message in them is lost and counted here.
		 */
		CORRUPT

	}

}
