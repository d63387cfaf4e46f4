package dev.amb.benchmarks.rabbitmq;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.amb.benchmarks.RoundStats.max;
import static dev.amb.benchmarks.RoundStats.median;
import static dev.amb.benchmarks.RoundStats.min;

/**
 * The same three paths as {@link RabbitThroughputBenchmark}, measured interleaved: each round
 * runs one batch of {@value RabbitThroughputBenchmark#MESSAGES} messages per path, in a rotating
 * order, so that a machine whose load changes from minute to minute (a shared one) weighs on all
 * paths alike; reports each path's median and the median of the per-round AMB/raw ratios.
 * <p>
 * Run: {@code java -cp amb-benchmarks/target/amb-benchmarks.jar
 * dev.amb.benchmarks.rabbitmq.RabbitInterleavedRun 10}
 */
public final class RabbitInterleavedRun {

	private RabbitInterleavedRun() {
	}

	public static void main(String[] args) throws Exception {
		int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 10;
		int warmups = 2;
		String[] paths = { "amb", "raw", "raw-channel" };
		Map<String, RabbitThroughputBenchmark> benchmarks = new LinkedHashMap<>();
		for (String path : paths) {
			RabbitThroughputBenchmark benchmark = new RabbitThroughputBenchmark();
			benchmark.path = path;
			benchmark.setUp();
			benchmarks.put(path, benchmark);
		}
		Map<String, List<Double>> rates = new LinkedHashMap<>();
		for (String path : paths) {
			rates.put(path, new ArrayList<>());
		}
		List<Double> ambOverRaw = new ArrayList<>();
		List<Double> ambOverChannel = new ArrayList<>();
		try {
			for (int round = 0; round < warmups + rounds; round++) {
				Map<String, Double> thisRound = new LinkedHashMap<>();
				for (int i = 0; i < paths.length; i++) {
					String path = paths[(round + i) % paths.length];
					long start = System.nanoTime();
					benchmarks.get(path).publishAndReceive();
					double seconds = (System.nanoTime() - start) / 1e9;
					thisRound.put(path, RabbitThroughputBenchmark.MESSAGES / seconds);
				}
				boolean warmup = round < warmups;
				System.out.printf("%s %2d: amb %8.0f  raw %8.0f  raw-channel %8.0f msg/s%n", warmup ? "warmup" : "round ",
						warmup ? round + 1 : round - warmups + 1, thisRound.get("amb"), thisRound.get("raw"),
						thisRound.get("raw-channel"));
				if (!warmup) {
					thisRound.forEach((path, rate) -> rates.get(path).add(rate));
					ambOverRaw.add(thisRound.get("amb") / thisRound.get("raw"));
					ambOverChannel.add(thisRound.get("amb") / thisRound.get("raw-channel"));
				}
			}
		}
		finally {
			for (RabbitThroughputBenchmark benchmark : benchmarks.values()) {
				benchmark.tearDown();
			}
		}
		System.out.println();
		rates.forEach((path, values) -> System.out.printf("%-12s median %8.0f msg/s  (min %8.0f, max %8.0f)%n", path,
				median(values), min(values), max(values)));
		System.out.printf("AMB / raw RabbitTemplate: median of per-round ratios %.2f%n", median(ambOverRaw));
		System.out.printf("AMB / raw channel:        median of per-round ratios %.2f%n", median(ambOverChannel));
	}

}
