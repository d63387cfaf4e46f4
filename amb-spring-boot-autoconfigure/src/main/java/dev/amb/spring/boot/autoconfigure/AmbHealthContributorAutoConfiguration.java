package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.spring.boot.actuate.AmbHealthIndicator;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code amb} health contributor, when Spring Boot's health support is present and
 * {@code management.health.amb.enabled} is not false.
 */
@AutoConfiguration(after = AmbAutoConfiguration.class, afterName = "org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration")
@ConditionalOnClass({ HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class })
@ConditionalOnBean(DefaultMessageBus.class)
public final class AmbHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnEnabledHealthIndicator("amb")
	@ConditionalOnMissingBean(name = "ambHealthIndicator")
	AmbHealthIndicator ambHealthIndicator(DefaultMessageBus bus, AmbProperties properties) {
		return new AmbHealthIndicator(bus, properties.getHealth().getStallTimeout());
	}

}
