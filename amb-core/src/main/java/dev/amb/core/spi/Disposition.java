package dev.amb.core.spi;

/**
 * What the bus decided about one delivery.
 */
public enum Disposition {

	/** Finished with: handled, dead-lettered, expired or answered. The backend acknowledges it. */
	ACK,

	/**
	 * Not finished with, for example because the bus is closing or the dead-letter topic could not be
	 * reached. The backend must not acknowledge it, so it is delivered again later.
	 */
	REQUEUE

}
