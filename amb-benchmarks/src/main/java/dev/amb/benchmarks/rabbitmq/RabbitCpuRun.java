package dev.amb.benchmarks.rabbitmq;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU per message of each path of {@link RabbitThroughputBenchmark}, in this JVM (publisher,
 * consumer, AMQP client) and in the RabbitMQ server process ({@code beam.smp}, from
 * {@code /proc/<pid>/stat}): on a machine of two cores shared by client and broker, CPU per
 * message decides the rate, and it moves much less with the neighbours' load than the rate does.
 * <p>
 * Run: {@code java -cp amb-benchmarks/target/amb-benchmarks.jar
 * dev.amb.benchmarks.rabbitmq.RabbitCpuRun <beam pid> 5 amb raw raw-channel raw-channel-priority}
 */
public final class RabbitCpuRun {

	private RabbitCpuRun() {
	}

	public static void main(String[] args) throws Exception {
		long beamPid = Long.parseLong(args[0]);
		int batches = Integer.parseInt(args[1]);
		com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory
			.getOperatingSystemMXBean();
		for (int p = 2; p < args.length; p++) {
			RabbitThroughputBenchmark benchmark = new RabbitThroughputBenchmark();
			benchmark.path = args[p];
			benchmark.setUp();
			try {
				for (int i = 0; i < 2; i++) {
					benchmark.publishAndReceive();
				}
				long wall = System.nanoTime();
				long client = os.getProcessCpuTime();
				long broker = beamCpuNanos(beamPid);
				for (int i = 0; i < batches; i++) {
					benchmark.publishAndReceive();
				}
				double messages = (double) batches * RabbitThroughputBenchmark.MESSAGES;
				double seconds = (System.nanoTime() - wall) / 1e9;
				System.out.printf("%-22s %8.0f msg/s  client %6.1f us/msg  broker %6.1f us/msg%n", args[p],
						messages / seconds, (os.getProcessCpuTime() - client) / 1e3 / messages,
						(beamCpuNanos(beamPid) - broker) / 1e3 / messages);
			}
			finally {
				benchmark.tearDown();
			}
		}
	}

	private static long beamCpuNanos(long pid) throws Exception {
		String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
		String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		// utime and stime, fields 14 and 15 of stat, in clock ticks of 10 ms
		return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
	}

}
