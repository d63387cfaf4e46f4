package dev.amb.core.adapters.redis;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.protocol.ProtocolVersion;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageIds;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.testsupport.RealServer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reading {@code XREADGROUP} replies straight into entries, in both of Redis's protocols: RESP2
 * nests each stream as a [key, entries] pair in an array, RESP3 as a key and its entries in a map.
 */
class LettuceReadsTests {

	private static final StreamRef HIGH = stream("a.b", Priority.HIGH);

	private static final StreamRef NORMAL = stream("a.b", Priority.NORMAL);

	@Test
	void readsAResp2Reply() {
		UUID first = MessageIds.next();
		UUID second = MessageIds.next();
		LettuceReads.EntriesOutput output = output();
		output.multi(2);
		output.multi(2);
		output.set(buffer(HIGH.name()));
		output.multi(1);
		entry(output, "1-0", first, "high");
		output.multi(2);
		output.set(buffer(NORMAL.name()));
		output.multi(2);
		entry(output, "2-0", second, "k");
		deleted(output, "3-0");
		assertEntries(output.get(), first, second);
	}

	@Test
	void readsAResp3Reply() {
		UUID first = MessageIds.next();
		UUID second = MessageIds.next();
		LettuceReads.EntriesOutput output = output();
		output.multiMap(2);
		output.set(buffer(HIGH.name()));
		output.multi(1);
		entry(output, "1-0", first, "high");
		output.set(buffer(NORMAL.name()));
		output.multi(2);
		entry(output, "2-0", second, "k");
		deleted(output, "3-0");
		assertEntries(output.get(), first, second);
	}

	@Test
	void anEmptyReplyHasNoEntries() {
		LettuceReads.EntriesOutput output = output();
		output.multi(-1);
		assertThat(output.get()).isEmpty();
	}

	@Test
	void anUnreadableEntryComesWithTheReasonAndTheEntriesAroundItAreRead() {
		UUID id = MessageIds.next();
		LettuceReads.EntriesOutput output = output();
		output.multi(1);
		output.multi(2);
		output.set(buffer(NORMAL.name()));
		output.multi(2);
		output.multi(2);
		output.set(buffer("1-0"));
		output.multi(2);
		output.set(buffer("id"));
		output.set(buffer("not-a-uuid"));
		entry(output, "2-0", id, null);
		List<StreamEntry> entries = output.get();
		assertThat(entries).hasSize(2);
		assertThat(entries.get(0).envelope()).isNull();
		assertThat(entries.get(0).failure()).hasMessageContaining("'data' is missing");
		assertThat(entries.get(0).id().getValue()).isEqualTo("1-0");
		assertThat(entries.get(1).envelope().id()).isEqualTo(id);
	}

	@Test
	void aSubscriptionReadsOverResp2AsOverResp3() throws Exception {
		RealServer.REDIS.require();
		String prefix = "amb-test-resp2-" + UUID.randomUUID().toString().substring(0, 8) + ":";
		LettuceConnectionFactory factory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RealServer.REDIS.host(), RealServer.REDIS.port()),
				LettuceClientConfiguration.builder()
					.clientOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build())
					.build());
		factory.afterPropertiesSet();
		factory.start();
		try (DefaultMessageBus bus = DefaultMessageBus.builder()
			.adapter(new RedisBrokerAdapter(factory, RedisBrokerSettings.builder().streamPrefix(prefix).build()))
			.build()) {
			String topic = "resp2." + UUID.randomUUID().toString().substring(0, 8);
			Set<String> received = ConcurrentHashMap.newKeySet();
			bus.subscribe(topic, String.class,
					(m) -> received.add(m.getPayload() + "/" + m.getKey() + "/" + m.getPriority().wireName()),
					SubscribeOptions.group("resp2"));
			bus.publish(topic, "one", PublishOptions.builder().key("k").priority(Priority.HIGH).build())
				.get(10, TimeUnit.SECONDS);
			bus.publish(topic, "two").get(10, TimeUnit.SECONDS);
			await().atMost(Duration.ofSeconds(10)).untilAsserted(
					() -> assertThat(received).containsExactlyInAnyOrder("one/k/high", "two/null/normal"));
		}
		finally {
			try (var connection = factory.getConnection()) {
				var keys = connection.keyCommands().keys((prefix + "*").getBytes(StandardCharsets.UTF_8));
				if (keys != null && !keys.isEmpty()) {
					connection.keyCommands().del(keys.toArray(new byte[0][]));
				}
			}
			factory.destroy();
		}
	}

	private static void entry(LettuceReads.EntriesOutput output, String entryId, UUID id, String key) {
		output.multi(2);
		output.set(buffer(entryId));
		output.multi((key != null) ? 6 : 4);
		output.set(buffer("id"));
		output.set(buffer(id.toString()));
		if (key != null) {
			output.set(buffer("ambkey"));
			output.set(buffer(key));
		}
		output.set(buffer("data"));
		output.set(buffer("\"x\""));
	}

	private static void deleted(LettuceReads.EntriesOutput output, String entryId) {
		output.multi(2);
		output.set(buffer(entryId));
		output.multi(-1);
	}

	private static void assertEntries(List<StreamEntry> entries, UUID first, UUID second) {
		assertThat(entries).hasSize(2);
		assertThat(entries.get(0).stream()).isSameAs(HIGH);
		assertThat(entries.get(0).envelope().id()).isEqualTo(first);
		assertThat(entries.get(0).envelope().priority()).isEqualTo(Priority.HIGH);
		assertThat(entries.get(0).key()).isEqualTo("high");
		assertThat(entries.get(0).localKey()).isEqualTo(HIGH.name() + "#1-0");
		assertThat(entries.get(1).stream()).isSameAs(NORMAL);
		assertThat(entries.get(1).envelope().id()).isEqualTo(second);
		assertThat(entries.get(1).envelope().topic()).isEqualTo("a.b");
		assertThat(entries.get(1).envelope().priority()).isEqualTo(Priority.NORMAL);
		assertThat(entries.get(1).id().getValue()).isEqualTo("2-0");
		assertThat(new String(entries.get(1).envelope().payload(), StandardCharsets.UTF_8)).isEqualTo("\"x\"");
	}

	private static LettuceReads.EntriesOutput output() {
		return new LettuceReads.EntriesOutput(new StreamRef[] { HIGH, NORMAL }, new StreamFields().parser());
	}

	private static ByteBuffer buffer(String text) {
		return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
	}

	private static StreamRef stream(String topic, Priority lane) {
		String name = "amb:" + topic + ":" + lane.wireName();
		return new StreamRef(topic, lane.lane(), name.getBytes(StandardCharsets.UTF_8), name);
	}

}
