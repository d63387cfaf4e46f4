package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.spring.boot.actuate.AmbObservation;
import io.micrometer.observation.ObservationRegistry;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer Observation around publish and handle, when an {@link ObservationRegistry} is
 * present and {@code amb.observation.enabled} is not false.
 */
@AutoConfiguration(after = AmbAutoConfiguration.class,
		afterName = "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration")
@ConditionalOnClass(ObservationRegistry.class)
@ConditionalOnBean({ ObservationRegistry.class, DefaultMessageBus.class })
@ConditionalOnBooleanProperty(name = "amb.observation.enabled", matchIfMissing = true)
public final class AmbObservationAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	AmbObservation ambObservation(ObservationRegistry registry) {
		return new AmbObservation(registry);
	}

}
