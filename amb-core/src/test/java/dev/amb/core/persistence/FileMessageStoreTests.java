package dev.amb.core.persistence;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.amb.core.BackpressureException;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.spi.Envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * The log on a real file system: appends, acknowledgements, recovery of what was not
 * acknowledged, segment rotation and deletion, the disk-usage cap, health.
 */
class FileMessageStoreTests {

	@TempDir
	Path directory;

	@ParameterizedTest
	@EnumSource(FsyncPolicy.class)
	void unacknowledgedMessagesAreRecoveredInOrderWithTheirIds(FsyncPolicy policy) throws Exception {
		List<Envelope> published = new ArrayList<>();
		try (FileMessageStore store = FileMessageStore.builder(this.directory).fsync(policy)
			.fsyncInterval(Duration.ofMillis(5)).build()) {
			for (int i = 0; i < 100; i++) {
				Envelope envelope = envelope("orders", "message-" + i);
				published.add(envelope);
				store.append(envelope).get(10, TimeUnit.SECONDS);
			}
			for (int i = 0; i < 100; i += 2) {
				store.acknowledge(published.get(i).id());
			}
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			List<Envelope> recovered = envelopes(reopened.takeRecovered());
			assertThat(recovered).extracting(Envelope::id)
				.containsExactlyElementsOf(published.stream().filter((e) -> published.indexOf(e) % 2 == 1).map(Envelope::id).toList());
			assertThat(new String(recovered.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("message-1");
			assertThat(reopened.takeRecovered()).as("handed over once").isEmpty();
			assertThat(reopened.recoveryReport().damage()).isEmpty();
			assertThat(reopened.recoveryReport().unacknowledged()).isEqualTo(50);
			assertThat(reopened.health().pending()).isEqualTo(50);
		}
	}

	@Test
	void eachMessageIsRecoveredWithTheDurableNamesThatHadNotAcknowledgedIt() throws Exception {
		String[] both = { "group:billing", "name:audit" };
		Envelope neither = envelope("orders", "acknowledged by neither");
		Envelope billingOnly = envelope("orders", "acknowledged by billing");
		Envelope all = envelope("orders", "acknowledged by both");
		Envelope nobody = envelope("orders", "meant for nobody");
		Envelope single = envelope("orders", "meant for audit alone");
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			store.append(neither, both).get(10, TimeUnit.SECONDS);
			store.append(billingOnly, both).get(10, TimeUnit.SECONDS);
			store.append(all, both).get(10, TimeUnit.SECONDS);
			store.append(nobody, new String[0]).get(10, TimeUnit.SECONDS);
			store.append(single, new String[] { "name:audit" }).get(10, TimeUnit.SECONDS);
			store.acknowledge(billingOnly.id(), "group:billing");
			store.acknowledge(billingOnly.id(), "group:billing");
			store.acknowledge(billingOnly.id(), "group:unknown");
			store.acknowledge(all.id(), "name:audit");
			store.acknowledge(all.id(), "group:billing");
			store.acknowledge(UUID.randomUUID(), "name:audit");
			await().atMost(Duration.ofSeconds(5)).until(() -> store.health().pending() == 3);
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			List<RecoveredMessage> recovered = reopened.takeRecovered();
			assertThat(recovered).extracting(FileMessageStoreTests::idOf)
				.containsExactly(neither.id(), billingOnly.id(), single.id());
			assertThat(recovered.get(0).durableNames()).containsExactly("group:billing", "name:audit");
			assertThat(recovered.get(1).durableNames()).containsExactly("name:audit");
			assertThat(recovered.get(2).durableNames()).containsExactly("name:audit");
			assertThat(recovered).noneMatch(RecoveredMessage::isUnnamed);
			assertThat(reopened.health().pending()).isEqualTo(3);
			// After a restart the names still owe it, and acknowledging them finishes it
			reopened.acknowledge(neither.id(), "name:audit");
			reopened.acknowledge(single.id(), "name:audit");
			await().atMost(Duration.ofSeconds(5)).until(() -> reopened.health().pending() == 2);
		}
		try (FileMessageStore again = FileMessageStore.open(this.directory)) {
			List<RecoveredMessage> recovered = again.takeRecovered();
			assertThat(recovered).extracting(FileMessageStoreTests::idOf).containsExactly(neither.id(), billingOnly.id());
			assertThat(recovered.get(0).durableNames()).containsExactly("group:billing");
			// One acknowledgement for all finishes a named message too
			again.acknowledge(neither.id());
			again.acknowledge(billingOnly.id(), "name:audit");
			await().atMost(Duration.ofSeconds(5)).until(() -> again.health().pending() == 0);
		}
		try (FileMessageStore last = FileMessageStore.open(this.directory)) {
			assertThat(last.takeRecovered()).isEmpty();
		}
	}

	@Test
	void aSegmentIsDeletedOnlyOnceEveryDurableNameAcknowledgedItsMessages() throws Exception {
		String[] names = { "group:billing", "name:audit" };
		List<UUID> ids = new ArrayList<>();
		try (FileMessageStore store = FileMessageStore.builder(this.directory).segmentBytes(8 * 1024).build()) {
			for (int i = 0; i < 200; i++) {
				Envelope envelope = envelope("rotate", "x".repeat(200));
				ids.add(envelope.id());
				store.append(envelope, names).get(10, TimeUnit.SECONDS);
			}
			int written = segmentFiles().size();
			assertThat(written).isGreaterThan(4);
			// Every message acknowledged by audit, all but the first by billing: the first segment stays, and the ones after it
			for (UUID id : ids) {
				store.acknowledge(id, "name:audit");
			}
			for (UUID id : ids.subList(1, ids.size())) {
				store.acknowledge(id, "group:billing");
			}
			store.append(envelope("rotate", "marker"), names).get(10, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).until(() -> store.health().pending() == 2);
			assertThat(segmentFiles()).hasSizeGreaterThanOrEqualTo(written);
			store.acknowledge(ids.get(0), "name:audit");
			store.append(envelope("rotate", "still waits for billing"), names).get(10, TimeUnit.SECONDS);
			assertThat(segmentFiles()).hasSizeGreaterThanOrEqualTo(written);
			store.acknowledge(ids.get(0), "group:billing");
			store.append(envelope("rotate", "last"), names).get(10, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(segmentFiles()).hasSizeLessThanOrEqualTo(2));
			assertThat(store.health().pending()).isEqualTo(3);
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			assertThat(envelopes(reopened.takeRecovered())).extracting((e) -> new String(e.payload(), StandardCharsets.UTF_8))
				.containsExactly("marker", "still waits for billing", "last");
		}
	}

	@Test
	void aLogOfFormatVersionOneIsStillRecovered() throws Exception {
		Envelope kept = envelope("legacy", "kept");
		Envelope acknowledged = envelope("legacy", "acknowledged");
		byte[] first = RecordFormat.appendRecord(kept);
		byte[] second = RecordFormat.appendRecord(acknowledged);
		java.nio.ByteBuffer segment = java.nio.ByteBuffer.allocate(RecordFormat.SEGMENT_HEADER_BYTES + first.length
				+ second.length + RecordFormat.ACK_RECORD_BYTES);
		segment.putInt(RecordFormat.SEGMENT_MAGIC).putShort((short) 1).putShort((short) 0).putLong(7);
		segment.put(first).put(second);
		RecordFormat.writeAckRecord(segment, acknowledged.id(), new java.util.zip.CRC32C());
		Files.write(this.directory.resolve(String.format("%020d.wal", 7)), segment.array());
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			assertThat(store.recoveryReport().damage()).isEmpty();
			List<RecoveredMessage> recovered = store.takeRecovered();
			assertThat(recovered).extracting(FileMessageStoreTests::idOf).containsExactly(kept.id());
			assertThat(recovered.get(0).isUnnamed()).isTrue();
			// A named acknowledgement does not finish a message logged without names; one for all does
			store.acknowledge(kept.id(), "name:audit");
			store.append(envelope("legacy", "after"), new String[0]).get(10, TimeUnit.SECONDS);
			assertThat(store.health().pending()).isEqualTo(1);
			store.acknowledge(kept.id());
			await().atMost(Duration.ofSeconds(5)).until(() -> store.health().pending() == 0);
		}
		assertThat(segmentFiles()).as("the old segment is deleted once finished").hasSize(1);
	}

