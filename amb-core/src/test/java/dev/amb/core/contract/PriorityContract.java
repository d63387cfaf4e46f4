package dev.amb.core.contract;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.PublishOptions;
import dev.amb.core.Subscription;
import dev.amb.core.spi.Capability;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The priority-lane clauses of the contract (DESIGN.md section 2, clause 5). A backend whose
 * adapter declares {@link Capability#PRIORITY} runs it as a {@code @Nested} inner class of its
 * {@link BrokerContractTests} subclass (see the recipe there); the enclosing test provides the
 * adapter and the other hooks.
 */
public abstract class PriorityContract extends ContractSupport {

	@Test
	void higherLaneIsDeliveredFirstFromABacklog() throws Exception {
		String topic = topic("lanes");
		Gate gate = gate();
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		Subscription subscription = this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
				return;
			}
			received.add(message);
		});
		join(this.bus.publish(topic, "blocker"));
		gate.awaitEntered(deliveryTimeout());
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "low-" + i, PublishOptions.priority(Priority.LOW)));
		}
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "normal-" + i, PublishOptions.priority(Priority.NORMAL)));
		}
		for (int i = 0; i < 5; i++) {
			join(this.bus.publish(topic, "high-" + i, PublishOptions.priority(Priority.HIGH)));
		}
		awaitBacklogVisible(this.bus, subscription, 15);
		gate.release();
		awaitCount(received::size, 15);
		List<Priority> lanes = received.stream().map(Message::getPriority).toList();
		int tolerance = priorityTolerance();
		assertThat(lanes.subList(0, 5 + tolerance)).as("delivery order " + lanes)
			.filteredOn((lane) -> lane == Priority.HIGH)
			.hasSize(5);
		assertThat(lanes.subList(lanes.size() - 5 - tolerance, lanes.size())).as("delivery order " + lanes)
			.filteredOn((lane) -> lane == Priority.LOW)
			.hasSize(5);
		assertOrderWithinLane(received);
	}

	@Test
	void starvationBoundLetsTheLowestLaneThrough() throws Exception {
		String topic = topic("starvation");
		Gate gate = gate();
		List<Message<String>> received = new CopyOnWriteArrayList<>();
		Subscription subscription = this.bus.subscribe(topic, String.class, (message) -> {
			if (message.getPayload().equals("blocker")) {
				gate.pass();
				return;
			}
			received.add(message);
		});
		join(this.bus.publish(topic, "blocker"));
		gate.awaitEntered(deliveryTimeout());
		join(this.bus.publish(topic, "low", PublishOptions.priority(Priority.LOW)));
		int highs = 200;
		List<CompletableFuture<UUID>> sent = new ArrayList<>();
		for (int i = 0; i < highs; i++) {
			sent.add(this.bus.publish(topic, "high-" + i, PublishOptions.priority(Priority.HIGH)));
		}
		sent.forEach(this::join);
		awaitBacklogVisible(this.bus, subscription, highs + 1);
		gate.release();
		awaitCount(received::size, highs + 1);
		List<String> payloads = received.stream().map(Message::getPayload).toList();
		int lowAt = payloads.indexOf("low");
		assertThat(lowAt).as("position of the low message among " + (highs + 1) + " deliveries")
			.isGreaterThanOrEqualTo((priorityTolerance() > 0) ? 0 : 1)
			.isLessThan(highs);
	}

	private static void assertOrderWithinLane(List<Message<String>> received) {
		Map<Priority, List<Integer>> byLane = new HashMap<>();
		for (Message<String> message : received) {
			String payload = message.getPayload();
			byLane.computeIfAbsent(message.getPriority(), (lane) -> new ArrayList<>())
				.add(Integer.parseInt(payload.substring(payload.indexOf('-') + 1)));
		}
		byLane.forEach((lane, sequence) -> assertThat(sequence).as("order within lane " + lane).isSorted());
	}

}
