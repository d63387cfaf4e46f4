package dev.amb.core.contract;

import org.junit.jupiter.api.Test;

import dev.amb.core.PublishOptions;
import dev.amb.core.Subscription;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pause clause of the contract (DESIGN.md section 2, clause 10). A backend whose adapter
 * declares {@link Capability#PAUSE} runs it as a {@code @Nested} inner class of its
 * {@link BrokerContractTests} subclass (see the recipe there); the enclosing test provides the
 * adapter and the other hooks.
 */
public abstract class PauseContract extends ContractSupport {

	@Test
	void pausedSubscriptionHoldsMessagesUntilResumed() {
		String topic = topic("paused");
		Recorder<String> recorder = new Recorder<>();
		Subscription subscription = this.bus.subscribe(topic, String.class, recorder);
		subscription.pause();
		assertThat(subscription.isPaused()).isTrue();
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "m" + i, PublishOptions.key("k")));
		}
		awaitSteady(recorder::count, 0);
		assertThat(state(this.bus, subscription).paused()).isTrue();
		subscription.resume();
		assertThat(subscription.isPaused()).isFalse();
		awaitSteady(recorder::count, 5);
		assertThat(recorder.payloads()).containsExactly("m0", "m1", "m2", "m3", "m4");
	}

}
