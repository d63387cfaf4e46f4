package dev.amb.core;

/**
 * The root of the exceptions AMB throws.
 */
public class AmbException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	public AmbException(String message) {
		super(message);
	}

	public AmbException(String message, Throwable cause) {
		super(message, cause);
	}

}
