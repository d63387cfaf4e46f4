package dev.amb.spring.boot.autoconfigure;

import dev.amb.spring.boot.diagnostics.InvalidAmbConfigurationException;

import org.springframework.util.ClassUtils;

/**
 * Where the write-ahead log joins the auto-configuration. Until the log is wired in, turning it on
 * stops the start-up with a clear message rather than running without the durability asked for.
 */
final class AmbPersistence {

	static final String FILE_MESSAGE_STORE = "dev.amb.core.persistence.FileMessageStore";

	private AmbPersistence() {
	}

	static void check(AmbProperties.Persistence persistence) {
		if (!persistence.isEnabled()) {
			return;
		}
		String why = ClassUtils.isPresent(FILE_MESSAGE_STORE, AmbPersistence.class.getClassLoader())
				? "the write-ahead log is not wired into the Spring Boot auto-configuration of this version"
				: "this version of amb-core has no write-ahead log (" + FILE_MESSAGE_STORE + ")";
		throw new InvalidAmbConfigurationException("amb.persistence.enabled", true,
				why + "; set it to false (or remove it) to run without one");
	}

}
