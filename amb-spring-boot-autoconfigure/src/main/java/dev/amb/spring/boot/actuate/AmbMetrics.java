package dev.amb.spring.boot.actuate;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

import dev.amb.core.BusCounters;
import dev.amb.core.DefaultMessageBus;
import dev.amb.core.Message;
import dev.amb.core.Priority;
import dev.amb.core.SubscriptionInfo;
import dev.amb.core.persistence.MessageStore;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.DeliveryInterceptor;
import dev.amb.core.spi.PublishInterceptor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.SmartLifecycle;

/**
 * Micrometer meters of the bus: counters over {@link BusCounters} ({@code amb.messages.*}),
 * publish and delivery latency timers (as a {@link PublishInterceptor} and a
 * {@link DeliveryInterceptor}), and queue depth gauges per subscription and lane. Counters and
 * gauges are registered once the application has started, so that the bus is complete; a
 * subscription made later gets its gauges at its first delivery.
 */
public final class AmbMetrics implements PublishInterceptor, DeliveryInterceptor, SmartLifecycle {

	private static final long SNAPSHOT_MILLIS = 1000;

	private final MeterRegistry registry;

	private final ObjectProvider<DefaultMessageBus> bus;

	private final Timer publishSuccess;

	private final Timer publishFailure;

	private final Map<String, Timer[]> deliveryTimers = new ConcurrentHashMap<>();

	private final Set<String> gaugedSubscriptions = ConcurrentHashMap.newKeySet();

	private volatile boolean running;

	private volatile boolean countersRegistered;

	private volatile Map<String, ConsumerState> snapshot = Map.of();

	private volatile long snapshotTime;

	/**
	 * Creates the meters.
	 * @param registry the registry
	 * @param bus the bus, looked up when the application has started
	 */
	public AmbMetrics(MeterRegistry registry, ObjectProvider<DefaultMessageBus> bus) {
		this.registry = registry;
		this.bus = bus;
		this.publishSuccess = publishTimer("success");
		this.publishFailure = publishTimer("failure");
	}

	private Timer publishTimer(String outcome) {
		return Timer.builder("amb.publish.latency")
			.description("Time from publish until the backend (or the write-ahead log) has the message")
			.tag("outcome", outcome)
			.register(this.registry);
	}

	@Override
	public Completion beforePublish(String topic, Map<String, String> headers) {
		long start = System.nanoTime();
		return (failure) -> ((failure != null) ? this.publishFailure : this.publishSuccess)
			.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
	}

	@Override
	public Object aroundDelivery(Message<?> message, String subscriptionId, Invocation invocation) throws Exception {
		Timer[] timers = this.deliveryTimers.get(subscriptionId);
		if (timers == null) {
			timers = this.deliveryTimers.computeIfAbsent(subscriptionId, this::deliveryTimers);
			registerGauges(subscriptionId);
		}
		long start = System.nanoTime();
		try {
			Object result = invocation.proceed();
			timers[0].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
			return result;
		}
		catch (Exception | Error ex) {
			timers[1].record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
			throw ex;
		}
	}

	private Timer[] deliveryTimers(String subscriptionId) {
		Timer success = Timer.builder("amb.delivery.latency")
			.description("Time a handler took for one delivery attempt")
			.tags("subscription", subscriptionId, "outcome", "success")
			.register(this.registry);
		Timer failure = Timer.builder("amb.delivery.latency")
			.description("Time a handler took for one delivery attempt")
			.tags("subscription", subscriptionId, "outcome", "failure")
			.register(this.registry);
		return new Timer[] { success, failure };
	}

