package dev.amb.core;

/**
 * A message that cannot be published as it is: a null payload, a header that is not allowed, a bad option.
 */
public class InvalidMessageException extends AmbException {

	private static final long serialVersionUID = 1L;

	public InvalidMessageException(String message) {
		super(message);
	}

	public InvalidMessageException(String message, Throwable cause) {
		super(message, cause);
	}

}
