package dev.amb.core;

/**
 * No reply reached a request before its timeout.
 */
public class RequestTimeoutException extends AmbException {

	private static final long serialVersionUID = 1L;

	public RequestTimeoutException(String message) {
		super(message);
	}

	public RequestTimeoutException(String message, Throwable cause) {
		super(message, cause);
	}

}
