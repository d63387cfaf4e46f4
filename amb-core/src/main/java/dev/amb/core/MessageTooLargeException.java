package dev.amb.core;

/**
 * A message whose encoded payload is larger than the configured limit; nothing was queued.
 */
public class MessageTooLargeException extends AmbException {

	private static final long serialVersionUID = 1L;

	public MessageTooLargeException(String message) {
		super(message);
	}

	public MessageTooLargeException(String message, Throwable cause) {
		super(message, cause);
	}

}
