package dev.amb.sample.agents;

import dev.amb.sample.agents.Messages.Estimate;
import dev.amb.sample.agents.Messages.EstimateRequest;
import dev.amb.spring.boot.listener.AmbListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Answers estimate requests: the return value of the listener is the reply.
 */
@Component
class EstimatorAgent {

	private static final Logger logger = LoggerFactory.getLogger(EstimatorAgent.class);

	@AmbListener(id = "estimator", topics = Messages.ESTIMATES)
	Estimate estimate(EstimateRequest request) {
		int minutes = 5 + request.description().length() % 25;
		logger.info("estimator <- '{}' = {} min", request.description(), minutes);
		return new Estimate(minutes, "estimator-1");
	}

}
