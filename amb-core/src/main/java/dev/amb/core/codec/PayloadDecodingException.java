package dev.amb.core.codec;

import dev.amb.core.AmbException;

/**
 * A payload that cannot be read into the type asked for. The bus sends such a message to the
 * dead-letter topic at once: retrying cannot make it readable.
 */
public class PayloadDecodingException extends AmbException {

	private static final long serialVersionUID = 1L;

	public PayloadDecodingException(String message, Throwable cause) {
		super(message, cause);
	}

}
