package dev.amb.core.persistence;

import dev.amb.core.AmbException;

/**
 * The write-ahead log cannot be opened or written: the directory is missing and cannot be made,
 * is read-only or in use, a segment has a newer format, or the disk failed.
 */
public class MessageStoreException extends AmbException {

	private static final long serialVersionUID = 1L;

	public MessageStoreException(String message) {
		super(message);
	}

	public MessageStoreException(String message, Throwable cause) {
		super(message, cause);
	}

}
