package dev.amb.core.persistence;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One segment file: its number, its size and how many unfinished messages it holds. Owned by the
 * writer thread once the store is open.
 */
final class Segment {

	final long number;

	final Path path;

	/** Open for the active segment only. */
	FileChannel channel;

	long size;

	/** Messages appended here and not yet finished; the segment can go once it is 0 and the older ones are gone. */
	int pending;

	Segment(long number, Path path) {
		this.number = number;
		this.path = path;
	}

}
