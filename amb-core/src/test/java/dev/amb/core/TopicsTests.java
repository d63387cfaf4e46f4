package dev.amb.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link Topics}: the rules for topic names and subscription patterns.
 */
class TopicsTests {

	@ParameterizedTest
	@ValueSource(strings = { "a", "agent", "agent.tasks", "Agent_1.task-2.x", "a.b.c.d.e", "_amb.reply.abc",
			"agent.tasks.dlq", "0.1" })
	void validTopicsAreAccepted(String topic) {
		assertThat(Topics.validateTopic(topic)).isEqualTo(topic);
		assertThat(Topics.validatePattern(topic)).isEqualTo(topic);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", ".", "a..b", ".a", "a.", "a b", " a", "a\tb", "a/b", "a:b", "ä", "a,b", "a$b" })
	void malformedNamesAreRejectedForTopicsAndPatterns(String name) {
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic(name));
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validatePattern(name));
	}

	@Test
	void nullIsRejected() {
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic(null))
			.withMessageContaining("null");
	}

	@Test
	void lengthLimitIsInclusive() {
		String longest = "a".repeat(Topics.MAX_LENGTH);
		assertThat(Topics.validateTopic(longest)).isEqualTo(longest);
		assertThatExceptionOfType(InvalidTopicException.class)
			.isThrownBy(() -> Topics.validateTopic(longest + "b"))
			.withMessageContaining(Integer.toString(Topics.MAX_LENGTH + 1))
			.withMessageContaining("limit");
	}

	@ParameterizedTest
	@ValueSource(strings = { "a.*", "*", "#", "a.#", "*.b", "a.*.c.#" })
	void wildcardsAreForPatternsOnly(String pattern) {
		assertThat(Topics.validatePattern(pattern)).isEqualTo(pattern);
		assertThat(Topics.isWildcard(pattern)).isTrue();
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic(pattern))
			.withMessageContaining("wildcard");
	}

	@ParameterizedTest
	@ValueSource(strings = { "a*", "a.b*", "#a", "a.*#", "a.**" })
	void wildcardMustStandAloneAsASegment(String pattern) {
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validatePattern(pattern))
			.withMessageContaining("stand alone");
	}

	@Test
	void errorMessagesNameTheRule() {
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic("a..b"))
			.withMessageContaining("empty segment");
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic("a b"))
			.withMessageContaining("' '");
		assertThatExceptionOfType(InvalidTopicException.class).isThrownBy(() -> Topics.validateTopic(""))
			.withMessageContaining("empty");
	}

	@Test
	void deadLetterTopics() {
		assertThat(Topics.deadLetterTopic("agent.tasks")).isEqualTo("agent.tasks.dlq");
		assertThat(Topics.isDeadLetterTopic("agent.tasks.dlq")).isTrue();
		assertThat(Topics.isDeadLetterTopic("agent.tasksdlq")).isFalse();
		assertThat(Topics.isDeadLetterTopic("dlq")).isFalse();
	}

}
