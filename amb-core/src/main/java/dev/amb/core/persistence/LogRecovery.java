package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * Reads the log when the store opens: checks every segment's format version first, then reads the
 * records in order into the segments and the pending index. A torn tail of the newest segment is
 * cut off; damage elsewhere is skipped to the next intact record and reported, never thrown.
 */
final class LogRecovery {

	private static final System.Logger logger = System.getLogger(FileMessageStore.class.getName());

	private final Path directory;

	private final Segments segments;

	private final PendingIndex index;

	private final List<LogDamage> damage = new ArrayList<>();

	private final CRC32C crc = new CRC32C();

	LogRecovery(Path directory, Segments segments, PendingIndex index) {
		this.directory = directory;
		this.segments = segments;
		this.index = index;
	}

	/**
	 * Reads every segment, then deletes the ones that hold nothing unfinished.
	 * @param budget told the bytes the remaining segments take
	 * @return what was found
	 * @throws MessageStoreException if a segment has a newer format or cannot be read
	 */
	RecoveryReport recover(DiskBudget budget) {
		List<Path> files;
		try {
			files = Segments.list(this.directory);
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot list the write-ahead log directory " + this.directory + ": "
					+ IoSupport.describe(ex), ex);
		}
		checkFormatVersions(files);
		long records = 0;
		for (int i = 0; i < files.size(); i++) {
			records += scanSegment(files.get(i), i == files.size() - 1);
		}
		for (LogDamage entry : this.damage) {
			logger.log(System.Logger.Level.WARNING, "Write-ahead log recovery: " + entry.kind().name().toLowerCase(Locale.ROOT)
					+ " in " + entry.segment() + " at offset " + entry.offset() + ", " + entry.length() + " bytes: "
					+ entry.reason());
		}
		int unfinished = this.index.size();
		budget.add(this.segments.bytes());
		// No segment is active yet: every one that holds nothing unfinished, oldest first, can go
		String failed = this.segments.deleteFinished();
		if (failed != null) {
			logger.log(System.Logger.Level.WARNING, failed);
		}
		RecoveryReport report = new RecoveryReport(files.size(), records, unfinished, this.damage);
		if (!files.isEmpty()) {
			logger.log(System.Logger.Level.INFO, "Write-ahead log in " + this.directory + " recovered: " + files.size()
					+ " segments, " + records + " records, " + unfinished + " unacknowledged messages, "
					+ report.corruptRecords() + " corrupt stretches, " + report.tornBytes() + " torn bytes cut off");
		}
		return report;
	}

	private void checkFormatVersions(List<Path> files) {
		for (Path file : files) {
			try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
				ByteBuffer header = ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES);
				while (header.hasRemaining() && channel.read(header) >= 0) {
					// read the whole header if it is there
				}
				if (header.position() >= 6 && header.getInt(0) == RecordFormat.SEGMENT_MAGIC) {
					int version = header.getShort(4) & 0xFFFF;
					if (version > RecordFormat.FORMAT_VERSION) {
						throw new MessageStoreException("The write-ahead log segment " + file + " has format version "
								+ version + ", newer than the version " + RecordFormat.FORMAT_VERSION
								+ " this AMB reads. Open it with the AMB release that wrote it, or move the directory "
								+ "aside; nothing was changed");
					}
				}
			}
			catch (IOException ex) {
				throw new MessageStoreException("Cannot read the write-ahead log segment " + file + ": "
						+ IoSupport.describe(ex), ex);
			}
		}
	}

	private long scanSegment(Path file, boolean newest) {
		String name = file.getFileName().toString();
		long records = 0;
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
			long fileSize = channel.size();
			if (fileSize > Integer.MAX_VALUE) {
				throw new MessageStoreException("The write-ahead log segment " + file + " is " + fileSize
						+ " bytes, more than a segment can be; it was not written by AMB");
			}
			int limit = (int) fileSize;
			if (limit < RecordFormat.SEGMENT_HEADER_BYTES) {
				// Created, then the process died before its header reached the disk
				this.damage.add(new LogDamage(name, 0, limit, newest ? LogDamage.Kind.TORN_TAIL : LogDamage.Kind.CORRUPT,
						"the segment is shorter than its header; removed"));
				channel.close();
				Files.delete(file);
				return 0;
			}
			// Read, not mapped: a mapping would keep a deleted segment's space until the garbage collector ran
			ByteBuffer data = ByteBuffer.allocate(limit);
			while (data.hasRemaining() && channel.read(data, data.position()) >= 0) {
				// read the whole segment
			}
			data.clear();
			if (data.getInt(0) != RecordFormat.SEGMENT_MAGIC) {
				this.damage.add(new LogDamage(name, 0, RecordFormat.SEGMENT_HEADER_BYTES, LogDamage.Kind.CORRUPT,
						"the segment header is damaged; reading its records anyway"));
			}
			Segment segment = new Segment(Segments.numberOf(file), file);
			segment.size = limit;
			int position = RecordFormat.SEGMENT_HEADER_BYTES;
			while (position < limit) {
				int length = RecordFormat.intactRecordLength(data, position, limit, this.crc);
				if (length > 0) {
					records++;
					readRecord(data, position, length, segment);
					position += length;
					continue;
				}
				int next = nextIntactRecord(data, position + 1, limit);
				if (next < 0) {
					if (newest) {
						this.damage.add(new LogDamage(name, position, limit - position, LogDamage.Kind.TORN_TAIL,
								"a partial write at the end of the log; cut off"));
						channel.truncate(position);
						segment.size = position;
					}
					else {
						this.damage.add(new LogDamage(name, position, limit - position, LogDamage.Kind.CORRUPT,
								"no intact record follows in this segment"));
					}
					break;
				}
				this.damage.add(new LogDamage(name, position, next - position, LogDamage.Kind.CORRUPT,
						"bytes failed their checksum; skipped to the next intact record"));
				position = next;
			}
			this.segments.adopt(segment);
			return records;
		}
		catch (IOException ex) {
			throw new MessageStoreException("Cannot read the write-ahead log segment " + file + ": "
					+ IoSupport.describe(ex), ex);
		}
	}

	private int nextIntactRecord(ByteBuffer data, int from, int limit) {
		byte first = (byte) (RecordFormat.RECORD_MARKER >>> 24);
		for (int position = from; position <= limit - RecordFormat.RECORD_HEADER_BYTES; position++) {
			if (data.get(position) == first && RecordFormat.intactRecordLength(data, position, limit, this.crc) > 0) {
				return position;
			}
		}
		return -1;
	}

	private void readRecord(ByteBuffer data, int position, int length, Segment segment) {
		byte type = data.get(position + 12);
		int body = position + RecordFormat.RECORD_HEADER_BYTES;
		int bodyLength = length - RecordFormat.RECORD_HEADER_BYTES;
		try {
			switch (type) {
				case RecordFormat.TYPE_APPEND, RecordFormat.TYPE_APPEND_FOR -> {
					RecordFormat.Appended appended = RecordFormat.readAppend(data, body, bodyLength,
							type == RecordFormat.TYPE_APPEND_FOR);
					this.index.recovered(appended.envelope(), appended.names(), segment);
				}
				case RecordFormat.TYPE_ACK -> {
					if (bodyLength != RecordFormat.ACK_BODY_BYTES) {
						throw new IllegalArgumentException("an acknowledgement of " + bodyLength + " bytes");
					}
					this.index.acknowledged(RecordFormat.readAck(data, body));
				}
				case RecordFormat.TYPE_ACK_FOR -> {
					RecordFormat.NamedAck ack = RecordFormat.readNamedAck(data, body, bodyLength);
					this.index.acknowledged(ack.id(), ack.name());
				}
				default -> this.damage.add(new LogDamage(segment.path.getFileName().toString(), position, length,
						LogDamage.Kind.CORRUPT, "an intact record of unknown type " + type));
			}
		}
		catch (IllegalArgumentException ex) {
			this.damage.add(new LogDamage(segment.path.getFileName().toString(), position, length,
					LogDamage.Kind.CORRUPT, "an intact record that cannot be read: " + ex.getMessage()));
		}
	}

}
