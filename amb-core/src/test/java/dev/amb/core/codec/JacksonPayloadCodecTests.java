package dev.amb.core.codec;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.core.type.TypeReference;

import dev.amb.core.InvalidMessageException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link JacksonPayloadCodec}: records, generics, strings and bytes, and no way for a
 * payload to choose the class that is instantiated.
 */
class JacksonPayloadCodecTests {

	private final JacksonPayloadCodec codec = new JacksonPayloadCodec();

	/** A record as agents exchange. */
	public record Task(String name, int priority, List<String> tags, Instant due) {
	}

	/** A record with a field of open type, where polymorphic typing would bite. */
	public record Envelope(String kind, Object body) {
	}

	/** A class that must never be instantiated from a payload; counts how often it is. */
	public static class Gadget {

		static final AtomicInteger instances = new AtomicInteger();

		public String command;

		public Gadget() {
			instances.incrementAndGet();
		}

	}

	@BeforeEach
	void resetGadget() {
		Gadget.instances.set(0);
	}

	@Test
	void recordRoundTrip() {
		Task task = new Task("summarise", 2, List.of("a", "b"), Instant.parse("2026-01-02T03:04:05Z"));
		byte[] bytes = this.codec.encode(task);
		assertThat(this.codec.contentType(task)).isEqualTo(PayloadCodec.JSON);
		assertThat(new String(bytes, StandardCharsets.UTF_8)).contains("\"name\":\"summarise\"").doesNotContain("@class");
		assertThat(this.codec.decode(bytes, PayloadCodec.JSON, Task.class)).isEqualTo(task);
	}

	@Test
	void genericListOfRecords() {
		List<Task> tasks = List.of(new Task("a", 1, List.of(), null), new Task("b", 2, List.of("x"), null));
		byte[] bytes = this.codec.encode(tasks);
		Type type = new TypeReference<List<Task>>() {
		}.getType();
		Object decoded = this.codec.decode(bytes, PayloadCodec.JSON, type);
		assertThat(decoded).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
			.containsExactlyElementsOf(tasks)
			.allMatch((element) -> element instanceof Task);
	}

	@Test
	void genericMapOfRecords() {
		Map<String, Task> tasks = new LinkedHashMap<>();
		tasks.put("first", new Task("a", 1, List.of(), null));
		Type type = new TypeReference<Map<String, Task>>() {
		}.getType();
		assertThat(this.codec.decode(this.codec.encode(tasks), PayloadCodec.JSON, type)).isEqualTo(tasks);
	}

	@Test
	@SuppressWarnings("unchecked")
	void jsonIntoObjectGivesPlainMapsAndLists() {
		byte[] bytes = "{\"a\":1,\"b\":[true,\"x\"]}".getBytes(StandardCharsets.UTF_8);
		Object decoded = this.codec.decode(bytes, PayloadCodec.JSON, Object.class);
		assertThat(decoded).isInstanceOf(Map.class);
		assertThat((Map<Object, Object>) decoded).containsEntry("a", 1).containsEntry("b", List.of(true, "x"));
	}

	@Test
	@SuppressWarnings("unchecked")
	void classNameInThePayloadNeverChoosesTheType() {
		String gadget = Gadget.class.getName();
		byte[] asObject = ("{\"@class\":\"" + gadget + "\",\"command\":\"rm -rf\"}").getBytes(StandardCharsets.UTF_8);
		Object decoded = this.codec.decode(asObject, PayloadCodec.JSON, Object.class);
		assertThat(decoded).isInstanceOf(Map.class).isNotInstanceOf(Gadget.class);
		assertThat((Map<Object, Object>) decoded).containsEntry("@class", gadget);

		byte[] asArray = ("[\"" + gadget + "\",{\"command\":\"rm -rf\"}]").getBytes(StandardCharsets.UTF_8);
		assertThat(this.codec.decode(asArray, PayloadCodec.JSON, Object.class)).isInstanceOf(List.class);

		byte[] nested = ("{\"kind\":\"k\",\"body\":{\"@class\":\"" + gadget + "\",\"command\":\"x\"}}")
			.getBytes(StandardCharsets.UTF_8);
		Envelope envelope = (Envelope) this.codec.decode(nested, PayloadCodec.JSON, Envelope.class);
		assertThat(envelope.body()).isInstanceOf(Map.class);

		byte[] nestedArray = ("{\"kind\":\"k\",\"body\":[\"" + gadget + "\",{\"command\":\"x\"}]}")
			.getBytes(StandardCharsets.UTF_8);
		Envelope fromArray = (Envelope) this.codec.decode(nestedArray, PayloadCodec.JSON, Envelope.class);
		assertThat(fromArray.body()).isInstanceOf(List.class);
		assertThat(Gadget.instances.get()).as("Gadget instances created from payloads").isZero();
	}

