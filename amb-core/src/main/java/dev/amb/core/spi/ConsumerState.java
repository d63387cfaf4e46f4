package dev.amb.core.spi;

/**
 * A snapshot of how a backend subscription is doing, for health and monitoring.
 *
 * @param laneDepths messages waiting per lane (index 0 is the highest lane); -1 where unknown
 * @param capacity the most messages the subscription holds waiting, or -1 if unbounded or unknown
 * @param thresholdDepth the depth above which publishers are slowed, or -1
 * @param inFlight messages being handled now
 * @param paused whether the subscription is paused
 * @param lastDeliveryMillis when a message was last handed to the bus, in Unix milliseconds, or 0
 */
public record ConsumerState(long[] laneDepths, long capacity, long thresholdDepth, int inFlight, boolean paused,
		long lastDeliveryMillis) {

	/** @return the messages waiting across lanes, or -1 where unknown */
	public long depth() {
		long total = 0;
		for (long depth : this.laneDepths) {
			if (depth < 0) {
				return -1;
			}
			total += depth;
		}
		return total;
	}

	/** @return depth over capacity, or -1 where either is unknown */
	public double fillRatio() {
		long depth = depth();
		return (depth < 0 || this.capacity <= 0) ? -1 : (double) depth / this.capacity;
	}

	/** @return whether the depth is above the threshold at which publishers are slowed */
	public boolean isAboveThreshold() {
		long depth = depth();
		return this.thresholdDepth >= 0 && depth >= 0 && depth > this.thresholdDepth;
	}

}
