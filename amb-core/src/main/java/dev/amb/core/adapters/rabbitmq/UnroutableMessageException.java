package dev.amb.core.adapters.rabbitmq;

import dev.amb.core.AmbException;

/**
 * A mandatory publish that reached no queue: a reply whose requester is gone, or any publish
 * when {@link RabbitBrokerSettings#mandatory()} is on. RabbitMQ returned it instead of storing it.
 */
public class UnroutableMessageException extends AmbException {

	private static final long serialVersionUID = 1L;

	public UnroutableMessageException(String message) {
		super(message);
	}

}
