package dev.amb.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.amb.core.spi.ConsumerSpec;

/**
 * The durable names of the open subscriptions, and which of them a topic reaches in each lane:
 * what the write-ahead log records a message as meant for. It mirrors the in-process backend's
 * routing (pattern and lanes); a subscription made or closed while a message is routed may be
 * missed or counted, which the delivery tracker settles.
 */
final class DurableRoutes {

	private static final String[] NONE = new String[0];

	/** The most topics whose names are remembered, as in the in-memory backend. */
	private static final int MAX_CACHED_ROUTES = 4096;

	private final List<ConsumerSpec> specs = new ArrayList<>();

	private final Map<String, String[][]> routes = new ConcurrentHashMap<>();

	/** The route last computed: a steady stream to one topic skips the map. Set and cleared under the lock. */
	private volatile Route last;

	synchronized void add(ConsumerSpec spec) {
		this.specs.add(spec);
		clearLocked();
	}

	synchronized void remove(ConsumerSpec spec) {
		if (this.specs.remove(spec)) {
			clearLocked();
		}
	}

	/** @return the distinct durable names of the open subscriptions */
	synchronized Set<String> names() {
		Set<String> names = new LinkedHashSet<>();
		for (ConsumerSpec spec : this.specs) {
			names.add(spec.durableName());
		}
		return names;
	}

	/**
	 * The durable names a message reaches.
	 * @param topic its topic
	 * @param lane its priority lane
	 * @return the distinct names, shared: never to be changed
	 */
	String[] namesFor(String topic, int lane) {
		Route route = this.last;
		String[][] byLane = (route != null && topic.equals(route.topic())) ? route.byLane() : this.routes.get(topic);
		if (byLane == null) {
			byLane = compute(topic);
		}
		return byLane[lane];
	}

	private synchronized String[][] compute(String topic) {
		if (this.routes.size() >= MAX_CACHED_ROUTES) {
			this.routes.clear();
		}
		String[][] byLane = new String[Priority.laneCount()][];
		for (int lane = 0; lane < byLane.length; lane++) {
			Priority priority = Priority.ofLane(lane);
			Set<String> names = new LinkedHashSet<>();
			for (ConsumerSpec spec : this.specs) {
				if (spec.lanes().contains(priority) && spec.pattern().matches(topic)) {
					names.add(spec.durableName());
				}
			}
			byLane[lane] = names.isEmpty() ? NONE : names.toArray(new String[0]);
		}
		this.routes.put(topic, byLane);
		this.last = new Route(topic, byLane);
		return byLane;
	}

	private void clearLocked() {
		this.routes.clear();
		this.last = null;
	}

	private record Route(String topic, String[][] byLane) {
	}

}
