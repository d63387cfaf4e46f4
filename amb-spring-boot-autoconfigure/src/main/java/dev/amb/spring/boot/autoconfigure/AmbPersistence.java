package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.FsyncPolicy;
import dev.amb.core.persistence.MessageStoreException;
import dev.amb.spring.boot.diagnostics.InvalidAmbConfigurationException;

/**
 * Builds the write-ahead log from {@code amb.persistence.*}.
 */
final class AmbPersistence {

	private AmbPersistence() {
	}

	static FileMessageStore.Builder builder(AmbProperties.Persistence persistence) {
		return FileMessageStore.builder(persistence.getDir())
			.fsync(FsyncPolicy.valueOf(persistence.getFsync().name()))
			.fsyncInterval(persistence.getFsyncInterval())
			.segmentBytes(persistence.getSegmentSize().toBytes())
			.maxDiskBytes(persistence.getMaxDiskSize().toBytes())
			.capWait(persistence.getCapWait());
	}

	static FileMessageStore open(FileMessageStore.Builder builder, AmbProperties.Persistence persistence) {
		try {
			return builder.build();
		}
		catch (MessageStoreException | IllegalArgumentException ex) {
			throw new InvalidAmbConfigurationException("amb.persistence.dir", persistence.getDir().toAbsolutePath(),
					"must be a directory this process can create, lock and write (" + ex.getMessage() + ")");
		}
	}

}
