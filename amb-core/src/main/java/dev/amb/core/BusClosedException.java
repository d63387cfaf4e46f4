package dev.amb.core;

/**
 * The bus, or its backend, is closed or closing and takes no more messages.
 */
public class BusClosedException extends AmbException {

	private static final long serialVersionUID = 1L;

	public BusClosedException(String message) {
		super(message);
	}

	public BusClosedException(String message, Throwable cause) {
		super(message, cause);
	}

}
