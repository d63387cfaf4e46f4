package dev.amb.sample.agents;

import dev.amb.core.Message;
import dev.amb.core.MessageBus;
import dev.amb.core.PublishOptions;
import dev.amb.sample.agents.Messages.Result;
import dev.amb.sample.agents.Messages.Task;
import dev.amb.spring.boot.listener.AmbHeader;
import dev.amb.spring.boot.listener.AmbListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Two workers in the group {@value Messages#WORKERS}: each task goes to one of them. A task that
 * says "poison" fails every attempt and ends on {@code agents.tasks.dlq}.
 */
@Component
class WorkerAgents {

	private static final Logger logger = LoggerFactory.getLogger(WorkerAgents.class);

	private final MessageBus bus;

	WorkerAgents(MessageBus bus) {
		this.bus = bus;
	}

	@AmbListener(id = "worker-a", topics = Messages.TASKS, group = Messages.WORKERS,
			concurrency = "${agents.workers.concurrency:2}")
	void workerA(Message<Task> message, @AmbHeader(value = "planner", required = false) String planner) {
		work("worker-a", message);
	}

	@AmbListener(id = "worker-b", topics = Messages.TASKS, group = Messages.WORKERS,
			concurrency = "${agents.workers.concurrency:2}")
	void workerB(Message<Task> message) {
		work("worker-b", message);
	}

	private void work(String worker, Message<Task> message) {
		Task task = message.getPayload();
		if (task.description().contains("poison")) {
			throw new IllegalStateException(worker + " cannot work on " + task.id());
		}
		logger.info("{}  <- {} (attempt {}, lane {})", worker, task.id(), message.getDeliveryAttempt(),
				message.getPriority().wireName());
		Result result = new Result(task.id(), worker, "done: " + task.description());
		this.bus.publish(Messages.RESULTS, result, PublishOptions.builder()
			.key(task.id())
			.priority(message.getPriority())
			.build());
	}

}
