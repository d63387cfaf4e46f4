package dev.amb.spring.boot.listener;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.codec.WireHeaders;
import dev.amb.spring.boot.autoconfigure.AmbAutoConfiguration;
import dev.amb.spring.boot.diagnostics.AmbFailureAnalyzer;
import dev.amb.spring.boot.diagnostics.AmbListenerConfigurationException;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class AmbListenerTests {

	private static final Duration WAIT = Duration.ofSeconds(10);

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(AmbAutoConfiguration.class))
		.withPropertyValues("amb.retry.backoff.initial=0ms", "amb.retry.backoff.max=0ms");

	@Test
	void payloadIsReadIntoTheDeclaredType() {
		this.runner.withUserConfiguration(PayloadListener.class).run((context) -> {
			bus(context).publish("tasks.new", new Task("plan", 3)).get(5, TimeUnit.SECONDS);
			assertThat(context.getBean(PayloadListener.class).received.poll(10, TimeUnit.SECONDS))
				.isEqualTo(new Task("plan", 3));
		});
	}

	@Test
	void genericPayloadsKeepTheirElementType() {
		this.runner.withUserConfiguration(GenericListener.class).run((context) -> {
			bus(context).publish("tasks.batch", List.of(new Task("a", 1), new Task("b", 2))).get(5, TimeUnit.SECONDS);
			List<Task> batch = context.getBean(GenericListener.class).received.poll(10, TimeUnit.SECONDS);
			assertThat(batch).containsExactly(new Task("a", 1), new Task("b", 2));
		});
	}

	@Test
	void messageAndHeadersAreResolved() {
		this.runner.withUserConfiguration(MessageListener.class).run((context) -> {
			bus(context)
				.publish("tasks.meta", new Task("m", 1),
						PublishOptions.builder()
							.key("k-1")
							.priority(Priority.HIGH)
							.header("tenant", "acme")
							.header("retries", "4")
							.build())
				.get(5, TimeUnit.SECONDS);
			Object[] call = context.getBean(MessageListener.class).received.poll(10, TimeUnit.SECONDS);
			assertThat(call).isNotNull();
			Message<?> message = (Message<?>) call[0];
			assertThat(message.getPayload()).isEqualTo(new Task("m", 1));
			assertThat(message.getKey()).isEqualTo("k-1");
			assertThat(message.getPriority()).isEqualTo(Priority.HIGH);
			assertThat(call[1]).isEqualTo("acme");
			assertThat(call[2]).isEqualTo(4);
			assertThat(call[3]).isNull();
		});
	}

	@Test
	void returnValueAnswersARequest() {
		this.runner.withUserConfiguration(ReplyingListener.class).run((context) -> {
			Integer sum = bus(context).request("math.sum", new Sum(2, 40), Integer.class, Duration.ofSeconds(5))
				.get(10, TimeUnit.SECONDS);
			assertThat(sum).isEqualTo(42);
		});
	}

	@Test
	void placeholdersAreResolved() {
		this.runner.withUserConfiguration(PlaceholderListener.class)
			.withPropertyValues("app.topic=orders.created", "app.group=billing", "app.attempts=2")
			.run((context) -> {
				AmbListenerContainer container = context.getBean(AmbListenerEndpointRegistry.class)
					.getListenerContainer("orders");
				assertThat(container.getEndpoint().getTopics()).containsExactly("orders.created");
				assertThat(container.getEndpoint().getGroup()).isEqualTo("billing");
				assertThat(container.getEndpoint().getMaxAttempts()).isEqualTo(2);
				assertThat(container.isRunning()).isTrue();
				bus(context).publish("orders.created", "o-1").get(5, TimeUnit.SECONDS);
				assertThat(context.getBean(PlaceholderListener.class).received.poll(10, TimeUnit.SECONDS))
					.isEqualTo("o-1");
			});
	}

	@Test
	void failingListenerIsRetriedThenDeadLettered() {
		this.runner.withUserConfiguration(FailingListener.class, DeadLetterListener.class).run((context) -> {
			bus(context).publish("jobs.run", "poison").get(5, TimeUnit.SECONDS);
			Message<String> deadLetter = context.getBean(DeadLetterListener.class).received.poll(10, TimeUnit.SECONDS);
			assertThat(deadLetter).isNotNull();
			assertThat(deadLetter.getPayload()).isEqualTo("poison");
			assertThat(deadLetter.getHeader(WireHeaders.DLQ_ATTEMPTS)).isEqualTo("3");
			assertThat(deadLetter.getHeader(WireHeaders.DLQ_EXCEPTION)).isEqualTo(IllegalStateException.class.getName());
			assertThat(deadLetter.getHeader(WireHeaders.DLQ_ORIGINAL_TOPIC)).isEqualTo("jobs.run");
			assertThat(context.getBean(FailingListener.class).attempts).hasValue(3);
		});
	}

	@Test
	void unreadablePayloadGoesToTheDeadLetterTopic() {
		this.runner.withUserConfiguration(PayloadListener.class, DeadLetterListener.class).run((context) -> {
			bus(context).publish("tasks.new", Map.of("name", List.of("not", "a", "string"), "steps", "many"))
				.get(5, TimeUnit.SECONDS);
			Message<String> deadLetter = context.getBean(DeadLetterListener.class).received.poll(10, TimeUnit.SECONDS);
			assertThat(deadLetter).isNotNull();
			assertThat(deadLetter.getTopic()).isEqualTo("tasks.new.dlq");
			assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).startsWith("undecodable payload");
			assertThat(context.getBean(PayloadListener.class).received).isEmpty();
			assertThat(bus(context).counters().undecodable()).isEqualTo(1);
		});
	}

	@Test
	void missingRequiredHeaderIsAFailureNotANullArgument() {
		this.runner.withUserConfiguration(MessageListener.class, DeadLetterListener.class).run((context) -> {
			bus(context).publish("tasks.meta", new Task("m", 1)).get(5, TimeUnit.SECONDS);
			Message<String> deadLetter = context.getBean(DeadLetterListener.class).received.poll(10, TimeUnit.SECONDS);
			assertThat(deadLetter).isNotNull();
			assertThat(deadLetter.getHeader(WireHeaders.DLQ_REASON)).contains("has no header 'tenant'");
		});
	}

	@Test
	void registryPausesResumesAndStartsListenersById() {
		this.runner.withUserConfiguration(PayloadListener.class, LazyListener.class).run((context) -> {
			AmbListenerEndpointRegistry registry = context.getBean(AmbListenerEndpointRegistry.class);
			assertThat(registry.isRunning()).isTrue();
			assertThat(registry.getListenerContainer("lazy").isRunning()).isFalse();
			registry.start("lazy");
			assertThat(registry.getListenerContainer("lazy").isRunning()).isTrue();

			registry.pause("payload");
			bus(context).publish("tasks.new", new Task("held", 1)).get(5, TimeUnit.SECONDS);
			PayloadListener listener = context.getBean(PayloadListener.class);
			assertThat(listener.received.poll(300, TimeUnit.MILLISECONDS)).isNull();
			registry.resume("payload");
			assertThat(listener.received.poll(10, TimeUnit.SECONDS)).isEqualTo(new Task("held", 1));

			registry.stop();
			assertThat(registry.getListenerContainer("payload").isRunning()).isFalse();
			assertThat(bus(context).subscriptions()).isEmpty();
		});
	}

	@Test
	void oneListenerMaySubscribeToSeveralTopicsAndPatterns() {
		this.runner.withUserConfiguration(MultiTopicListener.class).run((context) -> {
			AmbListenerContainer container = context.getBean(AmbListenerEndpointRegistry.class)
				.getListenerContainer("multi");
			assertThat(container.getSubscriptionIds()).containsExactly("multi-0", "multi-1");
			bus(context).publish("alpha", "a").get(5, TimeUnit.SECONDS);
			bus(context).publish("beta.x.y", "b").get(5, TimeUnit.SECONDS);
			MultiTopicListener listener = context.getBean(MultiTopicListener.class);
			assertThat(List.of(listener.received.poll(10, TimeUnit.SECONDS), listener.received.poll(10, TimeUnit.SECONDS)))
				.containsExactlyInAnyOrder("a", "b");
		});
	}

	@Test
	void twoPayloadParametersFailTheStartUp() {
		assertListenerFailure(TwoPayloads.class, "two parameters that both take the payload", "@AmbHeader");
	}

	@Test
	void springMessagingMessageIsRefusedWithTheFix() {
		assertListenerFailure(SpringMessageParameter.class, "org.springframework.messaging.Message",
				"dev.amb.core.Message<T>");
	}

	@Test
	void headerOfAnUnconvertibleTypeIsRefused() {
		assertListenerFailure(UnconvertibleHeader.class, "cannot be converted", "Declare the parameter as String");
	}

	@Test
	void asynchronousReturnTypesAreRefused() {
		assertListenerFailure(AsyncReply.class, "asynchronous replies are not supported", "Return the reply value");
	}

	@Test
	void duplicateIdsFailTheStartUp() {
		assertListenerFailure(DuplicateIds.class, "Two @AmbListener methods have the id 'same'", "unique id");
	}

	@Test
	void groupMembersThatDisagreeFailTheStartUp() {
		assertListenerFailure(ConflictingGroup.class, "both join group 'workers' on 'jobs' but disagree", "same settings");
	}

	@Test
	void groupMembersThatAgreeShareTheStream() {
		this.runner.withUserConfiguration(AgreeingGroup.class).run((context) -> {
			assertThat(context).hasNotFailed();
			for (int i = 0; i < 20; i++) {
				bus(context).publish("jobs", "job-" + i).get(5, TimeUnit.SECONDS);
			}
			AgreeingGroup group = context.getBean(AgreeingGroup.class);
			await().atMost(WAIT).until(() -> group.handled.get() == 20);
		});
	}

	@Test
	void invalidTopicFailsTheStartUp() {
		assertListenerFailure(InvalidTopic.class, "not a valid topic or pattern", "Fix the topic name");
	}

	@Test
	void missingTopicFailsTheStartUp() {
		assertListenerFailure(NoTopic.class, "names no topic", "topics =");
	}

	@Test
	void invalidConcurrencyFailsTheStartUp() {
		assertListenerFailure(BadConcurrency.class, "concurrency = 'zero'", "whole number");
	}

	@Test
	void aDurableNameOnAGroupListenerFailsTheStartUp() {
		assertListenerFailure(GroupWithDurableName.class, "has both group 'workers' and durableName 'audit'",
				"Remove durableName");
	}

	@Test
	void aBroadcastListenersDurableNameReachesItsSubscription() {
		this.runner.withUserConfiguration(DurablyNamed.class).run((context) -> {
			assertThat(bus(context).subscription("audited").durableName()).isEqualTo("name:audit-trail");
		});
	}

	private void assertListenerFailure(Class<?> configuration, String description, String action) {
		this.runner.withUserConfiguration(configuration).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().isInstanceOf(AmbListenerConfigurationException.class);
			FailureAnalysis analysis = analyze(context);
			assertThat(analysis.getDescription()).contains(description);
			assertThat(analysis.getAction()).contains(action);
		});
	}

	private static FailureAnalysis analyze(AssertableApplicationContext context) {
		FailureAnalysis analysis = new AmbFailureAnalyzer().analyze(context.getStartupFailure());
		assertThat(analysis).isNotNull();
		return analysis;
	}

	private static DefaultMessageBus bus(AssertableApplicationContext context) {
		return context.getBean(DefaultMessageBus.class);
	}

	record Task(String name, int steps) {
	}

	record Sum(int a, int b) {
	}

	static class PayloadListener {

		final BlockingQueue<Task> received = new LinkedBlockingQueue<>();

		@AmbListener(id = "payload", topics = "tasks.new", maxAttempts = "1")
		void onTask(Task task) {
			this.received.add(task);
		}

	}

	static class GenericListener {

		final BlockingQueue<List<Task>> received = new LinkedBlockingQueue<>();

		@AmbListener(topics = "tasks.batch")
		void onBatch(List<Task> tasks) {
			tasks.forEach((task) -> assertThat(task).isInstanceOf(Task.class));
			this.received.add(tasks);
		}

	}

	static class MessageListener {

		final BlockingQueue<Object[]> received = new LinkedBlockingQueue<>();

		@AmbListener(topics = "tasks.meta", maxAttempts = "1")
		void onMessage(Message<Task> message, @AmbHeader("tenant") String tenant,
				@AmbHeader("retries") int retries, @AmbHeader(value = "trace", required = false) String trace,
				@AmbHeader("region") java.util.Optional<String> region) {
			assertThat(region).isEmpty();
			this.received.add(new Object[] { message, tenant, retries, trace });
		}

	}

	static class ReplyingListener {

		@AmbListener(topics = "math.sum")
		int sum(Sum sum) {
			return sum.a() + sum.b();
		}

	}

	static class PlaceholderListener {

		final BlockingQueue<String> received = new LinkedBlockingQueue<>();

		@AmbListener(id = "orders", topics = "${app.topic}", group = "${app.group}", maxAttempts = "${app.attempts}")
		void on(String order) {
			this.received.add(order);
		}

	}

	static class FailingListener {

		final AtomicInteger attempts = new AtomicInteger();

		@AmbListener(topics = "jobs.run")
		void run(String job) {
			this.attempts.incrementAndGet();
			throw new IllegalStateException("cannot run " + job);
		}

	}

	static class DeadLetterListener {

		final BlockingQueue<Message<String>> received = new LinkedBlockingQueue<>();

		@AmbListener(pattern = "#.dlq")
		void onDeadLetter(Message<String> message) {
			this.received.add(message);
		}

	}

	static class LazyListener {

		@AmbListener(id = "lazy", topics = "lazy.topic", autoStartup = "false")
		void on(String value) {
		}

	}

	static class MultiTopicListener {

		final BlockingQueue<String> received = new LinkedBlockingQueue<>();

		@AmbListener(id = "multi", topics = { "alpha", "beta.#" })
		void on(String value) {
			this.received.add(value);
		}

	}

	static class TwoPayloads {

		@AmbListener(topics = "t")
		void on(String first, String second) {
		}

	}

	static class SpringMessageParameter {

		@AmbListener(topics = "t")
		void on(org.springframework.messaging.Message<String> message) {
		}

	}

	static class UnconvertibleHeader {

		@AmbListener(topics = "t")
		void on(String payload, @AmbHeader("h") Task task) {
		}

	}

	static class AsyncReply {

		@AmbListener(topics = "t")
		java.util.concurrent.CompletableFuture<String> on(String payload) {
			return null;
		}

	}

	static class DuplicateIds {

		@AmbListener(id = "same", topics = "a")
		void first(String payload) {
		}

		@AmbListener(id = "same", topics = "b")
		void second(String payload) {
		}

	}

	static class ConflictingGroup {

		@AmbListener(topics = "jobs", group = "workers", maxAttempts = "3")
		void first(String payload) {
		}

		@AmbListener(topics = "jobs", group = "workers", maxAttempts = "5", lanes = Priority.HIGH)
		void second(String payload) {
		}

	}

	static class AgreeingGroup {

		final AtomicInteger handled = new AtomicInteger();

		@AmbListener(topics = "jobs", group = "workers", concurrency = "2")
		void first(String payload) {
			this.handled.incrementAndGet();
		}

		@AmbListener(topics = "jobs", group = "workers")
		void second(String payload) {
			this.handled.incrementAndGet();
		}

	}

	static class InvalidTopic {

		@AmbListener(topics = "bad topic!")
		void on(String payload) {
		}

	}

	static class NoTopic {

		@AmbListener
		void on(String payload) {
		}

	}

	static class GroupWithDurableName {

		@AmbListener(topics = "jobs", group = "workers", durableName = "audit")
		void on(String job) {
		}

	}

	static class DurablyNamed {

		@AmbListener(id = "audited", topics = "audited.events", durableName = "${app.durable:audit-trail}")
		void on(String event) {
		}

	}

	static class BadConcurrency {

		@AmbListener(topics = "t", concurrency = "zero")
		void on(String payload) {
		}

	}

}
