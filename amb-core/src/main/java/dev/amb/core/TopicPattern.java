package dev.amb.core;

import java.util.Arrays;

/**
 * A compiled subscription pattern: {@code *} matches one segment, {@code #} any number of
 * segments. See {@link Topics} for the rules about dead-letter and internal topics.
 */
public final class TopicPattern {

	private final String pattern;

	private final String[] segments;

	private final boolean wildcard;

	private final boolean namesDeadLetter;

	private final boolean namesInternal;

	private TopicPattern(String pattern) {
		this.pattern = pattern;
		this.segments = pattern.split("\\.");
		this.wildcard = Topics.isWildcard(pattern);
		this.namesDeadLetter = Topics.DEAD_LETTER_SEGMENT.equals(this.segments[this.segments.length - 1]);
		this.namesInternal = Topics.INTERNAL_SEGMENT.equals(this.segments[0]);
	}

	/**
	 * Validates and compiles a pattern.
	 * @param pattern the pattern
	 * @return the compiled pattern
	 * @throws InvalidTopicException if the pattern is not valid
	 */
	public static TopicPattern compile(String pattern) {
		return new TopicPattern(Topics.validatePattern(pattern));
	}

	/**
	 * The pattern as written.
	 * @return the pattern
	 */
	public String pattern() {
		return this.pattern;
	}

	/**
	 * Whether the pattern has a wildcard segment.
	 * @return whether it has {@code *} or {@code #}
	 */
	public boolean isWildcard() {
		return this.wildcard;
	}

	/**
	 * Whether a topic matches this pattern.
	 * @param topic a valid topic name
	 * @return whether it matches
	 */
	public boolean matches(String topic) {
		if (!this.wildcard) {
			return this.pattern.equals(topic);
		}
		String[] topicSegments = topic.split("\\.");
		if (!this.namesDeadLetter && Topics.DEAD_LETTER_SEGMENT.equals(topicSegments[topicSegments.length - 1])) {
			return false;
		}
		if (!this.namesInternal && Topics.INTERNAL_SEGMENT.equals(topicSegments[0])) {
			return false;
		}
		return matches(this.segments, 0, topicSegments, 0);
	}

	private static boolean matches(String[] pattern, int p, String[] topic, int t) {
		while (p < pattern.length) {
			String segment = pattern[p];
			if ("#".equals(segment)) {
				if (p == pattern.length - 1) {
					return true;
				}
				for (int skip = t; skip <= topic.length; skip++) {
					if (matches(pattern, p + 1, topic, skip)) {
						return true;
					}
				}
				return false;
			}
			if (t >= topic.length) {
				return false;
			}
			if (!"*".equals(segment) && !segment.equals(topic[t])) {
				return false;
			}
			p++;
			t++;
		}
		return t == topic.length;
	}

	@Override
	public boolean equals(Object other) {
		return (other instanceof TopicPattern that) && this.pattern.equals(that.pattern);
	}

	@Override
	public int hashCode() {
		return this.pattern.hashCode();
	}

	@Override
	public String toString() {
		return this.pattern + " " + Arrays.toString(this.segments);
	}

}
