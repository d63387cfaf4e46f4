package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.spring.boot.actuate.AmbEndpoint;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code amb} Actuator endpoint, when Actuator is present and the endpoint is enabled and
 * exposed ({@code management.endpoints.web.exposure.include=amb}).
 */
@AutoConfiguration(after = AmbAutoConfiguration.class)
@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
@ConditionalOnBean(DefaultMessageBus.class)
public final class AmbEndpointAutoConfiguration {

	@Bean
	@ConditionalOnAvailableEndpoint
	@ConditionalOnMissingBean
	AmbEndpoint ambEndpoint(DefaultMessageBus bus, ObjectProvider<AmbListenerEndpointRegistry> registry) {
		return new AmbEndpoint(bus, registry.getIfAvailable());
	}

}
