package dev.amb.sample.agents;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.amb.core.MessageBus;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.sample.agents.Messages.Estimate;
import dev.amb.sample.agents.Messages.EstimateRequest;
import dev.amb.sample.agents.Messages.Task;
import dev.amb.spring.boot.listener.AmbListener;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Starts the sample on the in-memory backend with a web server, sends through its
 * {@code @AmbListener} methods, and reads health and the {@code amb} endpoint over HTTP.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "agents.planner.enabled=false", "amb.backpressure.max-queue-size=8",
				"amb.backpressure.threshold=0.5", "amb.backpressure.policy=reject" })
class AgentsApplicationTests {

	private static final ParameterizedTypeReference<Map<String, Object>> JSON = new ParameterizedTypeReference<>() {
	};

	@LocalServerPort
	private int port;

	@Autowired
	private MessageBus bus;

	@Autowired
	private ReviewAgents reviewAgents;

	@Autowired
	private SlowAgent slowAgent;

	private RestClient http;

	@BeforeEach
	void client() {
		this.http = RestClient.builder().baseUrl("http://localhost:" + this.port).build();
	}

	@Test
	void tasksFlowThroughWorkersToTheReviewerAndTheArchivist() throws Exception {
		long reviewed = this.reviewAgents.reviewed();
		long archived = this.reviewAgents.archived();
		this.bus.publish(Messages.TASKS, new Task("t-urgent", "check the build logs", true, 5),
				PublishOptions.priority(Priority.HIGH)).get(5, TimeUnit.SECONDS);
		this.bus.publish(Messages.TASKS, new Task("t-normal", "translate the FAQ", false, 5)).get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(this.reviewAgents.reviewed()).isEqualTo(reviewed + 1);
			assertThat(this.reviewAgents.archived()).isEqualTo(archived + 1);
		});
	}

	@Test
	void estimatorAnswersRequests() throws Exception {
		Estimate estimate = this.bus
			.request(Messages.ESTIMATES, new EstimateRequest("draft"), Estimate.class, Duration.ofSeconds(5))
			.get(10, TimeUnit.SECONDS);
		assertThat(estimate.estimator()).isEqualTo("estimator-1");
		assertThat(estimate.minutes()).isEqualTo(5 + "draft".length());
	}

	@Test
	void poisonTaskEndsOnTheDeadLetterTopic() throws Exception {
		long deadLetters = this.reviewAgents.deadLetters();
		this.bus.publish(Messages.TASKS, new Task("t-poison", "poison pill", false, 1)).get(5, TimeUnit.SECONDS);
		await().atMost(Duration.ofSeconds(15))
			.untilAsserted(() -> assertThat(this.reviewAgents.deadLetters()).isEqualTo(deadLetters + 1));
	}

	@Test
	@SuppressWarnings("unchecked")
	void ambEndpointShowsTheBusOverHttp() {
		Map<String, Object> amb = this.http.get().uri("/actuator/amb").retrieve().body(JSON);
		assertThat(amb).containsEntry("backend", "in-memory").containsEntry("reachable", true);
		List<Map<String, Object>> listeners = (List<Map<String, Object>>) amb.get("listeners");
		assertThat(listeners).extracting((listener) -> listener.get("id"))
			.contains("estimator", "worker-a", "worker-b", "reviewer", "archivist", "dead-letter-watcher");
		assertThat(listeners).filteredOn((listener) -> "reviewer".equals(listener.get("id")))
			.singleElement()
			.satisfies((reviewer) -> assertThat(reviewer.get("lanes")).isEqualTo(List.of("high")));
		assertThat((Map<String, Object>) amb.get("counters")).containsKeys("published", "delivered", "dead-lettered");
		assertThat(amb.toString()).doesNotContain("payload");
	}

	@Test
	void listenersArePausedAndResumedOverHttp() {
		Map<String, Object> paused = this.http.post()
			.uri("/actuator/amb/archivist")
			.contentType(MediaType.APPLICATION_JSON)
			.body(Map.of("action", "pause"))
			.retrieve()
			.body(JSON);
		assertThat(paused).containsEntry("id", "archivist").containsEntry("paused", true);
		Map<String, Object> resumed = this.http.post()
			.uri("/actuator/amb/archivist")
			.contentType(MediaType.APPLICATION_JSON)
			.body(Map.of("action", "resume"))
			.retrieve()
			.body(JSON);
		assertThat(resumed).containsEntry("paused", false);
	}

	@Test
	@SuppressWarnings("unchecked")
	void healthDegradesWhenAStalledListenersQueueCrossesTheThreshold() throws Exception {
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(health("/actuator/health").getBody())
			.containsEntry("status", "UP"));
		try {
			// The slow agent holds the first message; the next five wait, above the threshold of 4 of 8.
			for (int i = 0; i < 6; i++) {
				this.bus.publish("agents.slow", "job-" + i).get(5, TimeUnit.SECONDS);
			}
			await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
				ResponseEntity<Map<String, Object>> amb = health("/actuator/health/amb");
				assertThat(amb.getStatusCode().value()).isEqualTo(200);
				assertThat(amb.getBody()).containsEntry("status", "DEGRADED");
			});
			ResponseEntity<Map<String, Object>> overall = health("/actuator/health");
			assertThat(overall.getStatusCode().value()).isEqualTo(200);
			assertThat(overall.getBody()).containsEntry("status", "DEGRADED");
			Map<String, Object> details = (Map<String, Object>) health("/actuator/health/amb").getBody().get("details");
			Map<String, Object> slow = ((Map<String, Map<String, Object>>) details.get("subscriptions")).get("slow-agent");
			assertThat(slow).containsEntry("state", "above-threshold").containsEntry("capacity", 8);
		}
		finally {
			this.slowAgent.release.countDown();
		}
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(health("/actuator/health/amb").getBody()).containsEntry("status", "UP"));
	}

	private ResponseEntity<Map<String, Object>> health(String path) {
		return this.http.get().uri(path).retrieve().toEntity(JSON);
	}

	/** An agent that stops moving until released. */
	static class SlowAgent {

		final CountDownLatch release = new CountDownLatch(1);

		@AmbListener(id = "slow-agent", topics = "agents.slow")
		void work(String job) throws InterruptedException {
			this.release.await(60, TimeUnit.SECONDS);
		}

	}

	@TestConfiguration(proxyBeanMethods = false)
	static class SlowAgentConfiguration {

		@Bean
		SlowAgent slowAgent() {
			return new SlowAgent();
		}

	}

}
