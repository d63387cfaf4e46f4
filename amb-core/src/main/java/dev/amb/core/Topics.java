package dev.amb.core;

/**
 * The rules for topic names and subscription patterns.
 * <p>
 * A topic is one or more segments joined by dots; a segment is letters, digits, {@code _} and
 * {@code -}. A pattern may also use {@code *} for exactly one segment and {@code #} for any number
 * of segments, zero included. Wildcards never match a dead-letter topic (last segment
 * {@value #DEAD_LETTER_SEGMENT}) or an internal topic (first segment {@value #INTERNAL_SEGMENT})
 * unless the pattern names that segment itself, so that {@code agent.#} does not also consume the
 * dead letters of {@code agent.tasks}.
 */
public final class Topics {

	/** The longest topic name or pattern accepted, leaving room for the lane suffix on every backend. */
	public static final int MAX_LENGTH = 200;

	/** The last segment of a dead-letter topic. */
	public static final String DEAD_LETTER_SEGMENT = "dlq";

	/** The first segment of AMB's own topics, such as reply topics. */
	public static final String INTERNAL_SEGMENT = "_amb";

	private Topics() {
	}

	/**
	 * Checks a topic name for publishing.
	 * @param topic the topic
	 * @return the topic
	 * @throws InvalidTopicException naming the rule it breaks
	 */
	public static String validateTopic(String topic) {
		return validate(topic, false);
	}

	/**
	 * Checks a subscription pattern, which may contain {@code *} and {@code #} segments.
	 * @param pattern the pattern
	 * @return the pattern
	 * @throws InvalidTopicException naming the rule it breaks
	 */
	public static String validatePattern(String pattern) {
		return validate(pattern, true);
	}

	/**
	 * Whether a pattern contains a wildcard segment.
	 * @param pattern a valid pattern
	 * @return whether it has {@code *} or {@code #}
	 */
	public static boolean isWildcard(String pattern) {
		return pattern.indexOf('*') >= 0 || pattern.indexOf('#') >= 0;
	}

	/**
	 * The dead-letter topic of a topic.
	 * @param topic the topic
	 * @return {@code <topic>.dlq}
	 */
	public static String deadLetterTopic(String topic) {
		return topic + "." + DEAD_LETTER_SEGMENT;
	}

	/**
	 * Whether a topic is a dead-letter topic.
	 * @param topic the topic
	 * @return whether its last segment is {@value #DEAD_LETTER_SEGMENT}
	 */
	public static boolean isDeadLetterTopic(String topic) {
		return topic.endsWith("." + DEAD_LETTER_SEGMENT);
	}

	private static String validate(String name, boolean wildcardsAllowed) {
		String kind = wildcardsAllowed ? "Subscription pattern" : "Topic";
		if (name == null) {
			throw new InvalidTopicException(kind + " must not be null");
		}
		if (name.isEmpty()) {
			throw new InvalidTopicException(kind + " must not be empty");
		}
		if (name.length() > MAX_LENGTH) {
			throw new InvalidTopicException(kind + " '" + abbreviate(name) + "' is " + name.length()
					+ " characters long; the limit is " + MAX_LENGTH);
		}
		int segmentStart = 0;
		for (int i = 0; i <= name.length(); i++) {
			char c = (i < name.length()) ? name.charAt(i) : '.';
			if (c == '.') {
				checkSegment(name, segmentStart, i, wildcardsAllowed, kind);
				segmentStart = i + 1;
			}
			else if (!isSegmentChar(c) && c != '*' && c != '#') {
				throw new InvalidTopicException(kind + " '" + name + "' has the character '" + c + "' at index " + i
						+ "; segments may contain letters, digits, '_' and '-', joined by '.'");
			}
		}
		return name;
	}

	private static void checkSegment(String name, int start, int end, boolean wildcardsAllowed, String kind) {
		if (start == end) {
			throw new InvalidTopicException(kind + " '" + name + "' has an empty segment at index " + start
					+ "; segments are joined by single dots, with none at the start or end");
		}
		boolean hasWildcard = false;
		for (int i = start; i < end; i++) {
			char c = name.charAt(i);
			if (c == '*' || c == '#') {
				hasWildcard = true;
			}
		}
		if (!hasWildcard) {
			return;
		}
		if (!wildcardsAllowed) {
			throw new InvalidTopicException("Topic '" + name
					+ "' contains a wildcard; '*' and '#' are for subscription patterns, a message goes to one topic");
		}
		if (end - start != 1) {
			throw new InvalidTopicException(kind + " '" + name + "' mixes a wildcard with other characters in segment '"
					+ name.substring(start, end) + "'; '*' and '#' must stand alone as a segment");
		}
	}

	private static boolean isSegmentChar(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
	}

	private static String abbreviate(String name) {
		return name.substring(0, 40) + "...";
	}

}
