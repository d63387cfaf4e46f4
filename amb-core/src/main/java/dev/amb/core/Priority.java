package dev.amb.core;

import java.util.Locale;

/**
 * The lanes a message can travel in. With a backlog, higher lanes are delivered first; a
 * starvation bound keeps the lower lanes moving.
 */
public enum Priority {

	/** Urgent traffic: delivered before anything else that is waiting. */
	HIGH,

	/** The default lane. */
	NORMAL,

	/** Bulk traffic: delivered when nothing more urgent waits, or when the starvation bound says so. */
	LOW;

	private static final Priority[] LANES = values();

	/**
	 * The lane index, 0 for the highest lane.
	 * @return the lane index
	 */
	public int lane() {
		return ordinal();
	}

	/**
	 * The priority of a lane index.
	 * @param lane the lane index
	 * @return the priority
	 */
	public static Priority ofLane(int lane) {
		if (lane < 0 || lane >= LANES.length) {
			throw new IllegalArgumentException("No priority lane " + lane + "; lanes are 0 (high) to " + (LANES.length - 1) + " (low)");
		}
		return LANES[lane];
	}

	/**
	 * The number of lanes.
	 * @return the number of lanes
	 */
	public static int laneCount() {
		return LANES.length;
	}

	/**
	 * Parses a priority name such as {@code high}, {@code NORMAL} or {@code low}.
	 * @param name the name, case-insensitive
	 * @return the priority
	 * @throws IllegalArgumentException for an unknown name
	 */
	public static Priority parse(String name) {
		if (name == null) {
			throw new IllegalArgumentException("Priority name must not be null; use high, normal or low");
		}
		try {
			return valueOf(name.trim().toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalArgumentException("Unknown priority '" + name + "'; use high, normal or low", ex);
		}
	}

	/**
	 * The lower-case name used on the wire and in configuration.
	 * @return the wire name
	 */
	public String wireName() {
		return name().toLowerCase(Locale.ROOT);
	}

}
