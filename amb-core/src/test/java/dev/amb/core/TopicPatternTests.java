package dev.amb.core;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link TopicPattern}: {@code *} matches one segment, {@code #} any number, and
 * wildcards leave dead-letter and internal topics alone unless they name them.
 */
class TopicPatternTests {

	@Test
	void exactPatternMatchesOnlyItself() {
		TopicPattern pattern = TopicPattern.compile("agent.tasks");
		assertThat(pattern.isWildcard()).isFalse();
		assertThat(pattern.matches("agent.tasks")).isTrue();
		assertThat(pattern.matches("agent.tasks.x")).isFalse();
		assertThat(pattern.matches("agent")).isFalse();
		assertThat(pattern.matches("agent.tasks2")).isFalse();
	}

	@Test
	void starMatchesExactlyOneSegment() {
		TopicPattern pattern = TopicPattern.compile("agent.*");
		assertThat(pattern.isWildcard()).isTrue();
		assertThat(pattern.matches("agent.x")).isTrue();
		assertThat(pattern.matches("agent.tasks")).isTrue();
		assertThat(pattern.matches("agent")).isFalse();
		assertThat(pattern.matches("agent.x.y")).isFalse();
		assertThat(pattern.matches("agents.x")).isFalse();
		assertThat(pattern.matches("other.agent.x")).isFalse();
	}

	@Test
	void starInTheMiddle() {
		TopicPattern pattern = TopicPattern.compile("agent.*.done");
		assertThat(pattern.matches("agent.a.done")).isTrue();
		assertThat(pattern.matches("agent.done")).isFalse();
		assertThat(pattern.matches("agent.a.b.done")).isFalse();
	}

	@Test
	void hashMatchesAnyNumberOfSegmentsIncludingNone() {
		TopicPattern pattern = TopicPattern.compile("agent.#");
		assertThat(pattern.matches("agent")).isTrue();
		assertThat(pattern.matches("agent.x")).isTrue();
		assertThat(pattern.matches("agent.x.y.z")).isTrue();
		assertThat(pattern.matches("agents")).isFalse();
		assertThat(pattern.matches("other.agent")).isFalse();
	}

	@Test
	void hashInTheMiddleBacktracks() {
		TopicPattern pattern = TopicPattern.compile("a.#.z");
		assertThat(pattern.matches("a.z")).isTrue();
		assertThat(pattern.matches("a.b.z")).isTrue();
		assertThat(pattern.matches("a.b.z.z")).isTrue();
		assertThat(pattern.matches("a.b.c")).isFalse();
		assertThat(pattern.matches("a.z.b")).isFalse();
		TopicPattern twoHashes = TopicPattern.compile("#.x.#");
		assertThat(twoHashes.matches("x")).isTrue();
		assertThat(twoHashes.matches("a.b.x.c")).isTrue();
		assertThat(twoHashes.matches("a.b.c")).isFalse();
	}

	@Test
	void lonelyHashMatchesEverythingExceptDeadLettersAndInternalTopics() {
		TopicPattern pattern = TopicPattern.compile("#");
		assertThat(pattern.matches("a")).isTrue();
		assertThat(pattern.matches("a.b.c")).isTrue();
		assertThat(pattern.matches("a.b.dlq")).isFalse();
		assertThat(pattern.matches("_amb.reply.abc")).isFalse();
	}

	@Test
	void wildcardsDoNotMatchDeadLetterTopicsUnlessTheyNameThem() {
		assertThat(TopicPattern.compile("agent.#").matches("agent.x.dlq")).isFalse();
		assertThat(TopicPattern.compile("agent.*").matches("agent.dlq")).isFalse();
		assertThat(TopicPattern.compile("agent.*.dlq").matches("agent.x.dlq")).isTrue();
		assertThat(TopicPattern.compile("agent.#.dlq").matches("agent.x.y.dlq")).isTrue();
		assertThat(TopicPattern.compile("#.dlq").matches("agent.x.dlq")).isTrue();
		assertThat(TopicPattern.compile("agent.x.dlq").matches("agent.x.dlq")).isTrue();
	}

	@Test
	void wildcardsDoNotMatchInternalTopicsUnlessTheyNameThem() {
		assertThat(TopicPattern.compile("*.reply.*").matches("_amb.reply.abc")).isFalse();
		assertThat(TopicPattern.compile("_amb.#").matches("_amb.reply.abc")).isTrue();
		assertThat(TopicPattern.compile("_amb.reply.abc").matches("_amb.reply.abc")).isTrue();
	}

	@Test
	void compileValidates() {
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> TopicPattern.compile("a..b"));
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> TopicPattern.compile("a.b*"));
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> TopicPattern.compile(null));
	}

	@Test
	void equalityFollowsThePatternText() {
		assertThat(TopicPattern.compile("a.*")).isEqualTo(TopicPattern.compile("a.*"))
			.hasSameHashCodeAs(TopicPattern.compile("a.*"))
			.isNotEqualTo(TopicPattern.compile("a.#"));
		assertThat(TopicPattern.compile("a.*").pattern()).isEqualTo("a.*");
	}

}
