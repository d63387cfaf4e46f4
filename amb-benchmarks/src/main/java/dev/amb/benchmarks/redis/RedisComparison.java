package dev.amb.benchmarks.redis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * AMB against the raw loop in alternating rounds, so that both see the same load on a shared
 * machine; prints the median of each. Run with
 * {@code java -cp amb-benchmarks/target/amb-benchmarks.jar dev.amb.benchmarks.redis.RedisComparison [rounds] [messages]}.
 */
public final class RedisComparison {

	private RedisComparison() {
	}

	public static void main(String[] args) throws Exception {
		int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 10;
		int invocations = (args.length > 1) ? Integer.parseInt(args[1]) / RedisThroughputBenchmark.MESSAGES : 20;
		RedisThroughputBenchmark benchmark = new RedisThroughputBenchmark();
		benchmark.setUp();
		try {
			String[] names = { "ambPublish", "rawPublish", "ambEndToEnd", "rawEndToEnd", "rawPublishEnvelope",
					"rawEndToEndEnvelope" };
			List<List<Double>> results = new ArrayList<>();
			List<List<Double>> cpuResults = new ArrayList<>();
			for (int i = 0; i < names.length; i++) {
				results.add(new ArrayList<>());
				cpuResults.add(new ArrayList<>());
			}
			for (int round = -2; round < rounds; round++) {
				for (int i = 0; i < names.length; i++) {
					if (args.length > 2 && !names[i].equals(args[2])) {
						continue;
					}
					java.util.Properties before = (System.getProperty("stats") != null) ? stats() : null;
					long cpuStart = cpu();
					long start = System.nanoTime();
					for (int n = 0; n < ((i < 2 || i == 4) ? invocations : Math.max(1, invocations / 10)); n++) {
						switch (i) {
							case 0 -> benchmark.ambPublish();
							case 1 -> benchmark.rawPublish();
							case 2 -> benchmark.ambEndToEnd();
							case 3 -> benchmark.rawEndToEnd();
							case 4 -> benchmark.rawPublishEnvelope();
							default -> benchmark.rawEndToEndEnvelope();
						}
					}
					double rate = messages(i, invocations) * 1e9 / (System.nanoTime() - start);
					long cpuPerMessage = (cpu() - cpuStart) / messages(i, invocations);
					if (round >= 0) {
						results.get(i).add(rate);
						cpuResults.get(i).add((double) cpuPerMessage);
					}
					if (System.getProperty("stats") != null) {
						java.util.Properties after = stats();
						StringBuilder line = new StringBuilder(names[i]);
						for (String command : new String[] { "xadd", "xreadgroup", "xack", "xpending", "sadd" }) {
							line.append(' ').append(command).append('=').append(calls(after, command) - calls(before, command));
						}
						System.out.println(line);
					}
				}
			}
			if (args.length > 2) {
				return;
			}
			for (int i = 0; i < names.length; i++) {
				List<Double> sorted = new ArrayList<>(results.get(i));
				Collections.sort(sorted);
				System.out.printf("%-12s median %,10.0f msg/s  (min %,.0f, max %,.0f, %d rounds of %,d); JVM CPU %,.1f us/msg%n",
						names[i], sorted.get(sorted.size() / 2), sorted.get(0), sorted.get(sorted.size() - 1),
						sorted.size(), messages(i, invocations), median(cpuResults.get(i)) / 1000);
			}
			double publish = median(results.get(0)) / median(results.get(1));
			double endToEnd = median(results.get(2)) / median(results.get(3));
			System.out.printf("AMB/raw: publish %.0f%%, end-to-end %.0f%%%n", publish * 100, endToEnd * 100);
			System.out.printf("AMB/raw with the envelope's fields: publish %.0f%%, end-to-end %.0f%%%n",
					median(results.get(0)) / median(results.get(4)) * 100, median(results.get(2)) / median(results.get(5)) * 100);
		}
		finally {
			benchmark.tearDown();
		}
	}

	private static long messages(int benchmark, int invocations) {
		return (benchmark < 2 || benchmark == 4) ? (long) invocations * RedisThroughputBenchmark.MESSAGES
				: (long) Math.max(1, invocations / 10) * RedisThroughputBenchmark.END_TO_END_MESSAGES;
	}

	private static long cpu() {
		return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
			.getOperatingSystemMXBean()).getProcessCpuTime();
	}

	private static java.util.Properties stats() {
		var connection = new org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory(
				new org.springframework.data.redis.connection.RedisStandaloneConfiguration("127.0.0.1", 6379));
		connection.afterPropertiesSet();
		connection.start();
		try (var c = connection.getConnection()) {
			return c.serverCommands().info("commandstats");
		}
		finally {
			connection.destroy();
		}
	}

	private static long calls(java.util.Properties stats, String command) {
		String value = stats.getProperty("cmdstat_" + command);
		if (value == null) {
			return 0;
		}
		String calls = value.split(",")[0];
		return Long.parseLong(calls.substring(calls.indexOf('=') + 1));
	}

	private static double median(List<Double> values) {
		List<Double> sorted = new ArrayList<>(values);
		Collections.sort(sorted);
		return sorted.get(sorted.size() / 2);
	}

}
