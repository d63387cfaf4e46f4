package dev.amb.core;

/**
 * The backend cannot honour what was asked of it; the message names the capability it lacks.
 */
public class UnsupportedCapabilityException extends AmbException {

	private static final long serialVersionUID = 1L;

	public UnsupportedCapabilityException(String message) {
		super(message);
	}

	public UnsupportedCapabilityException(String message, Throwable cause) {
		super(message, cause);
	}

}
