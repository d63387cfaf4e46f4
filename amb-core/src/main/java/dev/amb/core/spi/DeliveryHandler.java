package dev.amb.core.spi;

/**
 * The bus's side of a delivery. A backend calls it on its consumer thread for each envelope and
 * acknowledges according to the answer. It never throws: retries, backoff, dead-lettering,
 * expiry and replies all happen inside it.
 */
@FunctionalInterface
public interface DeliveryHandler {

	/**
	 * Processes one delivery.
	 * @param envelope what arrived
	 * @return whether the backend may acknowledge it
	 */
	Disposition deliver(Envelope envelope);

}
