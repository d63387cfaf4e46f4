package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;

/**
 * Adjusts the auto-configured bus before it is built, for example to add an interceptor or to
 * plug in a write-ahead log. Applied in {@link org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface AmbMessageBusBuilderCustomizer {

	/**
	 * Adjusts the builder.
	 * @param builder the builder, with the adapter, codec and {@code amb.*} settings applied
	 */
	void customize(DefaultMessageBus.Builder builder);

}
