package dev.amb.core.persistence;

import java.util.List;

/**
 * What opening the log found.
 *
 * @param segments the segment files read
 * @param records the intact records read
 * @param unacknowledged the messages appended and never acknowledged, to replay
 * @param damage every stretch that could not be read, in log order
 */
public record RecoveryReport(int segments, long records, int unacknowledged, List<LogDamage> damage) {

	public RecoveryReport {
		damage = List.copyOf(damage);
	}

	/** @return the stretches in the middle of the log that failed their check */
	public long corruptRecords() {
		return this.damage.stream().filter((entry) -> entry.kind() == LogDamage.Kind.CORRUPT).count();
	}

	/** @return the bytes cut off torn tails */
	public long tornBytes() {
		return this.damage.stream()
			.filter((entry) -> entry.kind() == LogDamage.Kind.TORN_TAIL)
			.mapToLong(LogDamage::length)
			.sum();
	}

}
