package dev.amb.benchmarks.inmemory;

import java.util.ArrayList;
import java.util.List;

import dev.amb.core.MessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.Subscription;
import dev.amb.core.inmemory.InMemoryBroker;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A bus on the in-memory broker, used as an application would: the builder, {@code publish} and
 * {@code subscribe} with a {@code byte[]} handler.
 */
abstract class BusState {

	final Deliveries deliveries = new Deliveries();

	final byte[] payload = Deliveries.payload();

	final List<Subscription> subscriptions = new ArrayList<>();

	MessageBus bus;

	String topic;

	void open(String topic, SubscribeOptions options, int members) {
		this.topic = topic;
		this.bus = MessageBus.builder().adapter(new InMemoryBroker()).build();
		Deliveries deliveries = this.deliveries;
		for (int i = 0; i < members; i++) {
			this.subscriptions.add(this.bus.subscribe(topic, byte[].class, (message) -> deliveries.received(), options));
		}
		// One round trip, so the first measured invocation does not pay for a cold start.
		long target = deliveries.expect(1);
		this.bus.publish(topic, this.payload);
		deliveries.awaitReceived(target);
	}

	@TearDown(Level.Trial)
	public void close() {
		this.subscriptions.forEach(Subscription::close);
		this.bus.close();
	}

}
