package dev.amb.spring.boot.diagnostics;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Explains a start-up failure caused by the backend choice or an {@code amb.*} value.
 */
public final class AmbFailureAnalyzer extends AbstractFailureAnalyzer<RuntimeException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, RuntimeException cause) {
		AmbBackendNotAvailableException backend = findCause(rootFailure, AmbBackendNotAvailableException.class);
		if (backend != null) {
			return new FailureAnalysis(backend.getMessage(), backend.getAction(), backend);
		}
		InvalidAmbConfigurationException invalid = findCause(rootFailure, InvalidAmbConfigurationException.class);
		if (invalid != null) {
			return new FailureAnalysis(
					"Invalid AMB configuration:\n\n    Property: " + invalid.getProperty() + "\n    Value: "
							+ invalid.getValue() + "\n    Reason: " + invalid.getReason(),
					"Update '" + invalid.getProperty() + "' in the application's configuration: it "
							+ invalid.getReason() + ".",
					invalid);
		}
		AmbListenerConfigurationException listener = findCause(rootFailure, AmbListenerConfigurationException.class);
		if (listener != null) {
			return new FailureAnalysis(listener.getMessage(), listener.getAction(), listener);
		}
		return null;
	}

}
