package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.Test;

class RawProbeTests {

	@Test
	void probe() throws Exception {
		String bs = KafkaTestBroker.bootstrapServers();
		String topic = "raw" + System.nanoTime();
		try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bs))) {
			admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(topic + "..high", 1, (short) 1), new NewTopic(topic + "..low", 1, (short) 1))).all().get();
		}
		ArrayBlockingQueue<Long> q = new ArrayBlockingQueue<>(100);
		Thread t = new Thread(() -> {
			try (KafkaConsumer<Long, Long> c = new KafkaConsumer<>(Map.of("bootstrap.servers", bs, "group.id", topic,
					"key.deserializer", LongDeserializer.class, "value.deserializer", LongDeserializer.class,
					"auto.offset.reset", "latest", "group.protocol", System.getProperty("gp", "classic")))) {
				c.subscribe(Boolean.getBoolean("three") ? List.of(topic + "..high", topic, topic + "..low") : List.of(topic));
				while (!Thread.currentThread().isInterrupted()) {
					c.poll(Duration.ofMillis(100)).forEach((r) -> q.add(System.nanoTime() - r.value()));
				}
			}
			catch (Exception ex) {
			}
		});
		t.start();
		Thread.sleep(3000);
		try (KafkaProducer<Long, Long> p = new KafkaProducer<>(Map.of("bootstrap.servers", bs, "key.serializer",
				LongSerializer.class, "value.serializer", LongSerializer.class, "acks", "all", "linger.ms", 5))) {
			for (int i = 0; i < 8; i++) {
				long t0 = System.nanoTime();
				p.send(new ProducerRecord<>(topic, t0)).get();
				Long latency = q.poll(5, TimeUnit.SECONDS);
				System.err.println("RAWPROBE e2e " + (latency == null ? -1 : latency / 1000) + "us");
				Thread.sleep(200);
			}
		}
		t.interrupt();
		t.join();
	}

}
