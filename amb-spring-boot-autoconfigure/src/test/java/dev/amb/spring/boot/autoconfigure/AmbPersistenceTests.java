package dev.amb.spring.boot.autoconfigure;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.FsyncPolicy;
import dev.amb.spring.boot.actuate.AmbEndpoint;
import dev.amb.spring.boot.actuate.AmbHealthIndicator;
import dev.amb.spring.boot.listener.AmbListener;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The write-ahead log from {@code amb.persistence.*}: wired into the bus, shown by health, the
 * endpoint and the meters, and replayed to the listeners of the next run.
 */
class AmbPersistenceTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class,
				AmbHealthContributorAutoConfiguration.class, AmbEndpointAutoConfiguration.class,
				AmbMetricsAutoConfiguration.class))
		.withPropertyValues("management.endpoints.web.exposure.include=amb");

	@Test
	void noLogUnlessEnabled() {
		this.runner.run((context) -> {
			assertThat(context).doesNotHaveBean(FileMessageStore.class);
			assertThat(context.getBean(DefaultMessageBus.class).store()).isNull();
			assertThat(context.getBean(AmbHealthIndicator.class).health().getDetails()).doesNotContainKey("wal");
		});
	}

	@Test
	@SuppressWarnings("unchecked")
	void logIsBuiltFromThePropertiesAndShown(@TempDir Path dir) {
		this.runner.withUserConfiguration(MeterRegistryConfiguration.class)
			.withPropertyValues("amb.persistence.enabled=true", "amb.persistence.dir=" + dir,
					"amb.persistence.fsync=always", "amb.persistence.max-disk-size=64MB",
					"amb.persistence.segment-size=1MB")
			.run((context) -> {
				FileMessageStore store = context.getBean(FileMessageStore.class);
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				assertThat(bus.store()).isSameAs(store);
				assertThat(store.directory()).isEqualTo(dir);
				assertThat(store.policy()).isEqualTo(FsyncPolicy.ALWAYS);
				bus.publish("logged", "x").get(5, TimeUnit.SECONDS);

				Health health = context.getBean(AmbHealthIndicator.class).health();
				assertThat(health.getStatus()).isEqualTo(Status.UP);
				Map<String, Object> wal = (Map<String, Object>) health.getDetails().get("wal");
				assertThat(wal).containsEntry("writable", true)
					.containsEntry("fsync", "always")
					.containsEntry("maxDiskBytes", 64L * 1024 * 1024)
					.containsEntry("corruptRecords", 0L);
				assertThat(context.getBean(AmbEndpoint.class).bus().wal()).containsEntry("writable", true);

				MeterRegistry registry = context.getBean(MeterRegistry.class);
				assertThat(registry.get("amb.wal.fsync").timer().count()).isPositive();
				assertThat(registry.get("amb.wal.pending").gauge().value()).isGreaterThanOrEqualTo(0);
			});
	}

	@Test
	void intervalPolicyIsPassedOn(@TempDir Path dir) {
		this.runner
			.withPropertyValues("amb.persistence.enabled=true", "amb.persistence.dir=" + dir,
					"amb.persistence.fsync=interval", "amb.persistence.fsync-interval=50ms")
			.run((context) -> assertThat(context.getBean(FileMessageStore.class).policy())
				.isEqualTo(FsyncPolicy.INTERVAL));
	}

	@Test
	void logIsDownWhenItCannotBeWritten(@TempDir Path dir) {
		this.runner.withPropertyValues("amb.persistence.enabled=true", "amb.persistence.dir=" + dir)
			.run((context) -> {
				context.getBean(FileMessageStore.class).close();
				Health health = context.getBean(AmbHealthIndicator.class).health();
				assertThat(health.getStatus()).isEqualTo(Status.DOWN);
			});
	}

	@Test
	void messagesLeftUnfinishedAreReplayedToTheNextRunsListeners(@TempDir Path dir) {
		String[] persistence = { "amb.persistence.enabled=true", "amb.persistence.dir=" + dir,
				"amb.drain-timeout=200ms" };
		this.runner.withUserConfiguration(StuckListener.class).withPropertyValues(persistence).run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			for (int i = 0; i < 3; i++) {
				bus.publish("orders", "order-" + i).get(5, TimeUnit.SECONDS);
			}
			assertThat(context.getBean(StuckListener.class).started.await(10, TimeUnit.SECONDS)).isTrue();
			assertThat(bus.store().health().pending()).isEqualTo(3);
		});
		this.runner.withUserConfiguration(CollectingListener.class).withPropertyValues(persistence).run((context) -> {
			CollectingListener listener = context.getBean(CollectingListener.class);
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(listener.received).containsExactlyInAnyOrder("order-0", "order-1",
						"order-2"));
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(context.getBean(DefaultMessageBus.class).store().health().pending())
					.isZero());
		});
	}

	@Test
	@SuppressWarnings("unchecked")
	void healthAndTheEndpointShowRecoveredMessagesWaitingForTheirListener(@TempDir Path dir) {
		String[] persistence = { "amb.persistence.enabled=true", "amb.persistence.dir=" + dir,
				"amb.drain-timeout=200ms" };
		this.runner.withUserConfiguration(StuckListener.class).withPropertyValues(persistence).run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			for (int i = 0; i < 2; i++) {
				bus.publish("orders", "order-" + i).get(5, TimeUnit.SECONDS);
			}
			assertThat(context.getBean(StuckListener.class).started.await(10, TimeUnit.SECONDS)).isTrue();
		});
		// The next run has no listener on "orders": the messages wait for it, visibly.
		this.runner.withPropertyValues(persistence).run((context) -> {
			Map<String, Object> wal = (Map<String, Object>) context.getBean(AmbHealthIndicator.class)
				.health()
				.getDetails()
				.get("wal");
			assertThat(wal).containsEntry("waitingReplays", Map.of("pattern:orders", 2)).containsEntry("pending", 2L);
			assertThat(context.getBean(AmbEndpoint.class).bus().wal()).containsEntry("waitingReplays",
					Map.of("pattern:orders", 2));
		});
	}

	@Test
	void aRestartReplaysOnlyToTheListenersThatHadNotHandledAMessage(@TempDir Path dir) {
		String[] persistence = { "amb.persistence.enabled=true", "amb.persistence.dir=" + dir,
				"amb.drain-timeout=200ms" };
		this.runner.withUserConfiguration(AuditDoneBillingStuck.class).withPropertyValues(persistence).run((context) -> {
			DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
			for (int i = 0; i < 3; i++) {
				bus.publish("orders", "order-" + i).get(5, TimeUnit.SECONDS);
			}
			AuditDoneBillingStuck listeners = context.getBean(AuditDoneBillingStuck.class);
			await().atMost(Duration.ofSeconds(10)).until(() -> listeners.audited.size() == 3);
			assertThat(listeners.started.await(10, TimeUnit.SECONDS)).isTrue();
			assertThat(bus.store().health().pending()).isEqualTo(3);
		});
		this.runner.withUserConfiguration(AuditAndBilling.class).withPropertyValues(persistence).run((context) -> {
			AuditAndBilling listeners = context.getBean(AuditAndBilling.class);
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(listeners.billed).containsExactlyInAnyOrder("order-0", "order-1",
						"order-2"));
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(context.getBean(DefaultMessageBus.class).store().health().pending())
					.isZero());
			assertThat(listeners.audited).as("the audit listener had handled them before the restart").isEmpty();
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class MeterRegistryConfiguration {

		@Bean
		SimpleMeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

	}

	static class StuckListener {

		final CountDownLatch started = new CountDownLatch(1);

		@AmbListener(topics = "orders")
		void on(String order) throws InterruptedException {
			this.started.countDown();
			new CountDownLatch(1).await(30, TimeUnit.SECONDS);
		}

	}

	static class AuditDoneBillingStuck {

		final List<String> audited = new CopyOnWriteArrayList<>();

		final CountDownLatch started = new CountDownLatch(1);

		@AmbListener(topics = "orders", durableName = "audit")
		void audit(String order) {
			this.audited.add(order);
		}

		@AmbListener(topics = "orders", durableName = "billing")
		void bill(String order) throws InterruptedException {
			this.started.countDown();
			new CountDownLatch(1).await(30, TimeUnit.SECONDS);
		}

	}

	/** Another class in the next run: the durable names, not the listener ids, carry over. */
	static class AuditAndBilling {

		final List<String> audited = new CopyOnWriteArrayList<>();

		final List<String> billed = new CopyOnWriteArrayList<>();

		@AmbListener(topics = "orders", durableName = "audit")
		void audit(String order) {
			this.audited.add(order);
		}

		@AmbListener(topics = "orders", durableName = "billing")
		void bill(String order) {
			this.billed.add(order);
		}

	}

	static class CollectingListener {

		final List<String> received = new CopyOnWriteArrayList<>();

		@AmbListener(topics = "orders")
		void on(String order) {
			this.received.add(order);
		}

	}

}
