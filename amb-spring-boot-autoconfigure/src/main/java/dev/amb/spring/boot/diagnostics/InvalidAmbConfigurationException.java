package dev.amb.spring.boot.diagnostics;

/**
 * An {@code amb.*} property has a value the bus cannot work with. Turned into a start-up report
 * naming the property and the fix by {@link AmbFailureAnalyzer}.
 */
public class InvalidAmbConfigurationException extends RuntimeException {

	private final String property;

	private final transient Object value;

	private final String reason;

	/**
	 * Creates the exception.
	 * @param property the property name, such as {@code amb.backpressure.threshold}
	 * @param value the value found
	 * @param reason what a valid value looks like
	 */
	public InvalidAmbConfigurationException(String property, Object value, String reason) {
		super("Invalid value '" + value + "' for '" + property + "': " + reason);
		this.property = property;
		this.value = value;
		this.reason = reason;
	}

	/** @return the property name */
	public String getProperty() {
		return this.property;
	}

	/** @return the value found */
	public Object getValue() {
		return this.value;
	}

	/** @return what a valid value looks like */
	public String getReason() {
		return this.reason;
	}

}
