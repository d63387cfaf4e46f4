package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.amb.core.DefaultMessageBus;

class LatencyProbeTests {

	@Test
	void probe() throws Exception {
		DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(new KafkaBrokerAdapter(java.util.Map.of("bootstrap.servers", KafkaTestBroker.bootstrapServers()),
					java.util.Map.of("bootstrap.servers", KafkaTestBroker.bootstrapServers(), "fetch.max.wait.ms", Integer.getInteger("fmw", 500)),
					java.util.Map.of("bootstrap.servers", KafkaTestBroker.bootstrapServers()),
					KafkaBrokerSettings.builder().partitions(Integer.getInteger("parts", 2)).pollTimeout(Duration.ofMillis(50)).build()))
			.build();
		ArrayBlockingQueue<Long> q = new ArrayBlockingQueue<>(100);
		bus.subscribe("probe.x" + System.nanoTime(), Long.class, (m) -> q.add(System.nanoTime() - m.getPayload()));
		String topic = bus.subscriptions().get(0).pattern();
		for (int i = 0; i < 10; i++) {
			long t0 = System.nanoTime();
			bus.publish(topic, t0).get();
			long sent = System.nanoTime() - t0;
			Long latency = q.poll(5, TimeUnit.SECONDS);
			System.err.println("PROBE send " + sent / 1000 + "us e2e " + (latency == null ? -1 : latency / 1000) + "us");
			Thread.sleep(200);
		}
		bus.close();
	}

}
