package dev.amb.core.contract;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks that a nested capability contract takes the adapter and every hook from the backend test
 * around it, so that a backend's overrides apply to its capability contracts too.
 */
class ContractSupportTests extends ContractSupport {

	private final AtomicInteger adapters = new AtomicInteger();

	@Override
	protected BrokerAdapter createAdapter() {
		this.adapters.incrementAndGet();
		return InMemoryBroker.builder().build();
	}

	@Override
	protected Duration deliveryTimeout() {
		return Duration.ofSeconds(7);
	}

	@Override
	protected Duration quietPeriod() {
		return Duration.ofMillis(123);
	}

	@Override
	protected int priorityTolerance() {
		return 3;
	}

	@Override
	protected boolean sharedBackend() {
		return false;
	}

	@Override
	protected boolean sendUnreadable(String topic, byte[] body) {
		return body.length == 1;
	}

	@Override
	protected void customizeBus(DefaultMessageBus.Builder builder) {
		builder.source("/amb/enclosing");
	}

	@Nested
	class NestedContract extends ContractSupport {

		@Test
		void takesTheAdapterAndEveryHookFromTheEnclosingBackendTest() throws Exception {
			assertThat(deliveryTimeout()).isEqualTo(Duration.ofSeconds(7));
			assertThat(quietPeriod()).isEqualTo(Duration.ofMillis(123));
			assertThat(priorityTolerance()).isEqualTo(3);
			assertThat(sharedBackend()).isFalse();
			assertThat(sendUnreadable("any", new byte[1])).isTrue();
			assertThat(sendUnreadable("any", new byte[2])).isFalse();
			assertThat(ContractSupportTests.this.adapters.get()).as("adapters created for the nested test's bus")
				.isEqualTo(1);
			assertThat(ContractSupportTests.this.bus).as("the enclosing instance opens no bus of its own").isNull();
			String topic = topic("hooks");
			Recorder<String> recorder = new Recorder<>();
			this.bus.subscribe(topic, String.class, recorder);
			join(this.bus.publish(topic, "customized"));
			awaitCount(recorder::count, 1);
			assertThat(recorder.messages().get(0).getSource()).as("source set by the enclosing customizeBus")
				.isEqualTo("/amb/enclosing");
		}

	}

}
