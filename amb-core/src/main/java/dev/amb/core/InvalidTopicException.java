package dev.amb.core;

/**
 * A topic name or subscription pattern that AMB does not accept; the message names the rule it breaks.
 */
public class InvalidTopicException extends AmbException {

	private static final long serialVersionUID = 1L;

	public InvalidTopicException(String message) {
		super(message);
	}

	public InvalidTopicException(String message, Throwable cause) {
		super(message, cause);
	}

}
