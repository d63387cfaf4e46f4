package dev.amb.core.inmemory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import dev.amb.core.Backpressure;
import dev.amb.core.BackpressureException;
import dev.amb.core.BusClosedException;
import dev.amb.core.BusCounters;
import dev.amb.core.Priority;
import dev.amb.core.TopicPattern;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.DeliveryTracker;
import dev.amb.core.spi.Envelope;

/**
 * The embedded default backend: a bounded queue per broadcast subscription and per group, a
 * queue per lane inside it, worker threads per subscription. Nothing leaves the process and
 * nothing survives it, unless the bus has a write-ahead log.
 */
public final class InMemoryBroker implements BrokerAdapter {

	private static final Set<Capability> CAPABILITIES = Set.copyOf(EnumSet.of(Capability.WILDCARDS,
			Capability.PRIORITY, Capability.KEY_ORDER, Capability.BOUNDED_QUEUES, Capability.PAUSE));

	/** Sent at once: the bus only reads it, and it saves an allocation per publish. */
	private static final CompletableFuture<Void> SENT = CompletableFuture.completedFuture(null);

	/** The most topics whose subscriptions are remembered; memory stays bounded whatever topics are published. */
	static final int MAX_CACHED_ROUTES = 4096;

	private final Backpressure backpressure;

	private final int starvationBound;

	private final int groupPartitions;

	private final List<QueueEntry> entries = new ArrayList<>();

	private final Map<String, QueueEntry[]> routes = new ConcurrentHashMap<>();

	/**
	 * The route last computed, checked before the map: a steady stream to one topic then costs
	 * no hash lookup. Only set and cleared under the entries lock, so it is never stale.
	 */
	private volatile Route lastRoute;

	private volatile BusCounters counters = new BusCounters();

	private volatile boolean closed;

	/** A broker with the seed's defaults: 10,000 messages per subscription, slowing publishers at 80%. */
	public InMemoryBroker() {
		this(builder());
	}

	private InMemoryBroker(Builder builder) {
		this.backpressure = builder.backpressure;
		this.starvationBound = builder.starvationBound;
		this.groupPartitions = builder.groupPartitions;
	}

	public static Builder builder() {
		return new Builder();
	}

	@Override
	public String name() {
		return "in-memory";
	}

	@Override
	public Set<Capability> capabilities() {
		return CAPABILITIES;
	}

	@Override
	public void start(AdapterContext context) {
		this.counters = context.counters();
	}

