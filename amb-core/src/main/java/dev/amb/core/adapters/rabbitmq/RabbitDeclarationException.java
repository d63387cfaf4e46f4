package dev.amb.core.adapters.rabbitmq;

import dev.amb.core.AmbException;

/**
 * RabbitMQ refused to declare, bind or inspect an exchange or queue: for example a group queue
 * that exists with other arguments, or a broker that cannot be reached.
 */
public class RabbitDeclarationException extends AmbException {

	private static final long serialVersionUID = 1L;

	public RabbitDeclarationException(String message, Throwable cause) {
		super(message, cause);
	}

}
