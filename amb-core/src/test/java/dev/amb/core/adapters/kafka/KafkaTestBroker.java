package dev.amb.core.adapters.kafka;

import java.util.Map;

import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One real KRaft broker (spring-kafka-test's {@link EmbeddedKafkaKraftBroker}) shared by every
 * Kafka test class in the JVM: starting one takes seconds, and each test uses its own topics
 * and groups.
 */
final class KafkaTestBroker {

	/** One partition for the offsets topic instead of 50: the first group join comes seconds sooner. */
	static final Map<String, String> FAST_START = Map.of("offsets.topic.num.partitions", "1");

	private static EmbeddedKafkaKraftBroker broker;

	private KafkaTestBroker() {
	}

	/** @return the bootstrap servers of the shared broker, started on first use */
	static synchronized String bootstrapServers() {
		if (broker == null) {
			EmbeddedKafkaKraftBroker started = new EmbeddedKafkaKraftBroker(1, 1);
			started.brokerProperties(FAST_START);
			started.afterPropertiesSet();
			Runtime.getRuntime().addShutdownHook(new Thread(started::destroy, "embedded-kafka-shutdown"));
			broker = started;
		}
		return broker.getBrokersAsString();
	}

}
