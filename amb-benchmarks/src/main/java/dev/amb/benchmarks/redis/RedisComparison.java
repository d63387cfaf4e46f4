package dev.amb.benchmarks.redis;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static dev.amb.benchmarks.RoundStats.median;

/**
 * AMB against the raw loops in alternating rounds, so that both see the same load on a shared
 * machine. Run with
 * {@code java -cp amb-benchmarks/target/amb-benchmarks.jar dev.amb.benchmarks.redis.RedisComparison [rounds] [messages] [only]}
 * (defaults 15 rounds of 20,000 messages per path; {@code only}, a regular expression, runs the benchmarks it matches).
 * <p>
 * Treats both sides alike: a warm-up of {@code -Dwarmup.seconds} (20 by default) that runs every
 * path before anything is recorded, since on a small machine the JIT compiler takes a core for
 * many seconds and would otherwise fall on whichever path it happens to be compiling; an
 * order that reverses every round, so that neither side always runs first. Reports each path's
 * median and the median of the per-round AMB/raw ratios, which pairs each AMB turn with the raw
 * turn next to it in time. {@code -Dstats} prints, per turn, the Redis commands sent, Redis's
 * CPU time, the JIT's time and the context switches per thread.
 */
public final class RedisComparison {

	private static final String[] NAMES = { "ambPublish", "rawPublish", "rawPublishEnvelope", "ambEndToEnd",
			"rawEndToEnd", "rawEndToEndEnvelope" };

	private RedisComparison() {
	}

	public static void main(String[] args) throws Exception {
		int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 15;
		long messages = (args.length > 1) ? Long.parseLong(args[1]) : 20_000;
		String only = (args.length > 2) ? args[2] : null;
		long warmupNanos = Long.getLong("warmup.seconds", 20) * 1_000_000_000L;
		boolean stats = System.getProperty("stats") != null;
		RedisThroughputBenchmark benchmark = new RedisThroughputBenchmark();
		benchmark.setUp();
		try {
			List<List<Double>> rates = new ArrayList<>();
			List<List<Double>> cpu = new ArrayList<>();
			for (int i = 0; i < NAMES.length; i++) {
				rates.add(new ArrayList<>());
				cpu.add(new ArrayList<>());
			}
			long warmupEnd = System.nanoTime() + warmupNanos;
			int warmups = 0;
			int order = 0;
			for (int round = 0; round < rounds; round++) {
				boolean warmup = System.nanoTime() - warmupEnd < 0 || warmups < 2;
				if (warmup) {
					warmups++;
					round--;
				}
				StringBuilder line = new StringBuilder(warmup ? "warmup " + warmups + ":" : "round " + (round + 1) + ":");
				for (int turn = 0; turn < NAMES.length; turn++) {
					// Every other round backwards: each AMB path runs before its raw loops once, after them once.
					int i = (order % 2 == 0) ? turn : NAMES.length - 1 - turn;
					if (only != null && !NAMES[i].matches(only)) {
						continue;
					}
					Properties before = stats ? stats() : null;
					Map<String, Long> switchesBefore = stats ? switches() : null;
					long compileBefore = ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
					long invocations = Math.max(1, messages / perInvocation(i));
					long cpuStart = cpu();
					long start = System.nanoTime();
					for (long n = 0; n < invocations; n++) {
						run(benchmark, i);
					}
					long elapsed = System.nanoTime() - start;
					long sent = invocations * perInvocation(i);
					double rate = sent * 1e9 / elapsed;
					double cpuPerMessage = (cpu() - cpuStart) / (double) sent;
					line.append(String.format(" %s %,.0f", NAMES[i], rate));
					if (!warmup) {
						rates.get(i).add(rate);
						cpu.get(i).add(cpuPerMessage);
					}
					if (stats) {
						System.out.println("  " + NAMES[i] + " " + statsLine(before, switchesBefore, compileBefore, sent));
					}
				}
				System.out.println(line);
				order++;
			}
			System.out.println();
			for (int i = 0; i < NAMES.length; i++) {
				if (rates.get(i).isEmpty()) {
					continue;
				}
				List<Double> sorted = sorted(rates.get(i));
				System.out.printf("%-20s median %,9.0f msg/s  (min %,9.0f, max %,9.0f, %d rounds of %,d); JVM CPU %,.1f us/msg%n",
						NAMES[i], median(sorted), sorted.get(0), sorted.get(sorted.size() - 1), sorted.size(),
						Math.max(1, messages / perInvocation(i)) * perInvocation(i), median(cpu.get(i)) / 1000);
			}
			System.out.printf("warm-up: %d rounds, %d s%n", warmups, warmupNanos / 1_000_000_000L);
			ratios("publish", rates.get(0), rates.get(1));
			ratios("end-to-end", rates.get(3), rates.get(4));
			ratios("publish, envelope loop", rates.get(0), rates.get(2));
			ratios("end-to-end, envelope loop", rates.get(3), rates.get(5));
		}
		finally {
			benchmark.tearDown();
		}
	}

