package dev.amb.sample.agents;

/**
 * The payloads the agents exchange, as JSON on the wire.
 */
final class Messages {

	/** Topic of new tasks; workers share it as the group {@value #WORKERS}. */
	static final String TASKS = "agents.tasks";

	/** Topic of finished work. */
	static final String RESULTS = "agents.results";

	/** Topic the estimator answers requests on. */
	static final String ESTIMATES = "agents.estimates";

	/** The group of workers. */
	static final String WORKERS = "workers";

	private Messages() {
	}

	/**
	 * A piece of work.
	 *
	 * @param id the task id
	 * @param description what to do
	 * @param urgent whether it travels on the high lane
	 * @param estimateMinutes the estimator's answer
	 */
	record Task(String id, String description, boolean urgent, int estimateMinutes) {
	}

	/**
	 * A request for an estimate.
	 *
	 * @param description what is to be estimated
	 */
	record EstimateRequest(String description) {
	}

	/**
	 * The estimator's answer.
	 *
	 * @param minutes the estimate
	 * @param estimator who estimated
	 */
	record Estimate(int minutes, String estimator) {
	}

	/**
	 * What a worker made of a task.
	 *
	 * @param taskId the task id
	 * @param worker the worker
	 * @param summary what was done
	 */
	record Result(String taskId, String worker, String summary) {
	}

}
