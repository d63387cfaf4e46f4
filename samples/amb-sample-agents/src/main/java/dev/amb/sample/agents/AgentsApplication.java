package dev.amb.sample.agents;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * A small team of agents talking over the bus: a planner publishes tasks, asks an estimator for
 * an estimate (request/reply), workers in one group share the tasks, a reviewer takes the urgent
 * results on the high lane, an archivist the rest, and a watcher reports dead letters.
 */
@SpringBootApplication
@EnableScheduling
public class AgentsApplication {

	public static void main(String[] args) {
		SpringApplication.run(AgentsApplication.class, args);
	}

}
