package dev.amb.sample.agents;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import dev.amb.core.MessageBus;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.sample.agents.Messages.Estimate;
import dev.amb.sample.agents.Messages.EstimateRequest;
import dev.amb.sample.agents.Messages.Task;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Plans work on a schedule: asks the estimator for an estimate (request/reply), then publishes the
 * task; every fourth task is urgent and goes on the high lane, keyed by its id.
 */
@Component
@ConditionalOnBooleanProperty(name = "agents.planner.enabled", matchIfMissing = true)
class PlannerAgent {

	private static final Logger logger = LoggerFactory.getLogger(PlannerAgent.class);

	private static final String[] WORK = { "summarise the meeting notes", "draft the release email",
			"triage new issues", "translate the FAQ", "check the build logs" };

	private final MessageBus bus;

	private final AtomicInteger sequence = new AtomicInteger();

	PlannerAgent(MessageBus bus) {
		this.bus = bus;
	}

	@Scheduled(initialDelayString = "${agents.planner.initial-delay:1s}", fixedRateString = "${agents.planner.period:2s}")
	void plan() {
		int number = this.sequence.incrementAndGet();
		// Every tenth task fails on purpose, to show retries and the dead-letter topic.
		String description = (number % 10 == 7) ? "poison pill" : WORK[number % WORK.length];
		boolean urgent = number % 4 == 0;
		this.bus.request(Messages.ESTIMATES, new EstimateRequest(description), Estimate.class, Duration.ofSeconds(2))
			.thenCompose((estimate) -> {
				Task task = new Task("task-" + number, description, urgent, estimate.minutes());
				logger.info("planner   -> {} '{}' ({} min by {}){}", task.id(), description, estimate.minutes(),
						estimate.estimator(), urgent ? " URGENT" : "");
				return this.bus.publish(Messages.TASKS, task, PublishOptions.builder()
					.key(task.id())
					.priority(urgent ? Priority.HIGH : Priority.NORMAL)
					.header("planner", "planner-1")
					.build());
			})
			.whenComplete((id, failure) -> {
				if (failure != null) {
					logger.warn("planner   could not plan task-{}: {}", number, failure.toString());
				}
			});
	}

}
