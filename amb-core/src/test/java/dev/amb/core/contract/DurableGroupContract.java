package dev.amb.core.contract;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.amb.core.Subscription;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The durable-group clause of the contract (DESIGN.md section 2, clause 3). A backend whose
 * adapter declares {@link Capability#DURABLE_GROUPS} runs it as a {@code @Nested} inner class of
 * its {@link BrokerContractTests} subclass (see the recipe there); the enclosing test provides the
 * adapter and the other hooks.
 */
public abstract class DurableGroupContract extends ContractSupport {

	@Test
	void durableGroupKeepsItsBacklogWhileNoMemberIsSubscribed() {
		String topic = topic("durable");
		String group = group("keepers");
		Recorder<String> before = new Recorder<>();
		Subscription member = this.bus.subscribe(topic, String.class, before, options().group(group).build());
		join(this.bus.publish(topic, "while-subscribed"));
		awaitCount(before::count, 1);
		member.close();
		List<String> backlog = List.of("b1", "b2", "b3");
		for (String payload : backlog) {
			join(this.bus.publish(topic, payload));
		}
		Recorder<String> after = new Recorder<>();
		this.bus.subscribe(topic, String.class, after, options().group(group).build());
		awaitSteady(after::count, backlog.size());
		assertThat(after.payloads()).containsExactlyInAnyOrderElementsOf(backlog);
	}

}
