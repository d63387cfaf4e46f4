package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.persistence.FileMessageStore;

/**
 * Adjusts the auto-configured write-ahead log before it is opened, for example to time its
 * forces. Applied in {@link org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface AmbMessageStoreBuilderCustomizer {

	/**
	 * Adjusts the builder.
	 * @param builder the builder, with the {@code amb.persistence.*} settings applied
	 */
	void customize(FileMessageStore.Builder builder);

}
