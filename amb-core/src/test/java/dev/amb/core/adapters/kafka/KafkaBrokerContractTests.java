package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import org.junit.jupiter.api.Nested;

import dev.amb.core.Priority;
import dev.amb.core.contract.BrokerContractTests;
import dev.amb.core.contract.DurableGroupContract;
import dev.amb.core.contract.KeyOrderContract;
import dev.amb.core.contract.PauseContract;
import dev.amb.core.contract.PriorityContract;
import dev.amb.core.contract.WildcardContract;
import dev.amb.core.spi.BrokerAdapter;

/**
 * The Kafka backend against the whole contract, on a real KRaft broker: every capability's
 * contract but bounded queues, which Kafka does not declare.
 */
class KafkaBrokerContractTests extends BrokerContractTests {

	private static final KafkaBrokerSettings SETTINGS = KafkaBrokerSettings.builder()
		.partitions(2)
		.pollTimeout(Duration.ofMillis(50))
		.build();

	@Override
	protected BrokerAdapter createAdapter() {
		return KafkaBrokerAdapter.forBootstrapServers(KafkaTestBroker.bootstrapServers(), SETTINGS);
	}

	@Override
	protected Duration deliveryTimeout() {
		// A group rebalance or a wildcard's topic discovery can take a few seconds.
		return Duration.ofSeconds(20);
	}

	@Override
	protected boolean sendUnreadable(String topic, byte[] body) throws Exception {
		String kafkaTopic = new KafkaTopicNames(SETTINGS).kafkaTopic(topic, Priority.NORMAL);
		try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
				ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaTestBroker.bootstrapServers(),
				ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
				ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
			producer.send(new ProducerRecord<>(kafkaTopic, body)).get();
		}
		return true;
	}

	@Nested
	class DurableGroups extends DurableGroupContract {

	}

	@Nested
	class KeyOrder extends KeyOrderContract {

	}

	@Nested
	class Priorities extends PriorityContract {

	}

	@Nested
	class Wildcards extends WildcardContract {

	}

	@Nested
	class Pause extends PauseContract {

	}

}
