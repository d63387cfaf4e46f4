package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;

import dev.amb.core.AmbException;
import dev.amb.core.Priority;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.DeliveryHandler;

/**
 * One subscription on Kafka: {@code concurrency} consumers in one consumer group, the AMB group's
 * for a group subscription, a single-use one for a broadcast subscription.
 */
final class KafkaSubscription implements BrokerConsumer {

	private static final System.Logger logger = System.getLogger(KafkaSubscription.class.getName());

	private final KafkaBrokerAdapter adapter;

	private final ConsumerSpec spec;

	private final String groupId;

	private final List<KafkaConsumerWorker> workers = new ArrayList<>();

	private final List<Thread> threads = new ArrayList<>();

	private volatile boolean paused;

	private volatile boolean closing;

	private volatile boolean abandoned;

	KafkaSubscription(KafkaBrokerAdapter adapter, ConsumerSpec spec, DeliveryHandler handler) {
		this.adapter = adapter;
		this.spec = spec;
		String prefix = adapter.settings().getGroupPrefix();
		this.groupId = spec.isBroadcast()
				? prefix + "broadcast." + spec.id() + "." + UUID.randomUUID().toString().replace("-", "")
				: prefix + spec.group() + "@" + spec.pattern().pattern();
		for (int i = 0; i < spec.concurrency(); i++) {
			String clientSuffix = spec.id() + "-" + (i + 1);
			KafkaConsumerWorker worker = new KafkaConsumerWorker(this, handler,
					adapter.consumerConfig(this.groupId, clientSuffix, spec.pattern().isWildcard()));
			Thread thread = new Thread(worker, "amb-kafka-" + clientSuffix);
			thread.setDaemon(true);
			this.workers.add(worker);
			this.threads.add(thread);
		}
	}

	/** Starts the consumers and waits until each has its first partition assignment. */
	void start() {
		this.threads.forEach(Thread::start);
		long deadline = System.nanoTime() + this.adapter.settings().getSubscribeTimeout().toNanos();
		for (KafkaConsumerWorker worker : this.workers) {
			try {
				long left = deadline - System.nanoTime();
				if (!worker.awaitAssignment(Math.max(left, 0), TimeUnit.NANOSECONDS)) {
					throw new AmbException("Subscription '" + this.spec.id() + "' on '" + this.spec.pattern().pattern()
							+ "' got no partition assignment from Kafka within "
							+ this.adapter.settings().getSubscribeTimeout() + " (consumer group '" + this.groupId + "')");
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AmbException("Interrupted while subscribing '" + this.spec.id() + "'", ex);
			}
			if (worker.failure() != null) {
				throw new AmbException("Subscription '" + this.spec.id() + "' on '" + this.spec.pattern().pattern()
						+ "' could not start: " + worker.failure().getMessage(), worker.failure());
			}
		}
	}

	KafkaBrokerAdapter adapter() {
		return this.adapter;
	}

	ConsumerSpec spec() {
		return this.spec;
	}

	boolean isPaused() {
		return this.paused;
	}

	boolean isClosing() {
		return this.closing;
	}

	/** @return whether closing gave up on a handler: whatever it finishes now is not committed */
	boolean isAbandoned() {
		return this.abandoned;
	}

	@Override
	public void pause() {
		this.paused = true;
	}

	@Override
	public void resume() {
		this.paused = false;
	}

	@Override
	public ConsumerState state() {
		long[] depths = new long[Priority.laneCount()];
		int inFlight = 0;
		long lastDelivery = 0;
		for (KafkaConsumerWorker worker : this.workers) {
			long[] lags = worker.laneLags();
			for (int lane = 0; lane < depths.length; lane++) {
				depths[lane] = (depths[lane] < 0 || lags[lane] < 0) ? -1 : depths[lane] + lags[lane];
			}
			inFlight += worker.isHandling() ? 1 : 0;
			lastDelivery = Math.max(lastDelivery, worker.lastDeliveryMillis());
		}
		return new ConsumerState(depths, -1, -1, inFlight, this.paused, lastDelivery);
	}

	@Override
	public void close(Duration drainTimeout) {
		if (this.closing) {
			return;
		}
		this.closing = true;
		long deadline = System.nanoTime() + drainTimeout.toNanos()
				+ 2 * this.adapter.settings().getPollTimeout().toNanos();
		boolean allStopped = true;
		for (Thread thread : this.threads) {
			try {
				long left = deadline - System.nanoTime();
				if (left > 0) {
					thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
				}
				allStopped &= !thread.isAlive();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				allStopped = false;
				break;
			}
		}
		if (!allStopped) {
			this.abandoned = true;
			logger.log(System.Logger.Level.WARNING, "Subscription '" + this.spec.id() + "' still has a handler running "
					+ "after the drain timeout of " + drainTimeout + "; its record stays uncommitted");
			if (!this.spec.isBroadcast()) {
				removeStuckMembers();
			}
		}
		this.adapter.removed(this);
		if (allStopped && this.spec.isBroadcast() && this.adapter.settings().isDeleteBroadcastGroups()) {
			try {
				this.adapter.admin().deleteConsumerGroups(List.of(this.groupId));
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.DEBUG, () -> "Could not delete consumer group '" + this.groupId + "'", ex);
			}
		}
	}

	/**
	 * A consumer whose thread is stuck in a handler cannot leave its group itself, and the group
	 * would wait for it before giving its partitions to anyone. So the members are removed through
	 * the admin client; the live ones rejoin at once, and the stuck record goes to one of them.
	 */
	private void removeStuckMembers() {
		try {
			this.adapter.admin()
				.removeMembersFromConsumerGroup(this.groupId, new RemoveMembersFromConsumerGroupOptions())
				.all()
				.get(this.adapter.settings().getOperationTimeout().toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.WARNING, "Could not remove the stuck members of consumer group '"
					+ this.groupId + "'; its partitions move once the handler returns", ex);
		}
	}

	@Override
	public String toString() {
		return "KafkaSubscription[id=" + this.spec.id() + ", group=" + this.groupId + "]";
	}

}
