package dev.amb.core.spi;

import java.util.Map;

/**
 * Whether a backend is reachable, with details safe to show (never credentials).
 *
 * @param reachable whether the backend answers
 * @param details what the backend wants to show, such as its address or version
 */
public record BrokerHealth(boolean reachable, Map<String, Object> details) {

	/**
	 * Up, with details.
	 * @param details the details
	 * @return the health
	 */
	public static BrokerHealth up(Map<String, Object> details) {
		return new BrokerHealth(true, Map.copyOf(details));
	}

	/**
	 * Down, with the reason.
	 * @param reason why
	 * @return the health
	 */
	public static BrokerHealth down(String reason) {
		return new BrokerHealth(false, Map.of("error", reason));
	}

}
