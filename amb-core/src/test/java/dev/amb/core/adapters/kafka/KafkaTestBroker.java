package dev.amb.core.adapters.kafka;

import java.util.Map;

import dev.amb.core.testsupport.RealServer;

/**
 * The real Kafka broker shared by every Kafka test class in the JVM (see {@link RealServer#KAFKA}:
 * a KRaft broker embedded in the test JVM, or a container): starting one takes seconds, and each
 * test uses its own topics and groups.
 */
final class KafkaTestBroker {

	/** Settings for the private brokers that fault tests start and stop. */
	static final Map<String, String> FAST_START = RealServer.KAFKA_FAST_START;

	private KafkaTestBroker() {
	}

	/** @return the bootstrap servers of the shared broker, started on first use */
	static String bootstrapServers() {
		return RealServer.KAFKA.address();
	}

}