	@Test
	void concurrentAppendsAllCompleteAndAreRecovered() throws Exception {
		int threads = 8;
		int perThread = 500;
		List<CompletableFuture<Void>> futures = new ArrayList<>();
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		java.util.concurrent.atomic.AtomicLong forces = new java.util.concurrent.atomic.AtomicLong();
		try (FileMessageStore store = FileMessageStore.builder(this.directory).fsyncListener((nanos) -> forces.incrementAndGet())
			.build()) {
			List<CompletableFuture<List<CompletableFuture<Void>>>> submitted = new ArrayList<>();
			for (int t = 0; t < threads; t++) {
				int thread = t;
				submitted.add(CompletableFuture.supplyAsync(() -> {
					List<CompletableFuture<Void>> mine = new ArrayList<>();
					for (int i = 0; i < perThread; i++) {
						mine.add(store.append(envelope("load", thread + ":" + i)));
					}
					return mine;
				}, pool));
			}
			for (CompletableFuture<List<CompletableFuture<Void>>> each : submitted) {
				futures.addAll(each.get(30, TimeUnit.SECONDS));
			}
			CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
			StoreHealth health = store.health();
			assertThat(health.pending()).isEqualTo(threads * perThread);
			assertThat(health.fsyncs()).as("group commit: concurrent appends share forces")
				.isPositive()
				.isLessThan(threads * perThread);
			assertThat(forces).hasValue(health.fsyncs());
			assertThat(health.lastFsync()).isPositive();
			assertThat(health.p99Fsync()).isPositive();
		}
		finally {
			pool.shutdownNow();
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			assertThat(reopened.takeRecovered()).hasSize(threads * perThread);
		}
	}

