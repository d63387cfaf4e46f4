package dev.amb.core.contract;

import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;

/**
 * The in-memory backend against the whole contract.
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

}
