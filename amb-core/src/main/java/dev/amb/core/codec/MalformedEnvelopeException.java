package dev.amb.core.codec;

import dev.amb.core.AmbException;

/**
 * Wire headers that do not make an AMB envelope: a missing or malformed id, an unknown priority,
 * a bad time. The adapter sends what it received to the dead-letter topic with this reason.
 */
public class MalformedEnvelopeException extends AmbException {

	private static final long serialVersionUID = 1L;

	public MalformedEnvelopeException(String message) {
		super(message);
	}

	public MalformedEnvelopeException(String message, Throwable cause) {
		super(message, cause);
	}

}
