package dev.amb.core.adapters.kafka;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.amb.core.Priority;
import dev.amb.core.TopicPattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class KafkaTopicNamesTests {

	private static final List<String> TOPICS = List.of("agent", "agent.tasks", "agent.tasks.dlq", "agent.dlq",
			"agent.a.b", "agent.a.b.c", "other.tasks", "_amb.reply.x", "_amb", "dlq", "agents.tasks", "agent_tasks",
			"a-b.c_d", "x.agent.tasks", "agent.tasks.done");

	private static final List<String> PATTERNS = List.of("agent.*", "agent.#", "#", "*", "#.tasks", "*.tasks",
			"agent.*.b", "agent.#.c", "#.dlq", "agent.*.dlq", "_amb.#", "_amb.reply.*", "#.#", "agent.#.#",
			"agent.tasks", "*.*.*", "#.tasks.#");

	private final KafkaTopicNames names = new KafkaTopicNames(KafkaBrokerSettings.builder().topicPrefix("p-").build());

	@Test
	void laneTopicsUseSuffixesNoAmbTopicCanHave() {
		assertThat(this.names.kafkaTopic("agent.tasks", Priority.NORMAL)).isEqualTo("p-agent.tasks");
		assertThat(this.names.kafkaTopic("agent.tasks", Priority.HIGH)).isEqualTo("p-agent.tasks..high");
		assertThat(this.names.kafkaTopic("agent.tasks", Priority.LOW)).isEqualTo("p-agent.tasks..low");
		assertThat(this.names.kafkaTopics("agent.tasks", EnumSet.of(Priority.LOW, Priority.HIGH)))
			.containsExactly("p-agent.tasks..high", "p-agent.tasks..low");
		for (Priority priority : Priority.values()) {
			String kafkaTopic = this.names.kafkaTopic("agent.tasks", priority);
			assertThat(this.names.lane(kafkaTopic)).isEqualTo(priority);
			assertThat(this.names.ambTopic(kafkaTopic)).isEqualTo("agent.tasks");
		}
	}

	@Test
	void regexMatchesWhatTopicPatternMatchesInEveryLane() {
		Set<Priority> all = EnumSet.allOf(Priority.class);
		for (String patternText : PATTERNS) {
			TopicPattern pattern = TopicPattern.compile(patternText);
			Pattern regex = this.names.regex(pattern, all);
			for (String topic : TOPICS) {
				for (Priority priority : Priority.values()) {
					String kafkaTopic = this.names.kafkaTopic(topic, priority);
					assertThat(regex.matcher(kafkaTopic).matches())
						.as("%s against %s (%s)", patternText, kafkaTopic, regex)
						.isEqualTo(pattern.matches(topic));
				}
			}
		}
	}

	@Test
	void regexMatchesOnlyTheSubscribedLanesAndPrefix() {
		Pattern regex = this.names.regex(TopicPattern.compile("agent.*"), EnumSet.of(Priority.HIGH));
		assertThat(regex.matcher("p-agent.tasks..high").matches()).isTrue();
		assertThat(regex.matcher("p-agent.tasks").matches()).isFalse();
		assertThat(regex.matcher("p-agent.tasks..low").matches()).isFalse();
		assertThat(regex.matcher("agent.tasks..high").matches()).isFalse();
	}

	@Test
	void settingsRejectSuffixesKafkaDoesNotAllow() {
		assertThatIllegalArgumentException().isThrownBy(() -> KafkaBrokerSettings.builder().highLaneSuffix("/high"))
			.withMessageContaining("'/'");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> KafkaBrokerSettings.builder().highLaneSuffix(".x").lowLaneSuffix(".x").build());
	}

}
