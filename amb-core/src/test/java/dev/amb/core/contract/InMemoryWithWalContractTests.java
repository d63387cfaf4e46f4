package dev.amb.core.contract;

import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.FsyncPolicy;
import dev.amb.core.spi.BrokerAdapter;

/**
 * The in-memory backend behind the write-ahead log against the whole contract: the log sits in the
 * publish path and tracks every delivery, and must change none of the promises.
 */
class InMemoryWithWalContractTests extends BrokerContractTests {

	@TempDir
	Path directory;

	@Override
	protected BrokerAdapter createAdapter() {
		return InMemoryBroker.builder().build();
	}

	@Override
	protected void customizeBus(DefaultMessageBus.Builder builder) {
		// The contract is about semantics, not durability: leave the fsync to the OS to keep it quick.
		builder.store(FileMessageStore.builder(this.directory.resolve(UUID.randomUUID().toString()))
			.fsync(FsyncPolicy.NEVER)
			.build());
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