	@Test
	void encodingAnObjectWritesNoTypeInformation() {
		byte[] bytes = this.codec.encode(new Envelope("k", new Task("t", 1, List.of(), null)));
		assertThat(new String(bytes, StandardCharsets.UTF_8)).doesNotContain("@class")
			.doesNotContain(Task.class.getName());
	}

	@Test
	void stringsTravelAsUtf8Text() {
		String text = "héllo \uD83D\uDE00";
		byte[] bytes = this.codec.encode(text);
		assertThat(bytes).containsExactly(text.getBytes(StandardCharsets.UTF_8));
		assertThat(this.codec.contentType(text)).startsWith("text/plain");
		assertThat(this.codec.decode(bytes, PayloadCodec.TEXT, String.class)).isEqualTo(text);
		assertThat(this.codec.decode(bytes, PayloadCodec.TEXT, Object.class)).isEqualTo(text);
		assertThat(this.codec.encode(new StringBuilder("sb"))).containsExactly("sb".getBytes(StandardCharsets.UTF_8));
	}

	@Test
	void bytesTravelAsTheyAreAndAreCopied() {
		byte[] original = { 0, 1, 2, (byte) 0xFF };
		byte[] encoded = this.codec.encode(original);
		assertThat(encoded).containsExactly(original).isNotSameAs(original);
		assertThat(this.codec.contentType(original)).isEqualTo(PayloadCodec.BYTES);
		byte[] decoded = (byte[]) this.codec.decode(encoded, PayloadCodec.BYTES, byte[].class);
		assertThat(decoded).containsExactly(original).isNotSameAs(encoded);
		assertThat(this.codec.decode(encoded, PayloadCodec.BYTES, Object.class)).isEqualTo(original);
	}

	@Test
	void rawBytesCannotBeReadAsARecord() {
		assertThatExceptionOfType(PayloadDecodingException.class)
			.isThrownBy(() -> this.codec.decode(new byte[] { 1, 2 }, PayloadCodec.BYTES, Task.class))
			.withMessageContaining("byte[]");
	}

	@Test
	void textThatIsNotJsonCannotBeReadAsARecord() {
		byte[] bytes = "not json".getBytes(StandardCharsets.UTF_8);
		assertThatExceptionOfType(PayloadDecodingException.class)
			.isThrownBy(() -> this.codec.decode(bytes, PayloadCodec.TEXT, Task.class))
			.withMessageContaining(Task.class.getName());
	}

	@Test
	void wrongShapeIsADecodingError() {
		byte[] bytes = "{\"name\":\"x\",\"priority\":\"not a number\"}".getBytes(StandardCharsets.UTF_8);
		assertThatExceptionOfType(PayloadDecodingException.class)
			.isThrownBy(() -> this.codec.decode(bytes, PayloadCodec.JSON, Task.class));
		assertThatExceptionOfType(PayloadDecodingException.class)
			.isThrownBy(() -> this.codec.decode("{\"trunc".getBytes(StandardCharsets.UTF_8), null, Task.class));
	}

	@Test
	void missingContentTypeIsReadAsJson() {
		byte[] bytes = this.codec.encode(new Task("x", 1, List.of(), null));
		assertThat(this.codec.decode(bytes, null, Task.class)).isEqualTo(new Task("x", 1, List.of(), null));
	}

	@Test
	void unwritablePayloadIsAnInvalidMessage() {
		Object selfReferencing = new Object() {
			@SuppressWarnings("unused")
			public Object getSelf() {
				return this;
			}
		};
		assertThatExceptionOfType(InvalidMessageException.class).isThrownBy(() -> this.codec.encode(selfReferencing));
	}

}
