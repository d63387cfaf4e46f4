package dev.amb.core.contract;

import org.junit.jupiter.api.Nested;

import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;

/**
 * The in-memory backend against the whole contract. It declares every capability but durable
 * groups (and durability), so it runs every capability contract but {@link DurableGroupContract}.
 */
class InMemoryBrokerContractTests extends BrokerContractTests {

	@Override
	protected BrokerAdapter createAdapter() {
		return InMemoryBroker.builder().build();
	}

	@Override
	protected boolean sharedBackend() {
		return false;
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
	class BoundedQueues extends BoundedQueueContract {

	}

	@Nested
	class Pause extends PauseContract {

	}

}