	/** Registers the counters, and gauges for every subscription open now. */
	void bindAll() {
		DefaultMessageBus messageBus = this.bus.getIfAvailable();
		if (messageBus == null) {
			return;
		}
		if (!this.countersRegistered) {
			this.countersRegistered = true;
			BusCounters counters = messageBus.counters();
			counter("amb.messages.published", "Messages accepted by publish", counters, BusCounters::published);
			counter("amb.messages.delivered", "Messages handled successfully", counters, BusCounters::delivered);
			counter("amb.messages.failed", "Handler attempts that threw", counters, BusCounters::failed);
			counter("amb.messages.retried", "Delivery attempts after the first", counters, BusCounters::retried);
			counter("amb.messages.dead-lettered", "Messages sent to a dead-letter topic", counters,
					BusCounters::deadLettered);
			counter("amb.messages.expired", "Messages not delivered because their time to live had passed", counters,
					BusCounters::expired);
			counter("amb.messages.undecodable", "Messages whose payload could not be read", counters,
					BusCounters::undecodable);
			counter("amb.messages.throttled", "Publishes slowed because a queue was above its threshold", counters,
					BusCounters::throttled);
			counter("amb.messages.rejected", "Publishes refused at capacity", counters, BusCounters::rejected);
			counter("amb.messages.dropped", "Waiting messages dropped at capacity under drop-oldest", counters,
					BusCounters::dropped);
			counter("amb.requests.timed-out", "Requests that got no reply in time", counters,
					BusCounters::requestTimeouts);
		}
		for (SubscriptionInfo info : messageBus.subscriptions()) {
			registerGauges(info.id());
		}
		MessageStore store = messageBus.store();
		if (store != null && this.registry.find("amb.wal.pending").gauge() == null) {
			Gauge.builder("amb.wal.pending", store, (wal) -> wal.health().pending())
				.description("Messages in the write-ahead log not yet finished with")
				.register(this.registry);
			Gauge.builder("amb.wal.bytes.used", store, (wal) -> wal.health().bytesUsed())
				.description("Bytes the write-ahead log's segments take")
				.baseUnit("bytes")
				.register(this.registry);
		}
	}

	/**
	 * The timer of the write-ahead log's forces, fed by the log's writer thread.
	 * @param registry the registry
	 * @return the timer
	 */
	public static Timer fsyncTimer(MeterRegistry registry) {
		return Timer.builder("amb.wal.fsync")
			.description("Time the write-ahead log took to force what it wrote to the disk")
			.register(registry);
	}

	private void counter(String name, String description, BusCounters counters, ToDoubleFunction<BusCounters> value) {
		FunctionCounter.builder(name, counters, value).description(description).register(this.registry);
	}

	private void registerGauges(String subscriptionId) {
		if (!this.gaugedSubscriptions.add(subscriptionId)) {
			return;
		}
		for (Priority priority : Priority.values()) {
			int lane = priority.lane();
			Gauge.builder("amb.queue.depth", this, (metrics) -> metrics.laneDepth(subscriptionId, lane))
				.description("Messages waiting in a subscription's queue, per lane")
				.tags(Tags.of("subscription", subscriptionId, "lane", priority.wireName()))
				.register(this.registry);
		}
		Gauge.builder("amb.queue.fill", this, (metrics) -> metrics.fillRatio(subscriptionId))
			.description("Messages waiting over the queue's capacity, 0 to 1")
			.tags(Tags.of("subscription", subscriptionId))
			.register(this.registry);
	}

	private double laneDepth(String subscriptionId, int lane) {
		ConsumerState state = state(subscriptionId);
		if (state == null || lane >= state.laneDepths().length || state.laneDepths()[lane] < 0) {
			return Double.NaN;
		}
		return state.laneDepths()[lane];
	}

	private double fillRatio(String subscriptionId) {
		ConsumerState state = state(subscriptionId);
		return (state != null && state.fillRatio() >= 0) ? state.fillRatio() : Double.NaN;
	}

	// One snapshot of every subscription serves all gauges of a scrape.
	private ConsumerState state(String subscriptionId) {
		long now = System.currentTimeMillis();
		if (now - this.snapshotTime > SNAPSHOT_MILLIS) {
			DefaultMessageBus messageBus = this.bus.getIfAvailable();
			if (messageBus != null) {
				List<SubscriptionInfo> infos = messageBus.subscriptions();
				Map<String, ConsumerState> states = new ConcurrentHashMap<>();
				infos.forEach((info) -> states.put(info.id(), info.state()));
				this.snapshot = states;
			}
			this.snapshotTime = now;
		}
		return this.snapshot.get(subscriptionId);
	}

	@Override
	public void start() {
		bindAll();
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		// After the listener registry, so that the listeners' subscriptions get their gauges.
		return Integer.MAX_VALUE - 99;
	}

}
