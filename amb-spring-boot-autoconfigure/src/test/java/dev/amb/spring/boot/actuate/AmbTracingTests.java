package dev.amb.spring.boot.actuate;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import brave.Tracing;
import brave.propagation.B3Propagation;
import brave.propagation.ThreadLocalCurrentTraceContext;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.spring.boot.autoconfigure.AmbAutoConfiguration;
import dev.amb.spring.boot.autoconfigure.AmbObservationAutoConfiguration;
import dev.amb.spring.boot.listener.AmbHeader;
import dev.amb.spring.boot.listener.AmbListener;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.brave.bridge.BraveBaggageManager;
import io.micrometer.tracing.brave.bridge.BraveCurrentTraceContext;
import io.micrometer.tracing.brave.bridge.BravePropagator;
import io.micrometer.tracing.brave.bridge.BraveTracer;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A trace crosses the bus with a real tracer (Brave, B3 single-header propagation): the publisher's
 * trace id reaches the listener through the message's {@code b3} header, and the listener runs in
 * a span of the same trace.
 */
class AmbTracingTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class, AmbObservationAutoConfiguration.class))
		.withUserConfiguration(TracingConfiguration.class, TracedListener.class);

	@Test
	void traceContinuesFromPublisherToListener() {
		this.runner.run((context) -> {
			ObservationRegistry registry = context.getBean(ObservationRegistry.class);
			Tracer tracer = context.getBean(Tracer.class);
			String[] publisherTraceId = new String[1];
			Observation.createNotStarted("test.agent", registry).observeChecked(() -> {
				publisherTraceId[0] = tracer.currentSpan().context().traceId();
				context.getBean(DefaultMessageBus.class).publish("traced.work", "hello").get(5, TimeUnit.SECONDS);
			});
			TracedListener listener = context.getBean(TracedListener.class);
			String[] seen = listener.seen.poll(10, TimeUnit.SECONDS);
			assertThat(seen).isNotNull();
			assertThat(seen[0]).as("b3 header").startsWith(publisherTraceId[0]);
			assertThat(seen[1]).as("trace id inside the listener").isEqualTo(publisherTraceId[0]);
			assertThat(seen[2]).as("span id inside the listener is its own").isNotEqualTo(seen[0].split("-")[1]);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class TracingConfiguration {

		@Bean(destroyMethod = "close")
		Tracing braveTracing() {
			return Tracing.newBuilder()
				.currentTraceContext(ThreadLocalCurrentTraceContext.create())
				.propagationFactory(B3Propagation.newFactoryBuilder().injectFormat(B3Propagation.Format.SINGLE).build())
				.build();
		}

		@Bean
		Tracer tracer(Tracing tracing) {
			return new BraveTracer(tracing.tracer(), new BraveCurrentTraceContext(tracing.currentTraceContext()),
					new BraveBaggageManager());
		}

		@Bean
		ObservationRegistry observationRegistry(Tracing tracing, Tracer tracer) {
			BravePropagator propagator = new BravePropagator(tracing);
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig()
				.observationHandler(new ObservationHandler.FirstMatchingCompositeObservationHandler(
						new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
						new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
						new DefaultTracingObservationHandler(tracer)));
			return registry;
		}

	}

	static class TracedListener {

		final BlockingQueue<String[]> seen = new LinkedBlockingQueue<>();

		private final Tracer tracer;

		TracedListener(Tracer tracer) {
			this.tracer = tracer;
		}

		@AmbListener(topics = "traced.work")
		void on(Message<String> message, @AmbHeader("b3") String b3) {
			Span span = this.tracer.currentSpan();
			this.seen.add(new String[] { b3, span.context().traceId(), span.context().spanId() });
		}

	}

}
