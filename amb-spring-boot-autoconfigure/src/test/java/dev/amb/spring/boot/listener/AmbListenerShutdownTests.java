package dev.amb.spring.boot.listener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.amb.core.DefaultMessageBus;
import dev.amb.spring.boot.autoconfigure.AmbAutoConfiguration;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Closing the application drains: a listener in the middle of a message finishes it before the
 * bus closes.
 */
class AmbListenerShutdownTests {

	@Test
	void closingTheContextLetsTheListenerFinishTheMessageInHand() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class))
			.withUserConfiguration(SlowListener.class)
			.run((context) -> {
				SlowListener listener = context.getBean(SlowListener.class);
				AmbListenerEndpointRegistry registry = context.getBean(AmbListenerEndpointRegistry.class);
				context.getBean(DefaultMessageBus.class).publish("slow.work", "job").get(5, TimeUnit.SECONDS);
				assertThat(listener.started.await(10, TimeUnit.SECONDS)).isTrue();
				context.close();
				assertThat(listener.finished).containsExactly("job");
				assertThat(registry.isRunning()).isFalse();
			});
	}

	@Test
	void closingTheContextDrainsWhatIsQueuedForTheListener() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class))
			.withUserConfiguration(SlowListener.class)
			.run((context) -> {
				SlowListener listener = context.getBean(SlowListener.class);
				DefaultMessageBus bus = context.getBean(DefaultMessageBus.class);
				for (int i = 0; i < 4; i++) {
					bus.publish("slow.work", "job-" + i).get(5, TimeUnit.SECONDS);
				}
				assertThat(listener.started.await(10, TimeUnit.SECONDS)).isTrue();
				context.close();
				assertThat(listener.finished).containsExactly("job-0", "job-1", "job-2", "job-3");
			});
	}

	static class SlowListener {

		final CountDownLatch started = new CountDownLatch(1);

		final List<String> finished = new CopyOnWriteArrayList<>();

		@AmbListener(topics = "slow.work")
		void on(String job) throws InterruptedException {
			this.started.countDown();
			Thread.sleep(300);
			this.finished.add(job);
		}

	}

}
