package dev.amb.core.adapters.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import dev.amb.core.Priority;
import dev.amb.core.TopicPattern;
import dev.amb.core.Topics;

/**
 * Maps AMB topics and lanes to Kafka topic names and subscription patterns to regular
 * expressions over Kafka topic names.
 */
final class KafkaTopicNames {

	/** One AMB segment; a wildcard never spans a dot, so it cannot reach into a lane suffix such as {@code ..high}. */
	private static final String SEGMENT = "[A-Za-z0-9_-]+";

	/** The longest Kafka topic name. */
	static final int KAFKA_MAX_LENGTH = 249;

	private final String prefix;

	private final String[] laneSuffixes = new String[Priority.laneCount()];

	private final ConcurrentHashMap<String, String[]> names = new ConcurrentHashMap<>();

	KafkaTopicNames(KafkaBrokerSettings settings) {
		this.prefix = settings.getTopicPrefix();
		this.laneSuffixes[Priority.HIGH.lane()] = settings.getHighLaneSuffix();
		this.laneSuffixes[Priority.NORMAL.lane()] = "";
		this.laneSuffixes[Priority.LOW.lane()] = settings.getLowLaneSuffix();
	}

	/**
	 * The Kafka topic of an AMB topic's lane.
	 * @param topic a valid AMB topic
	 * @param priority the lane
	 * @return the Kafka topic name
	 */
	String kafkaTopic(String topic, Priority priority) {
		String[] lanes = this.names.get(topic);
		if (lanes == null) {
			lanes = new String[this.laneSuffixes.length];
			for (int lane = 0; lane < lanes.length; lane++) {
				lanes[lane] = this.prefix + topic + this.laneSuffixes[lane];
				if (lanes[lane].length() > KAFKA_MAX_LENGTH) {
					throw new IllegalArgumentException("Kafka topic name '" + lanes[lane] + "' would be longer than "
							+ KAFKA_MAX_LENGTH + " characters; shorten the topic or amb.kafka.topic-prefix");
				}
			}
			if (this.names.size() < 100_000) {
				this.names.putIfAbsent(topic, lanes);
			}
		}
		return lanes[priority.lane()];
	}

	/**
	 * The Kafka topics of an AMB topic's lanes.
	 * @param topic a valid AMB topic
	 * @param lanes the lanes
	 * @return the Kafka topic names, highest lane first
	 */
	List<String> kafkaTopics(String topic, Set<Priority> lanes) {
		List<String> topics = new ArrayList<>(lanes.size());
		for (Priority priority : Priority.values()) {
			if (lanes.contains(priority)) {
				topics.add(kafkaTopic(topic, priority));
			}
		}
		return topics;
	}

	/**
	 * The lane a Kafka topic carries.
	 * @param kafkaTopic the Kafka topic name
	 * @return the lane
	 */
	Priority lane(String kafkaTopic) {
		if (kafkaTopic.endsWith(this.laneSuffixes[Priority.HIGH.lane()])) {
			return Priority.HIGH;
		}
		if (kafkaTopic.endsWith(this.laneSuffixes[Priority.LOW.lane()])) {
			return Priority.LOW;
		}
		return Priority.NORMAL;
	}

	/**
	 * The AMB topic a Kafka topic belongs to, for records that do not name it in their headers.
	 * @param kafkaTopic the Kafka topic name
	 * @return the AMB topic, which may be invalid for a topic AMB did not create
	 */
	String ambTopic(String kafkaTopic) {
		String suffix = this.laneSuffixes[lane(kafkaTopic).lane()];
		int start = kafkaTopic.startsWith(this.prefix) ? this.prefix.length() : 0;
		return kafkaTopic.substring(start, kafkaTopic.length() - suffix.length());
	}

	/**
	 * A regular expression matching the Kafka topics of a wildcard pattern's lanes, with the same
	 * rules as {@link TopicPattern#matches(String)}: {@code *} one segment, {@code #} any number,
	 * dead-letter and internal topics only where the pattern names them.
	 * @param pattern the pattern
	 * @param lanes the lanes
	 * @return the regular expression
	 */
	Pattern regex(TopicPattern pattern, Set<Priority> lanes) {
		String[] segments = pattern.pattern().split("\\.");
		StringBuilder lanesRegex = new StringBuilder("(?:");
		boolean firstLane = true;
		for (Priority priority : Priority.values()) {
			if (lanes.contains(priority)) {
				lanesRegex.append(firstLane ? "" : "|").append(quote(this.laneSuffixes[priority.lane()]));
				firstLane = false;
			}
		}
		lanesRegex.append(")");
		StringBuilder regex = new StringBuilder(quote(this.prefix));
		if (!Topics.INTERNAL_SEGMENT.equals(segments[0])) {
			regex.append("(?!").append(Topics.INTERNAL_SEGMENT).append("(?:\\.|$))");
		}
		if (!Topics.DEAD_LETTER_SEGMENT.equals(segments[segments.length - 1])) {
			regex.append("(?!(?:").append(SEGMENT).append("\\.)*").append(Topics.DEAD_LETTER_SEGMENT).append(lanesRegex)
				.append("$)");
		}
		boolean first = true;
		for (int i = 0; i < segments.length; i++) {
			String segment = segments[i];
			boolean last = i == segments.length - 1;
			if ("#".equals(segment)) {
				if (first && last) {
					regex.append(SEGMENT).append("(?:\\.").append(SEGMENT).append(")*");
				}
				else if (first) {
					// Zero or more leading segments, each with its dot, so the next segment needs none.
					regex.append("(?:").append(SEGMENT).append("(?:\\.").append(SEGMENT).append(")*\\.)?");
					continue;
				}
				else {
					regex.append("(?:\\.").append(SEGMENT).append(")*");
				}
			}
			else {
				regex.append(first ? "" : "\\.").append("*".equals(segment) ? SEGMENT : segment);
			}
			first = false;
		}
		regex.append(lanesRegex);
		return Pattern.compile(regex.toString());
	}

	private static String quote(String text) {
		return text.isEmpty() ? "" : Pattern.quote(text);
	}

}
