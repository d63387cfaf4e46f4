package dev.amb.benchmarks;

import java.util.Arrays;
import java.util.List;

/**
 * Summaries of per-round figures for the alternating benchmark harnesses, which report medians
 * rather than means because one round slowed by another process on a shared machine should not
 * move the result.
 */
public final class RoundStats {

	private RoundStats() {
	}

	/**
	 * @param values the figures of every round; not empty
	 * @return their median
	 */
	public static double median(List<Double> values) {
		double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
		Arrays.sort(sorted);
		int middle = sorted.length / 2;
		return (sorted.length % 2 == 1) ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
	}

	/**
	 * @param values the figures of every round
	 * @return the smallest, or 0 if there is none
	 */
	public static double min(List<Double> values) {
		return values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
	}

	/**
	 * @param values the figures of every round
	 * @return the largest, or 0 if there is none
	 */
	public static double max(List<Double> values) {
		return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
	}

}