	private static void run(RedisThroughputBenchmark benchmark, int i) {
		switch (i) {
			case 0 -> benchmark.ambPublish();
			case 1 -> benchmark.rawPublish();
			case 2 -> benchmark.rawPublishEnvelope();
			case 3 -> benchmark.ambEndToEnd();
			case 4 -> benchmark.rawEndToEnd();
			default -> benchmark.rawEndToEndEnvelope();
		}
	}

	private static int perInvocation(int i) {
		return (i < 3) ? RedisThroughputBenchmark.MESSAGES : RedisThroughputBenchmark.END_TO_END_MESSAGES;
	}

	/** Prints the ratio of the medians, and the median, lowest and highest of the per-round ratios. */
	private static void ratios(String what, List<Double> amb, List<Double> raw) {
		if (amb.isEmpty() || raw.isEmpty()) {
			return;
		}
		List<Double> perRound = new ArrayList<>();
		int atLeast80 = 0;
		for (int i = 0; i < amb.size(); i++) {
			double ratio = amb.get(i) / raw.get(i);
			perRound.add(ratio);
			atLeast80 += (ratio >= 0.8) ? 1 : 0;
		}
		List<Double> sorted = sorted(perRound);
		System.out.printf("AMB/raw %-26s ratio of medians %4.0f%%; per round: median %4.0f%%, min %4.0f%%, max %4.0f%%, %d of %d rounds >= 80%%%n",
				what + ":", median(amb) / median(raw) * 100, median(sorted) * 100, sorted.get(0) * 100,
				sorted.get(sorted.size() - 1) * 100, atLeast80, sorted.size());
	}

	private static String statsLine(Properties before, Map<String, Long> switchesBefore, long compileBefore, long sent) {
		Properties after = stats();
		StringBuilder line = new StringBuilder();
		for (String command : new String[] { "xadd", "xreadgroup", "xack", "xpending", "sadd" }) {
			line.append(command).append('=').append(calls(after, command) - calls(before, command)).append(' ');
		}
		line.append(String.format("redis-cpu=%.1fus/msg jit=%dms",
				(redisCpu(after) - redisCpu(before)) * 1e6 / sent,
				ManagementFactory.getCompilationMXBean().getTotalCompilationTime() - compileBefore));
		line.append(" per msg (context switches, cpu):");
		for (Map.Entry<String, Long> thread : switches().entrySet()) {
			long delta = thread.getValue() - switchesBefore.getOrDefault(thread.getKey(), 0L);
			if (thread.getKey().startsWith("cpu:")) {
				if (delta > 0) {
					line.append(' ').append(thread.getKey()).append('=').append(String.format("%.1fus", delta * 1e4 / sent));
				}
			}
			else if (delta * 100 >= sent) {
				line.append(' ').append(thread.getKey()).append('=').append(String.format("%.3f", (double) delta / sent));
			}
		}
		return line.toString();
	}

	private static long cpu() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

	/** A connection of its own for INFO, opened once, so that taking stats adds no threads or garbage to the turns. */
	private static RedisConnection statsConnection;

	private static Properties stats() {
		if (statsConnection == null) {
			LettuceConnectionFactory factory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration("127.0.0.1", 6379));
			factory.afterPropertiesSet();
			factory.start();
			statsConnection = factory.getConnection();
		}
		Properties all = new Properties();
		all.putAll(statsConnection.serverCommands().info("commandstats"));
		all.putAll(statsConnection.serverCommands().info("cpu"));
		return all;
	}

	private static double redisCpu(Properties stats) {
		return Double.parseDouble(stats.getProperty("used_cpu_user", "0"))
				+ Double.parseDouble(stats.getProperty("used_cpu_sys", "0"));
	}

	/** Context switches (voluntary and not) per thread name, from Linux's /proc. */
	private static Map<String, Long> switches() {
		Map<String, Long> byName = new TreeMap<>();
		File[] tasks = new File("/proc/self/task").listFiles();
		if (tasks == null) {
			return byName;
		}
		for (File task : tasks) {
			try {
				String name = Files.readString(task.toPath().resolve("comm")).trim().replaceAll("[0-9]+", "N");
				long count = 0;
				for (String statusLine : Files.readAllLines(task.toPath().resolve("status"))) {
					if (statusLine.contains("ctxt_switches")) {
						count += Long.parseLong(statusLine.substring(statusLine.indexOf(':') + 1).trim());
					}
				}
				byName.merge(name, count, Long::sum);
				String stat = Files.readString(task.toPath().resolve("stat"));
				String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
				// utime and stime, in clock ticks of 10 ms
				byName.merge("cpu:" + name, Long.parseLong(fields[11]) + Long.parseLong(fields[12]), Long::sum);
			}
			catch (IOException | RuntimeException ex) {
				// The thread ended meanwhile.
			}
		}
		return byName;
	}

	private static long calls(Properties stats, String command) {
		String value = stats.getProperty("cmdstat_" + command);
		if (value == null) {
			return 0;
		}
		String calls = value.split(",")[0];
		return Long.parseLong(calls.substring(calls.indexOf('=') + 1));
	}

	private static List<Double> sorted(List<Double> values) {
		List<Double> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		return sorted;
	}

}
