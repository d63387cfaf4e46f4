package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The log's segment files, oldest first: naming, creation, rotation and deletion of the finished
 * ones. Recovery fills it; the writer thread owns it afterwards.
 */
final class Segments {

	static final String SUFFIX = ".wal";

	private static final int NAME_DIGITS = 20;

	private final Path directory;

	private final FsyncPolicy policy;

	private final DiskBudget budget;

	private final ArrayDeque<Segment> segments = new ArrayDeque<>();

	private Segment active;

	Segments(Path directory, FsyncPolicy policy, DiskBudget budget) {
		this.directory = directory;
		this.policy = policy;
		this.budget = budget;
	}

	/** The segment files in the directory, oldest first. */
	static List<Path> list(Path directory) throws IOException {
		try (Stream<Path> listing = Files.list(directory)) {
			return listing.filter((path) -> isSegmentName(path.getFileName().toString())).sorted().toList();
		}
	}

	static boolean isSegmentName(String name) {
		if (!name.endsWith(SUFFIX) || name.length() != NAME_DIGITS + SUFFIX.length()) {
			return false;
		}
		for (int i = 0; i < NAME_DIGITS; i++) {
			if (!Character.isDigit(name.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	static long numberOf(Path file) {
		String name = file.getFileName().toString();
		return Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
	}

	/** Adds a segment recovery read, after the ones it added before. */
	void adopt(Segment segment) {
		this.segments.addLast(segment);
	}

	Segment active() {
		return this.active;
	}

	int count() {
		return this.segments.size();
	}

	long bytes() {
		long bytes = 0;
		for (Segment segment : this.segments) {
			bytes += segment.size;
		}
		return bytes;
	}

	/**
	 * Starts the segment after the newest one, and makes it the active one. The previous active
	 * segment's channel stays open: the caller forces and closes it.
	 * @return the new segment
	 * @throws MessageStoreException if it cannot be created
	 */
	Segment startNext() {
		Segment newest = this.segments.peekLast();
		Segment next = create((newest == null) ? 1 : newest.number + 1);
		this.segments.addLast(next);
		this.active = next;
		return next;
	}

	private Segment create(long number) {
		Path path = this.directory.resolve(String.format(Locale.ROOT, "%0" + NAME_DIGITS + "d%s", number, SUFFIX));
		FileChannel channel = null;
		try {
			channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
			ByteBuffer header = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
			RecordFormat.writeSegmentHeader(header, number);
			header.flip();
			while (header.hasRemaining()) {
				channel.write(header);
			}
			if (this.policy == FsyncPolicy.ALWAYS) {
				channel.force(true);
				forceDirectory();
			}
		}
		catch (FileAlreadyExistsException ex) {
			IoSupport.closeQuietly(channel);
			throw new MessageStoreException("The write-ahead log segment " + path + " exists already; "
					+ "is another process writing to " + this.directory + "?", ex);
		}
		catch (IOException ex) {
			IoSupport.closeQuietly(channel);
			try {
				Files.deleteIfExists(path);
			}
			catch (IOException ignored) {
				// the next recovery reports and removes a headerless segment
			}
			throw new MessageStoreException("Cannot create a segment in the write-ahead log directory " + this.directory
					+ ": " + IoSupport.describe(ex), ex);
		}
		Segment segment = new Segment(number, path);
		segment.channel = channel;
		segment.size = RecordFormat.SEGMENT_HEADER_BYTES;
		this.budget.add(RecordFormat.SEGMENT_HEADER_BYTES);
		return segment;
	}

	/** Makes a new segment's directory entry durable, so that a forced segment is found after a power loss. */
	private void forceDirectory() {
		try (FileChannel channel = FileChannel.open(this.directory, StandardOpenOption.READ)) {
			channel.force(true);
		}
		catch (IOException ex) {
			// Some platforms cannot open a directory; the file's own force is what they offer
		}
	}

	/**
	 * Deletes the oldest segments while they hold nothing unfinished; never the active one.
	 * @return why a deletion failed, or null
	 */
	String deleteFinished() {
		while (!this.segments.isEmpty()) {
			Segment oldest = this.segments.peekFirst();
			if (oldest == this.active || oldest.pending > 0) {
				return null;
			}
			try {
				Files.deleteIfExists(oldest.path);
			}
			catch (IOException ex) {
				return "Could not delete the acknowledged segment " + oldest.path + ": " + ex;
			}
			this.segments.pollFirst();
			this.budget.release(oldest.size);
		}
		return null;
	}

	/** Closes the active segment's channel, if open. */
	void closeActive() throws IOException {
		if (this.active != null && this.active.channel != null) {
			FileChannel channel = this.active.channel;
			this.active.channel = null;
			channel.close();
		}
	}

	void closeActiveQuietly() {
		if (this.active != null) {
			IoSupport.closeQuietly(this.active.channel);
			this.active.channel = null;
		}
	}

}
