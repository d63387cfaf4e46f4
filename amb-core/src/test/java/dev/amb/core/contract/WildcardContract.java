package dev.amb.core.contract;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.amb.core.Message;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wildcard clauses of the contract (DESIGN.md section 2, clause 9). A backend whose adapter
 * declares {@link Capability#WILDCARDS} runs it as a {@code @Nested} inner class of its
 * {@link BrokerContractTests} subclass (see the recipe there); the enclosing test provides the
 * adapter and the other hooks.
 */
public abstract class WildcardContract extends ContractSupport {

	@Test
	void wildcardsMatchOneOrAnySegmentsButNotDeadLetters() {
		String star = topic("agent.*");
		String hash = topic("agent.#");
		Recorder<String> oneSegment = new Recorder<>();
		Recorder<String> anySegments = new Recorder<>();
		this.bus.subscribe(star, String.class, oneSegment);
		this.bus.subscribe(hash, String.class, anySegments);
		join(this.bus.publish(topic("agent"), "agent"));
		join(this.bus.publish(topic("agent.x"), "agent.x"));
		join(this.bus.publish(topic("agent.x.y"), "agent.x.y"));
		join(this.bus.publish(topic("agent.x.dlq"), "agent.x.dlq"));
		join(this.bus.publish(topic("agents.x"), "agents.x"));
		join(this.bus.publish(topic("other.agent.x"), "other.agent.x"));
		awaitSteady(Map.of("agent.*", oneSegment::count, "agent.#", anySegments::count),
				Map.of("agent.*", 1, "agent.#", 3));
		assertThat(oneSegment.payloads()).containsExactly("agent.x");
		assertThat(anySegments.payloads()).containsExactlyInAnyOrder("agent", "agent.x", "agent.x.y");
		assertThat(anySegments.messages()).extracting(Message::getTopic)
			.containsExactlyInAnyOrder(topic("agent"), topic("agent.x"), topic("agent.x.y"));
	}

	@Test
	void wildcardNamingTheDeadLetterSegmentReceivesDeadLetters() {
		Recorder<String> deadLetters = new Recorder<>();
		this.bus.subscribe(topic("agent.*.dlq"), String.class, deadLetters);
		join(this.bus.publish(topic("agent.x.dlq"), "dead"));
		awaitSteady(deadLetters::count, 1);
	}

}
