package dev.amb.core.contract;

import org.junit.jupiter.api.Test;

import dev.amb.core.spi.Capability;

/**
 * The key-order clauses of the contract under concurrency and in groups (DESIGN.md section 2,
 * clause 4). A backend whose adapter declares {@link Capability#KEY_ORDER} runs it as a
 * {@code @Nested} inner class of its {@link BrokerContractTests} subclass (see the recipe there);
 * the enclosing test provides the adapter and the other hooks.
 */
public abstract class KeyOrderContract extends ContractSupport {

	@Test
	void sameKeyAndPriorityKeepPublishOrderWithConcurrency() {
		String topic = topic("order-concurrent");
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, jitter(recorder), options().concurrency(3).build());
		publishKeyed(topic, 6, 25);
		awaitCount(recorder::count, 150);
		assertOrderPerKey(recorder.messages());
	}

	@Test
	void sameKeyAndPriorityKeepPublishOrderInAGroupWithConcurrency() {
		String topic = topic("order-group");
		String group = group("ordered");
		Recorder<String> recorder = new Recorder<>();
		this.bus.subscribe(topic, String.class, jitter(recorder), options().group(group).concurrency(2).build());
		this.bus.subscribe(topic, String.class, jitter(recorder), options().group(group).concurrency(2).build());
		publishKeyed(topic, 6, 25);
		awaitSteady(recorder::count, 150);
		assertOrderPerKey(recorder.messages());
	}

}
