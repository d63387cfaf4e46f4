package dev.amb.core.adapters.rabbitmq;

import dev.amb.core.AmbException;

/**
 * A publish RabbitMQ did not confirm: it refused it (a negative acknowledgement), the channel or
 * connection closed before the confirm arrived, or the confirm timeout passed. The message may or
 * may not have been stored; publishing it again is safe for handlers that tolerate duplicates.
 */
public class PublishNotConfirmedException extends AmbException {

	private static final long serialVersionUID = 1L;

	public PublishNotConfirmedException(String message) {
		super(message);
	}

	public PublishNotConfirmedException(String message, Throwable cause) {
		super(message, cause);
	}

}
