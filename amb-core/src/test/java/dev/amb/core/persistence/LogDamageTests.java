package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Torn writes and bit rot in real segment files: recovery keeps every intact record, cuts off a
 * torn tail, reports every damaged stretch with its segment and offset, and never throws.
 */
class LogDamageTests {

	@TempDir
	Path directory;

	@Test
	void flippedBytesAndATornTailAreReportedAndEveryIntactRecordIsRecovered() throws Exception {
		writeRecords(300);
		List<Path> files = segmentFiles();
		assertThat(files).hasSizeGreaterThanOrEqualTo(4);
		List<RecordAt> records = layout(files);
		assertThat(records).hasSize(300);

		// Bit rot in one record of the second segment
		RecordAt rotten = recordsIn(records, files.get(1)).get(3);
		flipByte(rotten.file, rotten.offset + rotten.length - 2);
		// A lost write (zeros) over three records of the third segment
		List<RecordAt> third = recordsIn(records, files.get(2));
		RecordAt zeroedFrom = third.get(1);
		RecordAt zeroedTo = third.get(3);
		overwrite(zeroedFrom.file, zeroedFrom.offset, new byte[(int) (zeroedTo.offset + zeroedTo.length - zeroedFrom.offset)]);
		// A torn write: the newest segment ends half way through its last record
		Path newest = files.get(files.size() - 1);
		List<RecordAt> last = recordsIn(records, newest);
		RecordAt torn = last.get(last.size() - 1);
		try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.WRITE)) {
			channel.truncate(torn.offset + torn.length / 2);
		}

		Set<UUID> expected = ids(records);
		expected.remove(rotten.id);
		expected.remove(third.get(1).id);
		expected.remove(third.get(2).id);
		expected.remove(third.get(3).id);
		expected.remove(torn.id);

		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			RecoveryReport report = store.recoveryReport();
			assertThat(store.takeRecovered()).extracting(FileMessageStoreTests::idOf).containsExactlyInAnyOrderElementsOf(expected);
			assertThat(report.damage()).containsExactly(
					new LogDamage(name(rotten.file), rotten.offset, rotten.length, LogDamage.Kind.CORRUPT,
							"bytes failed their checksum; skipped to the next intact record"),
					new LogDamage(name(zeroedFrom.file), zeroedFrom.offset,
							zeroedTo.offset + zeroedTo.length - zeroedFrom.offset, LogDamage.Kind.CORRUPT,
							"bytes failed their checksum; skipped to the next intact record"),
					new LogDamage(name(newest), torn.offset, torn.length / 2, LogDamage.Kind.TORN_TAIL,
							"a partial write at the end of the log; cut off"));
			assertThat(report.corruptRecords()).isEqualTo(2);
			assertThat(report.tornBytes()).isEqualTo(torn.length / 2);
			assertThat(store.health().corruptRecords()).isEqualTo(2);
			assertThat(Files.size(newest)).as("torn tail cut off").isEqualTo(torn.offset);
			// The log still works after recovery, and what is appended now survives the next start
			store.append(FileMessageStoreTests.envelope("after", "recovery")).get(10, TimeUnit.SECONDS);
		}
		try (FileMessageStore again = FileMessageStore.open(this.directory)) {
			assertThat(again.takeRecovered()).hasSize(expected.size() + 1);
			assertThat(again.recoveryReport().damage()).extracting(LogDamage::kind)
				.as("the cut tail is gone; the damage in the middle is reported again, never hidden")
				.containsExactly(LogDamage.Kind.CORRUPT, LogDamage.Kind.CORRUPT);
		}
	}

	@Test
	void zerosAfterTheLastRecordAreATornTail() throws Exception {
		writeRecords(20);
		List<Path> files = segmentFiles();
		Path newest = files.get(files.size() - 1);
		long size = Files.size(newest);
		overwrite(newest, size, new byte[4096]);
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			assertThat(store.takeRecovered()).hasSize(20);
			assertThat(store.recoveryReport().damage()).extracting(LogDamage::kind, LogDamage::offset, LogDamage::length)
				.containsExactly(org.assertj.core.groups.Tuple.tuple(LogDamage.Kind.TORN_TAIL, size, 4096L));
		}
	}

	@Test
	void aSegmentCutShorterThanItsHeaderIsRemovedAndReported() throws Exception {
		writeRecords(5);
		Path headerless = this.directory.resolve(String.format("%020d.wal", 999));
		Files.write(headerless, new byte[] { 0x41, 0x4D });
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			assertThat(store.takeRecovered()).hasSize(5);
			assertThat(store.recoveryReport().damage()).singleElement()
				.satisfies((damage) -> assertThat(damage.kind()).isEqualTo(LogDamage.Kind.TORN_TAIL));
			assertThat(headerless).doesNotExist();
		}
	}

	@ParameterizedTest
	@ValueSource(ints = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 })
	void randomBitRotLosesExactlyTheRecordsItTouches(int seed) throws Exception {
		writeRecords(200);
		List<Path> files = segmentFiles();
		List<RecordAt> records = layout(files);
		Random random = new Random(seed);
		Set<UUID> touched = new HashSet<>();
		int flips = 1 + random.nextInt(8);
		for (int i = 0; i < flips; i++) {
			Path file = files.get(random.nextInt(files.size()));
			long size = Files.size(file);
			long position = RecordFormat.SEGMENT_HEADER_BYTES + (long) (random.nextDouble() * (size - RecordFormat.SEGMENT_HEADER_BYTES));
			flipByte(file, position);
			for (RecordAt record : recordsIn(records, file)) {
				if (position >= record.offset && position < record.offset + record.length) {
					touched.add(record.id);
				}
			}
		}
		Set<UUID> intact = ids(records);
		intact.removeAll(touched);
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			assertThat(store.takeRecovered()).extracting(FileMessageStoreTests::idOf).containsExactlyInAnyOrderElementsOf(intact);
			List<LogDamage> damage = store.recoveryReport().damage();
			assertThat(damage).isNotEmpty();
			long damagedBytes = damage.stream().mapToLong(LogDamage::length).sum();
			long touchedBytes = records.stream().filter((record) -> touched.contains(record.id)).mapToLong((record) -> record.length).sum();
			assertThat(damagedBytes).as("every touched record is inside a reported stretch").isEqualTo(touchedBytes);
		}
	}

	private void writeRecords(int count) throws Exception {
		try (FileMessageStore store = FileMessageStore.builder(this.directory).segmentBytes(8 * 1024).build()) {
			for (int i = 0; i < count; i++) {
				store.append(FileMessageStoreTests.envelope("damage", "record " + i + " " + "z".repeat(i % 97))).get(10,
						TimeUnit.SECONDS);
			}
		}
	}

	private List<Path> segmentFiles() throws IOException {
		try (Stream<Path> files = Files.list(this.directory)) {
			// The store opens a fresh segment on every start; an empty one holds nothing to damage
			return files.filter((file) -> file.toString().endsWith(".wal"))
				.filter((file) -> sizeOf(file) > RecordFormat.SEGMENT_HEADER_BYTES)
				.sorted()
				.toList();
		}
	}

	private static long sizeOf(Path file) {
		try {
			return Files.size(file);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/** Where each record is, read with the format's own check before anything is damaged. */
	private static List<RecordAt> layout(List<Path> files) throws IOException {
		List<RecordAt> records = new ArrayList<>();
		CRC32C crc = new CRC32C();
		for (Path file : files) {
			ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(file));
			int position = RecordFormat.SEGMENT_HEADER_BYTES;
			while (position < data.capacity()) {
				int length = RecordFormat.intactRecordLength(data, position, data.capacity(), crc);
				assertThat(length).as("an undamaged log is intact").isPositive();
				int body = position + RecordFormat.RECORD_HEADER_BYTES;
				records.add(new RecordAt(file, position, length, new UUID(data.getLong(body), data.getLong(body + 8))));
				position += length;
			}
		}
		return records;
	}

	private static List<RecordAt> recordsIn(List<RecordAt> records, Path file) {
		return records.stream().filter((record) -> record.file.equals(file)).toList();
	}

	private static Set<UUID> ids(List<RecordAt> records) {
		Set<UUID> ids = new HashSet<>();
		records.forEach((record) -> ids.add(record.id));
		return ids;
	}

	private static void flipByte(Path file, long position) throws IOException {
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
			ByteBuffer one = ByteBuffer.allocate(1);
			channel.read(one, position);
			one.put(0, (byte) (one.get(0) ^ 0x5A));
			one.rewind();
			channel.write(one, position);
		}
	}

	private static void overwrite(Path file, long position, byte[] bytes) throws IOException {
		try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
			channel.write(ByteBuffer.wrap(bytes), position);
		}
	}

	private static String name(Path file) {
		return file.getFileName().toString();
	}

	private record RecordAt(Path file, long offset, int length, UUID id) {
	}

}