	@Override
	public CompletableFuture<Void> send(Envelope envelope) {
		if (this.closed) {
			return CompletableFuture.failedFuture(new BusClosedException("The in-memory broker is closed"));
		}
		String topic = envelope.topic();
		Route last = this.lastRoute;
		QueueEntry[] targets = (last != null && topic.equals(last.topic())) ? last.targets()
				: this.routes.get(topic);
		if (targets == null) {
			targets = route(topic);
		}
		int lane = envelope.priority().lane();
		DeliveryTracker tracker = envelope.tracker();
		BackpressureException refused = null;
		for (QueueEntry target : targets) {
			if (!target.acceptsLane[lane]) {
				continue;
			}
			String durableName = target.queue.durableName();
			if (tracker != null && !tracker.expect(durableName)) {
				continue;
			}
			try {
				target.queue.offer(envelope);
			}
			catch (BackpressureException ex) {
				refused = ex;
				if (tracker != null) {
					tracker.refused(durableName);
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				if (tracker != null) {
					tracker.refused(durableName);
				}
				return CompletableFuture.failedFuture(ex);
			}
		}
		return (refused != null) ? CompletableFuture.failedFuture(refused) : SENT;
	}

	private void clearRoutesLocked() {
		this.routes.clear();
		this.lastRoute = null;
	}

	private QueueEntry[] route(String topic) {
		synchronized (this.entries) {
			if (this.routes.size() >= MAX_CACHED_ROUTES) {
				// Topics can be made up at run time (one per task or per conversation): keep the cache bounded.
				this.routes.clear();
			}
			List<QueueEntry> matching = new ArrayList<>();
			for (QueueEntry entry : this.entries) {
				if (entry.pattern.matches(topic)) {
					matching.add(entry);
				}
			}
			QueueEntry[] targets = matching.toArray(new QueueEntry[0]);
			this.routes.put(topic, targets);
			this.lastRoute = new Route(topic, targets);
			return targets;
		}
	}

	@Override
	public BrokerConsumer subscribe(ConsumerSpec spec, DeliveryHandler handler) {
		Objects.requireNonNull(spec, "spec must not be null");
		if (this.closed) {
			throw new BusClosedException("The in-memory broker is closed");
		}
		Backpressure bounds = (spec.backpressure() != null) ? spec.backpressure() : this.backpressure;
		InMemoryConsumer consumer;
		synchronized (this.entries) {
			QueueEntry entry = spec.isBroadcast() ? null : findGroup(spec);
			if (entry == null) {
				int partitions = spec.isBroadcast() ? spec.concurrency()
						: Math.max(this.groupPartitions, spec.concurrency());
				String queueName = spec.isBroadcast() ? spec.id() : spec.group() + "@" + spec.pattern().pattern();
				entry = new QueueEntry(spec, new InMemoryQueue(queueName, spec.durableName(), partitions, bounds,
						this.starvationBound, this.counters));
				this.entries.add(entry);
				clearRoutesLocked();
			}
			consumer = new InMemoryConsumer(this, spec, entry.queue, handler, entry.members.size());
			entry.members.add(consumer);
		}
		consumer.start();
		return consumer;
	}

	private QueueEntry findGroup(ConsumerSpec spec) {
		for (QueueEntry entry : this.entries) {
			if (spec.group().equals(entry.group) && entry.pattern.equals(spec.pattern())) {
				if (!entry.lanes.equals(spec.lanes())) {
					throw new IllegalStateException("Subscription '" + spec.id() + "' joins group '" + spec.group()
							+ "' on '" + spec.pattern().pattern() + "' with lanes " + spec.lanes()
							+ ", but the group consumes lanes " + entry.lanes + "; members of a group must agree");
				}
				return entry;
			}
		}
		return null;
	}

	/**
	 * Removes a consumer from its queue's members; the queue stops receiving when its last member goes.
	 * @param consumer the consumer
	 * @return whether it was the last member
	 */
	boolean detach(InMemoryConsumer consumer) {
		synchronized (this.entries) {
			for (QueueEntry entry : this.entries) {
				if (entry.members.remove(consumer)) {
					if (entry.members.isEmpty()) {
						this.entries.remove(entry);
						clearRoutesLocked();
						return true;
					}
					return false;
				}
			}
			return false;
		}
	}

	int cachedRoutes() {
		return this.routes.size();
	}

	@Override
	public BrokerHealth health() {
		int queues;
		synchronized (this.entries) {
			queues = this.entries.size();
		}
		return BrokerHealth.up(Map.of("queues", queues));
	}

	@Override
	public void close(Duration timeout) {
		this.closed = true;
	}

	/** The queues a topic goes to. */
	private record Route(String topic, QueueEntry[] targets) {
	}

	/** One queue and the subscriptions consuming it. */
	private static final class QueueEntry {

		final TopicPattern pattern;

		final String group;

		final Set<Priority> lanes;

		final boolean[] acceptsLane = new boolean[Priority.laneCount()];

		final InMemoryQueue queue;

		final List<InMemoryConsumer> members = new ArrayList<>();

		QueueEntry(ConsumerSpec spec, InMemoryQueue queue) {
			this.pattern = spec.pattern();
			this.group = spec.group();
			this.lanes = spec.lanes();
			for (Priority lane : spec.lanes()) {
				this.acceptsLane[lane.lane()] = true;
			}
			this.queue = queue;
		}

	}

	/**
	 * Builds an {@link InMemoryBroker}.
	 */
	public static final class Builder {

		private Backpressure backpressure = Backpressure.DEFAULTS;

		private int starvationBound = 16;

		private int groupPartitions = 16;

		private Builder() {
		}

		/** Queue bounds and the policy at capacity, for subscriptions that set none of their own. */
		public Builder backpressure(Backpressure backpressure) {
			this.backpressure = Objects.requireNonNull(backpressure, "backpressure must not be null");
			return this;
		}

		/** After this many deliveries from higher lanes while a lower lane waits, one comes from the lowest. */
		public Builder starvationBound(int starvationBound) {
			if (starvationBound < 1) {
				throw new IllegalArgumentException("starvationBound must be at least 1, was " + starvationBound);
			}
			this.starvationBound = starvationBound;
			return this;
		}

		/** Key partitions of a group's queue: the most members that work on it at once. */
		public Builder groupPartitions(int groupPartitions) {
			if (groupPartitions < 1) {
				throw new IllegalArgumentException("groupPartitions must be at least 1, was " + groupPartitions);
			}
			this.groupPartitions = groupPartitions;
			return this;
		}

		public InMemoryBroker build() {
			return new InMemoryBroker(this);
		}

	}

}
