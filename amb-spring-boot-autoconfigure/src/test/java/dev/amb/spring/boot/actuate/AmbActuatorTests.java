package dev.amb.spring.boot.actuate;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Subscription;
import dev.amb.core.inmemory.InMemoryBroker;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.spring.boot.autoconfigure.AmbAutoConfiguration;
import dev.amb.spring.boot.autoconfigure.AmbEndpointAutoConfiguration;
import dev.amb.spring.boot.autoconfigure.AmbHealthContributorAutoConfiguration;
import dev.amb.spring.boot.autoconfigure.AmbMetricsAutoConfiguration;
import dev.amb.spring.boot.autoconfigure.AmbObservationAutoConfiguration;
import dev.amb.spring.boot.listener.AmbHeader;
import dev.amb.spring.boot.listener.AmbListener;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class AmbActuatorTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class,
				AmbHealthContributorAutoConfiguration.class, AmbEndpointAutoConfiguration.class,
				AmbMetricsAutoConfiguration.class, AmbObservationAutoConfiguration.class))
		.withPropertyValues("management.endpoints.web.exposure.include=amb");

	@Test
	void healthEndpointMetricsAndObservationArePresentWithActuator() {
		this.runner.withUserConfiguration(MeterRegistryConfiguration.class, ObservationConfiguration.class)
			.run((context) -> assertThat(context).hasSingleBean(AmbHealthIndicator.class)
				.hasBean("ambHealthIndicator")
				.hasSingleBean(AmbEndpoint.class)
				.hasSingleBean(AmbMetrics.class)
				.hasSingleBean(AmbObservation.class));
	}

	@Test
	void withoutActuatorTheBusStillWorks() {
		this.runner.withUserConfiguration(BlockingListener.class)
			.withClassLoader(new FilteredClassLoader("org.springframework.boot.health",
					"org.springframework.boot.actuate", "io.micrometer"))
			.run((context) -> {
				assertThat(context).hasNotFailed()
					.hasSingleBean(DefaultMessageBus.class)
					.doesNotHaveBean(AmbHealthIndicator.class)
					.doesNotHaveBean(AmbEndpoint.class)
					.doesNotHaveBean(AmbMetrics.class)
					.doesNotHaveBean(AmbObservation.class);
			});
	}

	@Test
	void observationCanBeTurnedOff() {
		this.runner.withUserConfiguration(ObservationConfiguration.class)
			.withPropertyValues("amb.observation.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(AmbObservation.class));
	}

	@Test
	void noMetersWithoutAMeterRegistry() {
		this.runner.run((context) -> assertThat(context).doesNotHaveBean(AmbMetrics.class)
			.doesNotHaveBean(AmbObservation.class)
			.hasSingleBean(AmbHealthIndicator.class));
	}

	@Test
	void healthContributorCanBeDisabled() {
		this.runner.withPropertyValues("management.health.amb.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(AmbHealthIndicator.class).hasSingleBean(AmbEndpoint.class));
	}

	@Test
	void endpointCanBeTurnedOff() {
		this.runner.withPropertyValues("management.endpoint.amb.access=NONE")
			.run((context) -> assertThat(context).doesNotHaveBean(AmbEndpoint.class).hasSingleBean(AmbHealthIndicator.class));
	}

	@Test
	void endpointIsAbsentWhenNotExposed() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class, AmbEndpointAutoConfiguration.class))
			.run((context) -> assertThat(context).doesNotHaveBean(AmbEndpoint.class));
	}

	@Test
	void nothingActuatorRelatedWithoutTheAutoConfiguredBus() {
		this.runner.withUserConfiguration(UserBusConfiguration.class)
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(AmbHealthIndicator.class)
				.doesNotHaveBean(AmbEndpoint.class));
	}

	@Test
	void healthIsUpWithSubscriptionDetails() {
		this.runner.withUserConfiguration(BlockingListener.class).run((context) -> {
			Health health = context.getBean(AmbHealthIndicator.class).health();
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("backend", "in-memory").containsKey("counters");
			@SuppressWarnings("unchecked")
			Map<String, Map<String, Object>> subscriptions = (Map<String, Map<String, Object>>) health.getDetails()
				.get("subscriptions");
			assertThat(subscriptions.get("blocking")).containsEntry("state", "ok").containsEntry("depth", 0L);
		});
	}

	@Test
	void healthIsDegradedWhenAStalledListenersQueueCrossesTheThreshold() {
		this.runner.withUserConfiguration(BlockingListener.class)
			.withPropertyValues("amb.backpressure.max-queue-size=10", "amb.backpressure.threshold=0.5",
					"amb.backpressure.policy=reject")
			.run((context) -> {
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				BlockingListener listener = context.getBean(BlockingListener.class);
				try {
					for (int i = 0; i < 7; i++) {
						bus.publish("work", "job-" + i).get(5, TimeUnit.SECONDS);
					}
					AmbHealthIndicator indicator = context.getBean(AmbHealthIndicator.class);
					await().atMost(Duration.ofSeconds(5))
						.untilAsserted(() -> assertThat(indicator.health().getStatus()).isEqualTo(AmbHealthIndicator.DEGRADED));
					@SuppressWarnings("unchecked")
					Map<String, Map<String, Object>> subscriptions = (Map<String, Map<String, Object>>) indicator.health()
						.getDetails()
						.get("subscriptions");
					assertThat(subscriptions.get("blocking")).containsEntry("state", "above-threshold")
						.containsEntry("capacity", 10L);
					listener.release.countDown();
					await().atMost(Duration.ofSeconds(5))
						.untilAsserted(() -> assertThat(indicator.health().getStatus()).isEqualTo(Status.UP));
				}
				finally {
					listener.release.countDown();
				}
			});
	}

	@Test
	void healthIsDegradedWhenAListenerStopsMovingBelowTheThreshold() {
		this.runner.withUserConfiguration(BlockingListener.class)
			.withPropertyValues("amb.health.stall-timeout=200ms")
			.run((context) -> {
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				BlockingListener listener = context.getBean(BlockingListener.class);
				try {
					bus.publish("work", "first").get(5, TimeUnit.SECONDS);
					bus.publish("work", "second").get(5, TimeUnit.SECONDS);
					AmbHealthIndicator indicator = context.getBean(AmbHealthIndicator.class);
					assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
					await().atMost(Duration.ofSeconds(5))
						.untilAsserted(() -> assertThat(indicator.health().getStatus()).isEqualTo(AmbHealthIndicator.DEGRADED));
				}
				finally {
					listener.release.countDown();
				}
			});
	}

	@Test
	void healthIsDegradedWhenAConsumerNeverTakesItsBacklog() {
		this.runner.withUserConfiguration(StuckConsumerAdapterConfiguration.class)
			.withPropertyValues("amb.health.stall-timeout=200ms")
			.run((context) -> {
				context.getBean(DefaultMessageBus.class).subscribe("stuck", String.class, (message) -> {
				}, dev.amb.core.SubscribeOptions.builder().name("stuck-sub").build());
				AmbHealthIndicator indicator = context.getBean(AmbHealthIndicator.class);
				assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
				await().atMost(Duration.ofSeconds(5))
					.untilAsserted(() -> assertThat(indicator.health().getStatus()).isEqualTo(AmbHealthIndicator.DEGRADED));
				@SuppressWarnings("unchecked")
				Map<String, Map<String, Object>> subscriptions = (Map<String, Map<String, Object>>) indicator.health()
					.getDetails()
					.get("subscriptions");
				assertThat(subscriptions.get("stuck-sub")).containsEntry("state", "stalled");
			});
	}

	@Test
	void healthIsDownWhenTheBackendIsUnreachable() {
		this.runner.withUserConfiguration(UnreachableAdapterConfiguration.class).run((context) -> {
			Health health = context.getBean(AmbHealthIndicator.class).health();
			assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			assertThat(health.getDetails()).containsKey("broker");
		});
	}

	@Test
	void endpointDescribesTheBusAndPausesListeners() {
		this.runner.withUserConfiguration(BlockingListener.class).run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			BlockingListener listener = context.getBean(BlockingListener.class);
			listener.release.countDown();
			bus.publish("work", "x").get(5, TimeUnit.SECONDS);
			AmbEndpoint endpoint = context.getBean(AmbEndpoint.class);
			AmbEndpoint.BusDescriptor descriptor = endpoint.bus();
			assertThat(descriptor.backend()).isEqualTo("in-memory");
			assertThat(descriptor.capabilities()).contains("PRIORITY", "WILDCARDS");
			assertThat(descriptor.published()).containsEntry("work", 1L);
			assertThat(descriptor.subscriptions()).singleElement().satisfies((subscription) -> {
				assertThat(subscription.id()).isEqualTo("blocking");
				assertThat(subscription.lanes()).containsOnlyKeys("high", "normal", "low");
			});
			assertThat(descriptor.listeners()).singleElement()
				.satisfies((view) -> assertThat(view.topics()).containsExactly("work"));

			endpoint.changeState("blocking", "pause");
			assertThat(context.getBean(AmbListenerEndpointRegistry.class).getListenerContainer("blocking").isPaused())
				.isTrue();
			assertThat(endpoint.listener("blocking").paused()).isTrue();
			endpoint.changeState("blocking", "resume");
			assertThat(endpoint.listener("blocking").paused()).isFalse();
			assertThat(endpoint.listener("nope")).isNull();
			assertThat(endpoint.changeState("nope", "pause")).isNull();
		});
	}

	@Test
	void endpointPausesSubscriptionsMadeInCode() {
		this.runner.run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			Subscription subscription = bus.subscribe("coded", String.class, (message) -> {
			}, dev.amb.core.SubscribeOptions.builder().name("coded-sub").build());
			context.getBean(AmbEndpoint.class).changeState("coded-sub", "pause");
			assertThat(subscription.isPaused()).isTrue();
		});
	}

	@Test
	void metersCountMessagesTimeThemAndGaugeQueues() {
		this.runner.withUserConfiguration(MeterRegistryConfiguration.class, BlockingListener.class).run((context) -> {
			context.getBean(BlockingListener.class).release.countDown();
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			for (int i = 0; i < 3; i++) {
				bus.publish("work", "job-" + i).get(5, TimeUnit.SECONDS);
			}
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			await().atMost(Duration.ofSeconds(5))
				.untilAsserted(() -> assertThat(registry.get("amb.messages.delivered").functionCounter().count())
					.isEqualTo(3.0));
			assertThat(registry.get("amb.messages.published").functionCounter().count()).isEqualTo(3.0);
			assertThat(registry.get("amb.messages.dead-lettered").functionCounter().count()).isZero();
			assertThat(registry.get("amb.publish.latency").tag("outcome", "success").timer().count()).isEqualTo(3);
			assertThat(registry.get("amb.delivery.latency").tags("subscription", "blocking", "outcome", "success")
				.timer()
				.count()).isEqualTo(3);
			assertThat(registry.get("amb.queue.depth").tags("subscription", "blocking", "lane", "normal").gauge().value())
				.isZero();
			assertThat(registry.get("amb.queue.fill").tag("subscription", "blocking").gauge().value()).isZero();
		});
	}

	@Test
	void observationsCarryTraceContextAcrossTheBus() {
		this.runner.withUserConfiguration(ObservationConfiguration.class, TracedListener.class).run((context) -> {
			context.getBean(DefaultMessageBus.class).publish("traced", "hello").get(5, TimeUnit.SECONDS);
			TracedListener listener = context.getBean(TracedListener.class);
			assertThat(listener.traceparents.poll(10, TimeUnit.SECONDS)).isEqualTo("00-trace-from-publisher-01");
			FakePropagation propagation = context.getBean(FakePropagation.class);
			await().atMost(Duration.ofSeconds(5)).until(() -> propagation.extracted.contains("00-trace-from-publisher-01"));
			assertThat(propagation.names).contains(AmbObservation.PUBLISH, AmbObservation.PROCESS);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class MeterRegistryConfiguration {

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

	/** Stands in for a tracer's propagating handlers: writes a trace header on send, reads it on receive. */
	static class FakePropagation implements ObservationHandler<Observation.Context> {

		final List<String> names = new CopyOnWriteArrayList<>();

		final List<String> extracted = new CopyOnWriteArrayList<>();

		@Override
		@SuppressWarnings("unchecked")
		public void onStart(Observation.Context context) {
			this.names.add(context.getName());
			if (context instanceof SenderContext<?> sender) {
				((SenderContext<Object>) sender).getSetter()
					.set(sender.getCarrier(), "traceparent", "00-trace-from-publisher-01");
				((SenderContext<Object>) sender).getSetter().set(sender.getCarrier(), "ambkey", "overwritten");
			}
			if (context instanceof ReceiverContext<?> receiver) {
				String value = ((ReceiverContext<Object>) receiver).getGetter().get(receiver.getCarrier(), "traceparent");
				if (value != null) {
					this.extracted.add(value);
				}
			}
		}

		@Override
		public boolean supportsContext(Observation.Context context) {
			return true;
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class ObservationConfiguration {

		@Bean
		FakePropagation fakePropagation() {
			return new FakePropagation();
		}

		@Bean
		ObservationRegistry observationRegistry(FakePropagation propagation) {
			ObservationRegistry registry = ObservationRegistry.create();
			registry.observationConfig().observationHandler(propagation);
			return registry;
		}

	}

	static class TracedListener {

		final BlockingQueue<String> traceparents = new LinkedBlockingQueue<>();

		@AmbListener(topics = "traced")
		void on(Message<String> message, @AmbHeader("traceparent") String traceparent) {
			assertThat(message.getKey()).isNull();
			this.traceparents.add(traceparent);
		}

	}

	static class BlockingListener {

		final CountDownLatch release = new CountDownLatch(1);

		@AmbListener(id = "blocking", topics = "work")
		void on(String job) throws InterruptedException {
			this.release.await(30, TimeUnit.SECONDS);
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserBusConfiguration {

		@Bean(destroyMethod = "close")
		dev.amb.core.MessageBus userBus() {
			return dev.amb.core.MessageBus.builder().adapter(new InMemoryBroker()).build();
		}

	}

	/** A backend whose consumers report a backlog they never take: a consumer thread that died. */
	@Configuration(proxyBeanMethods = false)
	static class StuckConsumerAdapterConfiguration {

		@Bean
		BrokerAdapter stuckAdapter() {
			InMemoryBroker delegate = new InMemoryBroker();
			return new BrokerAdapter() {

				@Override
				public String name() {
					return "stuck";
				}

				@Override
				public java.util.Set<dev.amb.core.spi.Capability> capabilities() {
					return delegate.capabilities();
				}

				@Override
				public void start(dev.amb.core.spi.AdapterContext adapterContext) {
					delegate.start(adapterContext);
				}

				@Override
				public java.util.concurrent.CompletableFuture<Void> send(dev.amb.core.spi.Envelope envelope) {
					return delegate.send(envelope);
				}

				@Override
				public dev.amb.core.spi.BrokerConsumer subscribe(dev.amb.core.spi.ConsumerSpec spec,
						dev.amb.core.spi.DeliveryHandler handler) {
					return new dev.amb.core.spi.BrokerConsumer() {

						@Override
						public void pause() {
						}

						@Override
						public void resume() {
						}

						@Override
						public dev.amb.core.spi.ConsumerState state() {
							return new dev.amb.core.spi.ConsumerState(new long[] { 0, 3, 0 }, 100, 80, 0, false, 0);
						}

						@Override
						public void close(Duration drainTimeout) {
						}

					};
				}

				@Override
				public BrokerHealth health() {
					return delegate.health();
				}

				@Override
				public void close(Duration timeout) {
					delegate.close(timeout);
				}

			};
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UnreachableAdapterConfiguration {

		@Bean
		BrokerAdapter unreachableAdapter() {
			InMemoryBroker delegate = new InMemoryBroker();
			return new BrokerAdapter() {

				@Override
				public String name() {
					return "unreachable";
				}

				@Override
				public java.util.Set<dev.amb.core.spi.Capability> capabilities() {
					return delegate.capabilities();
				}

				@Override
				public void start(dev.amb.core.spi.AdapterContext adapterContext) {
					delegate.start(adapterContext);
				}

				@Override
				public java.util.concurrent.CompletableFuture<Void> send(dev.amb.core.spi.Envelope envelope) {
					return delegate.send(envelope);
				}

				@Override
				public dev.amb.core.spi.BrokerConsumer subscribe(dev.amb.core.spi.ConsumerSpec spec,
						dev.amb.core.spi.DeliveryHandler handler) {
					return delegate.subscribe(spec, handler);
				}

				@Override
				public BrokerHealth health() {
					return BrokerHealth.down("connection refused");
				}

				@Override
				public void close(Duration timeout) {
					delegate.close(timeout);
				}

			};
		}

	}

}
