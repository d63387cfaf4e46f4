package dev.amb.core.adapters.kafka;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real KRaft broker (spring-kafka-test's {@link EmbeddedKafkaKraftBroker}) shared by every
 * Kafka test class in the JVM: starting one takes seconds, and each test uses its own topics
 * and groups.
 */
final class KafkaTestBroker {

	private static EmbeddedKafkaKraftBroker broker;

	private KafkaTestBroker() {
	}

	/** @return the bootstrap servers of the shared broker, started on first use */
	static synchronized String bootstrapServers() {
		if (broker == null) {
			EmbeddedKafkaKraftBroker started = new EmbeddedKafkaKraftBroker(1, 1);
			started.afterPropertiesSet();
			Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "embedded-kafka-shutdown"));
			broker = started;
		}
		return broker.getBrokersAsString();
	}

}
