package dev.amb.sample.agents;

import java.util.concurrent.atomic.AtomicLong;

import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.sample.agents.Messages.Result;
import dev.amb.spring.boot.listener.AmbListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * The reviewer takes urgent results only (the high lane); the archivist files the others; the
 * watcher reports every dead letter with the reason the bus recorded.
 */
@Component
class ReviewAgents {

	private static final Logger logger = LoggerFactory.getLogger(ReviewAgents.class);

	private final AtomicLong reviewed = new AtomicLong();

	private final AtomicLong archived = new AtomicLong();

	private final AtomicLong deadLetters = new AtomicLong();

	@AmbListener(id = "reviewer", topics = Messages.RESULTS, lanes = Priority.HIGH)
	void review(Result result) {
		this.reviewed.incrementAndGet();
		logger.info("reviewer  <- {} by {}: approved", result.taskId(), result.worker());
	}

	@AmbListener(id = "archivist", topics = Messages.RESULTS, lanes = { Priority.NORMAL, Priority.LOW })
	void archive(Result result) {
		this.archived.incrementAndGet();
		logger.info("archivist <- {} by {}", result.taskId(), result.worker());
	}

	@AmbListener(id = "dead-letter-watcher", pattern = "agents.#.dlq")
	void deadLetter(Message<Object> message) {
		this.deadLetters.incrementAndGet();
		logger.warn("watcher   <- dead letter {} from '{}' after {} attempt(s): {}", message.getId(),
				message.getHeader("ambdlqtopic"), message.getHeader("ambdlqattempts"), message.getHeader("ambdlqreason"));
	}

	long reviewed() {
		return this.reviewed.get();
	}

	long archived() {
		return this.archived.get();
	}

	long deadLetters() {
		return this.deadLetters.get();
	}

}
