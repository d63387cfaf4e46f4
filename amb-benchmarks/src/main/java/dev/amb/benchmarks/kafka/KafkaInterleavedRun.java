package dev.amb.benchmarks.kafka;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.amb.benchmarks.RoundStats.max;
import static dev.amb.benchmarks.RoundStats.median;
import static dev.amb.benchmarks.RoundStats.min;

/**
 * The paths of {@link KafkaThroughputBenchmark}, measured interleaved in one JVM against one
 * embedded KRaft broker: each round runs the same number of invocations ({@value
 * KafkaThroughputBenchmark#BATCH} messages each) per path, in a rotating order, so that a machine
 * whose load changes from minute to minute (a shared one) weighs on all paths alike. Reports each
 * path's median rate, the median of the per-round ratios to the raw path, and the process CPU time
 * per message (broker included, since it runs in the same JVM).
 * <p>
 * Run: {@code java -cp amb-benchmarks/target/amb-benchmarks.jar
 * dev.amb.benchmarks.kafka.KafkaInterleavedRun [rounds] [invocations per path and round]}
 */
public final class KafkaInterleavedRun {

	private KafkaInterleavedRun() {
	}

	public static void main(String[] args) throws Exception {
		int rounds = (args.length > 0) ? Integer.parseInt(args[0]) : 10;
		int invocations = (args.length > 1) ? Integer.parseInt(args[1]) : 20;
		int warmups = 3;
		KafkaThroughputBenchmark benchmark = new KafkaThroughputBenchmark();
		KafkaThroughputBenchmark.AmbState amb = new KafkaThroughputBenchmark.AmbState();
		KafkaThroughputBenchmark.RawState raw = new KafkaThroughputBenchmark.RawState();
		KafkaThroughputBenchmark.RawState rawWithHeaders = new KafkaThroughputBenchmark.RawState();
		amb.open();
		raw.open();
		rawWithHeaders.open();
		String[] paths = { "amb", "raw", "rawWithEnvelopeHeaders" };
		Map<String, Runnable> invocation = new LinkedHashMap<>();
		invocation.put("amb", () -> benchmark.amb(amb));
		invocation.put("raw", () -> benchmark.rawKafkaTemplate(raw));
		invocation.put("rawWithEnvelopeHeaders", () -> benchmark.rawKafkaTemplateWithEnvelopeHeaders(rawWithHeaders));
		Map<String, List<Double>> rates = new LinkedHashMap<>();
		Map<String, List<Double>> cpu = new LinkedHashMap<>();
		for (String path : paths) {
			rates.put(path, new ArrayList<>());
			cpu.put(path, new ArrayList<>());
		}
		List<Double> ambOverRaw = new ArrayList<>();
		List<Double> headersOverRaw = new ArrayList<>();
		try {
			for (int round = 0; round < warmups + rounds; round++) {
				Map<String, Double> thisRound = new LinkedHashMap<>();
				Map<String, Double> thisRoundCpu = new LinkedHashMap<>();
				Map<String, Double> thisRoundSlowest = new LinkedHashMap<>();
				for (int i = 0; i < paths.length; i++) {
					String path = paths[(round + i) % paths.length];
					Runnable run = invocation.get(path);
					long cpuStart = processCpuNanos();
					long start = System.nanoTime();
					long slowest = 0;
					for (int n = 0; n < invocations; n++) {
						long invocationStart = System.nanoTime();
						run.run();
						slowest = Math.max(slowest, System.nanoTime() - invocationStart);
					}
					thisRoundSlowest.put(path, slowest / 1e6);
					double seconds = (System.nanoTime() - start) / 1e9;
					long messages = (long) invocations * KafkaThroughputBenchmark.BATCH;
					thisRound.put(path, messages / seconds);
					thisRoundCpu.put(path, (processCpuNanos() - cpuStart) / 1000.0 / messages);
				}
				boolean warmup = round < warmups;
				System.out.printf("%s %2d: amb %8.0f  raw %8.0f  rawWithEnvelopeHeaders %8.0f msg/s;"
						+ " CPU %5.1f / %5.1f / %5.1f us/msg; slowest %5.1f / %5.1f / %5.1f ms; load %.2f%n",
						warmup ? "warmup" : "round ",
						warmup ? round + 1 : round - warmups + 1, thisRound.get("amb"), thisRound.get("raw"),
						thisRound.get("rawWithEnvelopeHeaders"), thisRoundCpu.get("amb"), thisRoundCpu.get("raw"),
						thisRoundCpu.get("rawWithEnvelopeHeaders"), thisRoundSlowest.get("amb"), thisRoundSlowest.get("raw"),
						thisRoundSlowest.get("rawWithEnvelopeHeaders"), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
				if (!warmup) {
					thisRound.forEach((path, rate) -> rates.get(path).add(rate));
					thisRoundCpu.forEach((path, micros) -> cpu.get(path).add(micros));
					ambOverRaw.add(thisRound.get("amb") / thisRound.get("raw"));
					headersOverRaw.add(thisRound.get("rawWithEnvelopeHeaders") / thisRound.get("raw"));
				}
			}
		}
		finally {
			amb.close();
			raw.close();
			rawWithHeaders.close();
		}
		System.out.println();
		for (String path : paths) {
			System.out.printf("%-24s median %8.0f msg/s (min %8.0f, max %8.0f); CPU median %5.1f us/msg%n", path,
					median(rates.get(path)), min(rates.get(path)), max(rates.get(path)), median(cpu.get(path)));
		}
		System.out.printf("AMB / raw KafkaTemplate:          median of per-round ratios %.2f%n", median(ambOverRaw));
		System.out.printf("raw with AMB's headers / raw:     median of per-round ratios %.2f%n", median(headersOverRaw));
		System.exit(0);
	}

	private static long processCpuNanos() {
		return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
			.getProcessCpuTime();
	}

}