	@Test
	void segmentsRotateAndAreDeletedOnceAcknowledged() throws Exception {
		List<UUID> ids = new ArrayList<>();
		try (FileMessageStore store = FileMessageStore.builder(this.directory).segmentBytes(8 * 1024).build()) {
			for (int i = 0; i < 200; i++) {
				Envelope envelope = envelope("rotate", "x".repeat(200));
				ids.add(envelope.id());
				store.append(envelope).get(10, TimeUnit.SECONDS);
			}
			assertThat(segmentFiles()).hasSizeGreaterThan(4);
			assertThat(store.health().segments()).isEqualTo(segmentFiles().size());
			// The first message pins the oldest segment, and the segments after it wait in order
			for (int i = 1; i < ids.size(); i++) {
				store.acknowledge(ids.get(i));
			}
			Envelope marker = envelope("rotate", "after");
			store.append(marker).get(10, TimeUnit.SECONDS);
			assertThat(segmentFiles()).hasSizeGreaterThan(4);
			store.acknowledge(ids.get(0));
			store.append(envelope("rotate", "last")).get(10, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(segmentFiles()).hasSizeLessThanOrEqualTo(2));
			assertThat(store.health().pending()).isEqualTo(2);
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			assertThat(reopened.takeRecovered()).extracting((e) -> new String(e.envelope().payload(), StandardCharsets.UTF_8))
				.containsExactly("after", "last");
		}
	}

	@Test
	void theDiskUsageCapRefusesPublishesWithBackpressureAndLosesNothing() throws Exception {
		List<UUID> accepted = new ArrayList<>();
		try (FileMessageStore store = FileMessageStore.builder(this.directory).maxDiskBytes(64 * 1024)
			.capWait(Duration.ofMillis(200)).build()) {
			BackpressureException refused = null;
			for (int i = 0; i < 1000 && refused == null; i++) {
				Envelope envelope = envelope("capped", "y".repeat(500));
				try {
					store.append(envelope).get(10, TimeUnit.SECONDS);
					accepted.add(envelope.id());
				}
				catch (BackpressureException ex) {
					refused = ex;
				}
			}
			assertThat(refused).as("the cap was reached").isNotNull();
			assertThat(refused.getMessage()).contains("disk-usage cap of 65536 bytes").contains("Nothing was lost");
			assertThat(accepted).hasSizeGreaterThan(50);
			assertThat(store.health().bytesUsed()).isLessThanOrEqualTo(64 * 1024);
			// Acknowledging makes room again: the publisher waits, then gets through
			for (UUID id : accepted.subList(0, accepted.size() / 2)) {
				store.acknowledge(id);
			}
			Envelope later = envelope("capped", "after the acknowledgements");
			store.append(later).get(10, TimeUnit.SECONDS);
			accepted.subList(0, accepted.size() / 2).clear();
			accepted.add(later.id());
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			assertThat(reopened.takeRecovered()).extracting(FileMessageStoreTests::idOf).containsExactlyElementsOf(accepted);
		}
	}

