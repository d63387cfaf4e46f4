package dev.amb.sample.agents;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * Starts the sample the way a user would, with a configuration mistake, and reads the start-up
 * report Spring Boot prints through AMB's failure analyzer.
 */
@ExtendWith(OutputCaptureExtension.class)
class AgentsApplicationFailureTests {

	@Test
	void kafkaWithoutItsLibraryNamesTheDependencyToAdd(CapturedOutput output) {
		assertThatException().isThrownBy(() -> run("--amb.backend=kafka"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("amb.backend=kafka needs org.springframework.kafka.core.KafkaTemplate")
			.contains("Add the dependency org.springframework.boot:spring-boot-starter-kafka");
	}

	@Test
	void unknownBackendListsTheValidNames(CapturedOutput output) {
		assertThatException().isThrownBy(() -> run("--amb.backend=zeromq"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: amb.backend")
			.contains("valid names are in-memory, redis, rabbitmq, kafka");
	}

	@Test
	void thresholdAboveOneIsExplained(CapturedOutput output) {
		assertThatException().isThrownBy(() -> run("--amb.backpressure.threshold=1.5"));
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("Property: amb.backpressure.threshold")
			.contains("Value: 1.5")
			.contains("must be a fill ratio above 0 and at most 1");
	}

	private static void run(String... arguments) {
		String[] all = new String[arguments.length + 2];
		all[0] = "--server.port=0";
		all[1] = "--agents.planner.enabled=false";
		System.arraycopy(arguments, 0, all, 2, arguments.length);
		SpringApplication.run(AgentsApplication.class, all).close();
	}

}
