package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.inmemory.InMemoryBroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * The crash test: a child JVM ({@link WalCrashChild}) publishes with policy ALWAYS through a bus
 * with the in-memory backend and a write-ahead log, to a group and a broadcast subscription with a
 * durable name, and is killed with SIGKILL ({@link Process#destroyForcibly()} on Linux) at a random
 * moment, again and again on the same directory. After each kill a bus in this JVM opens the log,
 * subscribes with the same durable names (and one the child never had), replays it and checks
 * that every publish whose future completed in the child was delivered to each of the two
 * subscriptions (by the child before the kill, or by the replay after it) with the id its publish
 * returned, that nothing delivered was never published, and that nothing is replayed to the durable
 * name the messages were never meant for.
 * <p>
 * 50 kills by default (and a fifth as many under {@code NEVER}, which a process crash must not
 * break either); {@code -Damb.wal.crash.kills=500} runs longer, for example
 * {@code ./mvnw -pl amb-core -Dtest=WalCrashTests -Damb.wal.crash.kills=500 test}.
 */
class WalCrashTests {

	private static final int KILLS = Integer.getInteger("amb.wal.crash.kills", 50);

	private static final List<String> NAMES = List.of("group:" + WalCrashChild.GROUP, "name:" + WalCrashChild.AUDIT);

	/** Kept when the test fails, with each killed child's output, for the post-mortem. */
	@TempDir(cleanup = CleanupMode.ON_SUCCESS)
	Path directory;

	@Test
	void everyCompletedPublishSurvivesSigkill() throws Exception {
		crashLoop(FsyncPolicy.ALWAYS, KILLS);
	}

	/**
	 * Under {@code NEVER} a completed publish is only in the operating system's cache, which a killed
	 * process does not lose: the same promise holds for a process crash, with fewer kills.
	 */
	@Test
	void everyCompletedPublishSurvivesSigkillWithoutFsyncToo() throws Exception {
		crashLoop(FsyncPolicy.NEVER, Math.max(10, KILLS / 5));
	}

	private void crashLoop(FsyncPolicy policy, int kills) throws Exception {
		Path wal = this.directory.resolve("wal-" + policy.name().toLowerCase(java.util.Locale.ROOT));
		Path childLog = this.directory.resolve("child-stderr.log");
		Random random = new Random();
		long seed = random.nextLong();
		random.setSeed(seed);
		Set<String> attempted = new HashSet<>();
		long completedTotal = 0;
		long replayedTotal = 0;
		Map<String, Long> replayedByName = new java.util.TreeMap<>();
		long redelivered = 0;
		long tornTails = 0;
		int killedBeforeReady = 0;
		for (int round = 0; round < kills; round++) {
			String tag = "r" + round;
			// A file, not a pipe: whatever the child wrote before the kill is in it, with no reader to race
			Path stdout = this.directory.resolve("child-" + tag + ".out");
			Process child = new ProcessBuilder(javaCommand(), "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
					"-cp", System.getProperty("java.class.path"), WalCrashChild.class.getName(), wal.toString(), tag,
					policy.name())
				.redirectOutput(stdout.toFile())
				.redirectError(ProcessBuilder.Redirect.appendTo(childLog.toFile()))
				.start();
			boolean early = random.nextInt(100) < 15;
			if (early) {
				// Sometimes while it starts, recovers or replays
				Thread.sleep(random.nextInt(600));
				killedBeforeReady += isReady(stdout) ? 0 : 1;
			}
			else {
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
				while (!isReady(stdout) && child.isAlive() && System.nanoTime() < deadline) {
					Thread.sleep(10);
				}
				assertThat(isReady(stdout)).as("child %s became ready; see %s", tag, childLog).isTrue();
				Thread.sleep(50 + random.nextInt(700));
			}
			child.destroyForcibly();
			assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
			assertThat(child.exitValue()).as("killed by SIGKILL; see %s", childLog).isEqualTo(137);

			Map<String, String> completed = new HashMap<>();
			// Per durable name: the payloads delivered, and the id each was delivered with
			Map<String, Map<String, String>> delivered = new HashMap<>();
			for (String name : NAMES) {
				delivered.put(name, new HashMap<>());
			}
			for (String line : lines(stdout)) {
				String[] parts = line.split(" ");
				switch (parts[0]) {
					case "A" -> attempted.add(parts[1]);
					case "P" -> completed.put(parts[2], parts[1]);
					case "D" -> delivered.get(parts[1]).put(parts[3], parts[2]);
					case "READY" -> {
					}
					default -> throw new AssertionError("Unexpected line from the child: " + line);
				}
			}

			java.util.Queue<String[]> replayed = new java.util.concurrent.ConcurrentLinkedQueue<>();
			FileMessageStore store = FileMessageStore.open(wal);
			RecoveryReport report = store.recoveryReport();
			assertThat(report.corruptRecords()).as("a killed process tears at most the tail: %s", report.damage()).isZero();
			tornTails += report.damage().size();
			DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
			try {
				bus.subscribe(WalCrashChild.TOPIC, String.class, (message) -> replayed.add(new String[] {
						"group:" + WalCrashChild.GROUP, message.getId().toString(), message.getPayload() }),
						SubscribeOptions.builder().group(WalCrashChild.GROUP).build());
				bus.subscribe(WalCrashChild.TOPIC, String.class, (message) -> replayed.add(new String[] {
						"name:" + WalCrashChild.AUDIT, message.getId().toString(), message.getPayload() }),
						SubscribeOptions.builder().durableName(WalCrashChild.AUDIT).build());
				bus.subscribe(WalCrashChild.TOPIC, String.class, (message) -> replayed.add(new String[] {
						"name:stranger", message.getId().toString(), message.getPayload() }),
						SubscribeOptions.builder().durableName("stranger").build());
				replayedTotal += bus.replay();
				// Every name the messages were meant for is here: the log empties
				await().atMost(Duration.ofSeconds(60)).until(() -> bus.store().health().pending() == 0);
			}
			finally {
				bus.close();
			}
			for (String[] entry : replayed) {
				assertThat(entry[0]).as("nothing is replayed to a durable name it was never meant for").isNotEqualTo("name:stranger");
				replayedByName.merge(entry[0], 1L, Long::sum);
				String earlier = delivered.get(entry[0]).putIfAbsent(entry[2], entry[1]);
				if (earlier != null) {
					redelivered++;
				}
				assertThat(earlier == null || earlier.equals(entry[1])).as("a redelivery keeps the original id").isTrue();
			}
			for (String name : NAMES) {
				Map<String, String> deliveredIds = delivered.get(name);
				// Plain Set.contains: AssertJ's contains would scan the whole set for each message
				for (String payload : deliveredIds.keySet()) {
					if (!attempted.contains(payload)) {
						fail("Round %s delivered %s to %s, which was never published (seed %d, output %s)", tag, payload,
								name, seed, stdout);
					}
				}
				for (Map.Entry<String, String> entry : completed.entrySet()) {
					if (!deliveredIds.containsKey(entry.getKey())) {
						fail("Round %s: the publish of %s completed but it was never delivered to %s (seed %d, output %s)",
								tag, entry.getKey(), name, seed, stdout);
					}
					if (!entry.getValue().equals(deliveredIds.get(entry.getKey()))) {
						fail("Round %s: %s was published as %s but delivered to %s as %s", tag, entry.getKey(),
								entry.getValue(), name, deliveredIds.get(entry.getKey()));
					}
				}
			}
			completedTotal += completed.size();
			Files.delete(stdout);
		}
		System.out.printf("WalCrashTests (" + policy + "): %d SIGKILLs (%d before the child was ready), %d completed publishes checked, "
				+ "%d messages replayed after kills (by durable name %s; %d of them had reached that subscription before "
				+ "the kill, unacknowledged), %d torn tails cut off, seed %d%n", kills, killedBeforeReady, completedTotal,
				replayedTotal, replayedByName, redelivered, tornTails, seed);
		assertThat(completedTotal).as("the children got publishes through").isGreaterThan(kills);
		assertThat(replayedTotal).as("kills left unacknowledged messages behind to replay").isPositive();
	}

	private static String javaCommand() {
		return Path.of(System.getProperty("java.home"), "bin", "java").toString();
	}

	private static boolean isReady(Path stdout) throws IOException {
		return Files.exists(stdout) && Files.readString(stdout, StandardCharsets.UTF_8).contains("READY\n");
	}

	/** The child's complete lines; a line cut by the kill (no newline yet) is dropped. */
	private static List<String> lines(Path stdout) throws IOException {
		String text = Files.readString(stdout, StandardCharsets.UTF_8);
		int end = text.lastIndexOf('\n');
		List<String> lines = new ArrayList<>();
		if (end < 0) {
			return lines;
		}
		for (String line : text.substring(0, end).split("\n")) {
			if (!line.isEmpty()) {
				lines.add(line);
			}
		}
		return lines;
	}

}