	@Test
	void intervalForcesInTheBackgroundAndNeverOnlyOnClose() throws Exception {
		try (FileMessageStore store = FileMessageStore.builder(this.directory.resolve("interval"))
			.fsync(FsyncPolicy.INTERVAL)
			.fsyncInterval(Duration.ofMillis(50))
			.build()) {
			store.append(envelope("t", "x")).get(10, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).until(() -> store.health().fsyncs() >= 1);
		}
		try (FileMessageStore store = FileMessageStore.builder(this.directory.resolve("never")).fsync(FsyncPolicy.NEVER).build()) {
			for (int i = 0; i < 100; i++) {
				store.append(envelope("t", "x")).get(10, TimeUnit.SECONDS);
			}
			assertThat(store.health().fsyncs()).isZero();
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory.resolve("never"))) {
			assertThat(reopened.takeRecovered()).hasSize(100);
		}
	}

	@Test
	void healthReportsPendingAgeAndDisk() throws Exception {
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			StoreHealth empty = store.health();
			assertThat(empty.writable()).isTrue();
			assertThat(empty.policy()).isEqualTo(FsyncPolicy.ALWAYS);
			assertThat(empty.pending()).isZero();
			assertThat(empty.oldestPendingAge()).isZero();
			assertThat(empty.freeDiskBytes()).isPositive();
			assertThat(empty.segments()).isEqualTo(1);
			assertThat(empty.corruptRecords()).isZero();
			Envelope old = new Envelope(MessageIds.next(), "aged", null, Priority.NORMAL,
					System.currentTimeMillis() - 60_000, null, null, null, null, 0, Map.of(), new byte[] { 1 });
			store.append(old).get(10, TimeUnit.SECONDS);
			StoreHealth one = store.health();
			assertThat(one.pending()).isEqualTo(1);
			assertThat(one.oldestPendingAge()).isGreaterThanOrEqualTo(Duration.ofSeconds(59));
			assertThat(one.bytesUsed()).isGreaterThan(RecordFormat.SEGMENT_HEADER_BYTES);
			store.acknowledge(old.id());
			await().atMost(Duration.ofSeconds(5)).until(() -> store.health().pending() == 0);
			assertThat(store.health().oldestPendingAge()).isZero();
		}
	}

	@Test
	void aClosedStoreRefusesAppendsClearlyAndIgnoresAcknowledgements() {
		FileMessageStore store = FileMessageStore.open(this.directory);
		store.close();
		store.close();
		assertThatExceptionOfType(MessageStoreException.class).isThrownBy(() -> store.append(envelope("t", "late")))
			.withMessageContaining("is closed");
		store.acknowledge(UUID.randomUUID());
		assertThat(store.health().writable()).isFalse();
	}

	@Test
	void aRecordLargerThanTheBatchBufferIsWrittenWhole() throws Exception {
		byte[] big = new byte[3 * 1024 * 1024];
		new java.util.Random(7).nextBytes(big);
		Envelope envelope = new Envelope(MessageIds.next(), "big", null, Priority.NORMAL, 1, null, null, null, null, 0,
				Map.of(), big);
		try (FileMessageStore store = FileMessageStore.open(this.directory)) {
			store.append(envelope("big", "before")).get(10, TimeUnit.SECONDS);
			store.append(envelope).get(10, TimeUnit.SECONDS);
			store.append(envelope("big", "after")).get(10, TimeUnit.SECONDS);
		}
		try (FileMessageStore reopened = FileMessageStore.open(this.directory)) {
			List<Envelope> recovered = envelopes(reopened.takeRecovered());
			assertThat(recovered).hasSize(3);
			assertThat(recovered.get(1).payload()).isEqualTo(big);
		}
	}

	private List<Path> segmentFiles() throws Exception {
		try (Stream<Path> files = Files.list(this.directory)) {
			return files.filter((file) -> file.toString().endsWith(".wal")).sorted().toList();
		}
	}

	static UUID idOf(RecoveredMessage recovered) {
		return recovered.envelope().id();
	}

	static List<Envelope> envelopes(List<RecoveredMessage> recovered) {
		return recovered.stream().map(RecoveredMessage::envelope).toList();
	}

	static Envelope envelope(String topic, String payload) {
		return new Envelope(MessageIds.next(), topic, null, Priority.NORMAL, System.currentTimeMillis(), "/test",
				"text/plain", null, null, 0, Map.of(), payload.getBytes(StandardCharsets.UTF_8));
	}

}
