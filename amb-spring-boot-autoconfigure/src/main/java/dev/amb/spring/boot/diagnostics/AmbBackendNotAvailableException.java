package dev.amb.spring.boot.diagnostics;

/**
 * The backend chosen with {@code amb.backend} cannot be used: its library is missing from the
 * classpath, the context has no connection to its broker, or this version of AMB has no adapter
 * for it. Turned into a start-up report by {@link AmbFailureAnalyzer}.
 */
public class AmbBackendNotAvailableException extends RuntimeException {

	private final String backend;

	private final String action;

	/**
	 * Creates the exception.
	 * @param backend the backend name
	 * @param description what is wrong
	 * @param action how to fix it
	 */
	public AmbBackendNotAvailableException(String backend, String description, String action) {
		super(description);
		this.backend = backend;
		this.action = action;
	}

	/**
	 * The backend's library is not on the classpath.
	 * @param backend the backend name
	 * @param missingClass the class looked for
	 * @param dependency the Maven coordinates to add
	 * @return the exception
	 */
	public static AmbBackendNotAvailableException missingLibrary(String backend, String missingClass,
			String dependency) {
		return new AmbBackendNotAvailableException(backend,
				"amb.backend=" + backend + " needs " + missingClass + ", which is not on the classpath.",
				"Add the dependency " + dependency + " to the application (Spring Boot manages its version), "
						+ "or choose another backend with amb.backend (in-memory needs nothing).");
	}

	/**
	 * The backend's library is there but the context has no connection to the broker, because
	 * Spring Boot's auto-configuration of it is missing.
	 * @param backend the backend name
	 * @param connectionType the bean type looked for
	 * @param starter the Spring Boot starter that brings the auto-configuration
	 * @return the exception
	 */
	public static AmbBackendNotAvailableException missingConnection(String backend, String connectionType,
			String starter) {
		return new AmbBackendNotAvailableException(backend,
				"amb.backend=" + backend + " uses Spring Boot's " + connectionType
						+ " to reach the broker, but the application context has none.",
				"Add the dependency " + starter + " (its auto-configuration creates the " + connectionType
						+ " from the spring.* connection properties), or define a " + connectionType + " bean.");
	}

	/** @return the backend name */
	public String getBackend() {
		return this.backend;
	}

	/** @return how to fix it */
	public String getAction() {
		return this.action;
	}

}
