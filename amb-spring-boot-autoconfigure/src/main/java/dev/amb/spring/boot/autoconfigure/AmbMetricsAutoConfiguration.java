package dev.amb.spring.boot.autoconfigure;

import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.spring.boot.actuate.AmbMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters of the bus, when a {@link MeterRegistry} is present. The meters are also the
 * bus's publish and delivery interceptors, for the latency timers.
 */
@AutoConfiguration(after = AmbAutoConfiguration.class, afterName = {
		"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
		"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({ MeterRegistry.class, DefaultMessageBus.class })
public final class AmbMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	AmbMetrics ambMetrics(MeterRegistry registry, ObjectProvider<DefaultMessageBus> bus) {
		return new AmbMetrics(registry, bus);
	}

	@Bean
	@ConditionalOnBooleanProperty("amb.persistence.enabled")
	AmbMessageStoreBuilderCustomizer ambWalFsyncTimer(MeterRegistry registry) {
		Timer timer = AmbMetrics.fsyncTimer(registry);
		return (builder) -> builder.fsyncListener((nanos) -> timer.record(nanos, TimeUnit.NANOSECONDS));
	}

}
