package dev.amb.spring.boot.diagnostics;

/**
 * An {@code @AmbListener} method cannot be registered: a wrong signature, a duplicate id, or a
 * group whose members disagree. Turned into a start-up report by {@link AmbFailureAnalyzer}.
 */
public class AmbListenerConfigurationException extends RuntimeException {

	private final String action;

	/**
	 * Creates the exception.
	 * @param description what is wrong, naming the method
	 * @param action how to fix it
	 */
	public AmbListenerConfigurationException(String description, String action) {
		super(description);
		this.action = action;
	}

	/** @return how to fix it */
	public String getAction() {
		return this.action;
	}

}
