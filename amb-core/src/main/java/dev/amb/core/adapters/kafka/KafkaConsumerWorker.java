package dev.amb.core.adapters.kafka;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.OptionalLong;

import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

import dev.amb.core.Priority;
import dev.amb.core.Topics;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * One consumer of a subscription, on its own thread: polls, hands each record to the bus in
 * partition order, commits what the bus acknowledged.
 * <p>
 * Priority: what a poll returns goes into a small buffer per partition; a partition holding
 * {@value #PARTITION_BUFFER_LIMIT} records is paused until some are handled, so memory stays
 * bounded while fetching overlaps handling. The next record handled comes from the highest lane with buffered records. Before a
 * lower lane is served, the consumer checks whether a higher lane still has records on the broker
 * (the lag known from fetching, or, after more than 10 ms away from poll, end offsets read from the
 * broker: waited for if a single delivery took that long, else taken between records once they
 * arrive) and, if so, polls for them first. Starvation bound: after {@code starvationBound} records of higher lanes (or
 * deferring polls) while a lower lane's records wait, one record of the lowest waiting lane goes.
 * <p>
 * Start positions: in a consumer's first assignment, a partition without a committed offset
 * starts at its end (a new subscription sees what is published from now on) and that position is
 * committed at once, so a group's backlog is kept from then on even if no member is running.
 * Partitions assigned later without a committed offset (topics created afterwards that match a
 * wildcard) start at their beginning.
 */
final class KafkaConsumerWorker implements Runnable, ConsumerRebalanceListener {

	private static final System.Logger logger = System.getLogger(KafkaConsumerWorker.class.getName());

	private static final int LANES = Priority.laneCount();

	/**
	 * How long a consumer may be away from poll (handling records) before, to serve a lower lane, it
	 * asks the broker whether a higher lane has records: the lag it knows comes from the last fetch
	 * it read, which may then predate them.
	 */
	private static final long END_REFRESH_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	/**
	 * How long the consumer handles buffered records before it polls again for higher lanes. Not
	 * much shorter: each poll takes up to {@code max.poll.records} more, and a buffer that outgrows
	 * the handler reaches {@link #PARTITION_BUFFER_LIMIT}, whose pause and resume can leave the
	 * partition waiting for a fetch parked on the broker for the others (up to
	 * {@code fetch.max.wait.ms}).
	 */
	private static final long DRAIN_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

	/**
	 * Records held per partition before it is paused, which bounds memory. Only slow handlers reach
	 * it: resuming a paused partition waits for the fetch in flight for the others.
	 */
	private static final int PARTITION_BUFFER_LIMIT = 512;

	private final KafkaSubscription subscription;

	private final KafkaBrokerAdapter adapter;

	private final DeliveryHandler handler;

	private final Map<String, Object> config;

	private final KafkaTopicNames names;

	private final Duration pollTimeout;

	private final Duration operationTimeout;

	private final int starvationBound;

	private final CountDownLatch assigned = new CountDownLatch(1);

	private final Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();

	private final Set<TopicPartition> assignment = new HashSet<>();

	private final Map<String, KafkaTopic> kafkaTopics = new HashMap<>();

	private final KafkaRecords.Reader reader = new KafkaRecords.Reader();

	private KafkaConsumer<byte[], byte[]> consumer;

	private boolean firstAssignment = true;

	/** Fetched records not handled yet, per partition, in offset order. */
	private final Map<TopicPartition, PartitionBuffer> buffers = new HashMap<>();

	@SuppressWarnings("unchecked")
	private final List<PartitionBuffer>[] bufferedPartitions = new List[LANES];

	private final int[] bufferedPerLane = new int[LANES];

	private int buffered;

	private int rotation;

	private int servedWhileLowerWaits;

	private boolean waitForHigherLane;

	/** Polls so far: a higher lane's backlog is checked once per poll and lane. */
	private long polls;

	private final long[] backlogCheckedAtPoll = { -1, -1, -1 };

	private final boolean[] backlogAnswer = new boolean[LANES];

	private long lastPollEnd = System.nanoTime();

	/** How long the consumer was away from poll before the latest one: handling records, mostly. */
	private long awayNanos;

	/** The longest single delivery since the latest poll, and before it. */
	private long longestDeliveryNanos;

	private long awayLongestDeliveryNanos;

	/** End offsets asked for without waiting, or null; the poll at which they were asked for. */
	private KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> pendingEnds;

	private long endsRequestedAtPoll = -1;

	private boolean appliedUserPause;

	private boolean pauseStateDirty = true;

	private volatile Throwable failure;

	private volatile boolean handling;

	private volatile long lastDeliveryMillis;

	private volatile long[] laneLags = new long[LANES];

	private long lagsComputedAt;

	/** End offsets read from the broker, for partitions whose lag the consumer does not know yet. */
	private final Map<TopicPartition, Long> knownEnds = new HashMap<>();

	KafkaConsumerWorker(KafkaSubscription subscription, DeliveryHandler handler, Map<String, Object> config) {
		this.subscription = subscription;
		this.adapter = subscription.adapter();
		this.handler = handler;
		this.config = config;
		this.names = this.adapter.names();
		this.pollTimeout = this.adapter.settings().getPollTimeout();
		this.operationTimeout = this.adapter.settings().getOperationTimeout();
		this.starvationBound = this.adapter.settings().getStarvationBound();
		for (int lane = 0; lane < LANES; lane++) {
			this.bufferedPartitions[lane] = new ArrayList<>();
		}
	}

	boolean awaitAssignment(long timeout, TimeUnit unit) throws InterruptedException {
		return this.assigned.await(timeout, unit);
	}

	Throwable failure() {
		return this.failure;
	}

	boolean isHandling() {
		return this.handling;
	}

	long lastDeliveryMillis() {
		return this.lastDeliveryMillis;
	}

	long[] laneLags() {
		return this.laneLags;
	}

	@Override
	public void run() {
		try {
			this.consumer = new KafkaConsumer<>(this.config);
			ConsumerSpec spec = this.subscription.spec();
			if (spec.pattern().isWildcard()) {
				this.consumer.subscribe(this.names.regex(spec.pattern(), spec.lanes()), this);
			}
			else {
				this.consumer.subscribe(this.names.kafkaTopics(spec.pattern().pattern(), spec.lanes()), this);
			}
			pollLoop();
		}
		catch (Throwable ex) {
			this.failure = ex;
			logger.log(System.Logger.Level.ERROR, "Kafka consumer of " + this.subscription + " stopped", ex);
		}
		finally {
			this.assigned.countDown();
			closeConsumer();
		}
	}

	private void pollLoop() {
		int consecutiveFailures = 0;
		while (!this.subscription.isClosing()) {
			try {
				applyPauseState();
				boolean wait = this.buffered == 0 || this.subscription.isPaused() || this.waitForHigherLane;
				long pollStart = System.nanoTime();
				this.awayNanos = pollStart - this.lastPollEnd;
				this.awayLongestDeliveryNanos = this.longestDeliveryNanos;
				this.longestDeliveryNanos = 0;
				ConsumerRecords<byte[], byte[]> records = this.consumer.poll(wait ? this.pollTimeout : Duration.ZERO);
				this.lastPollEnd = System.nanoTime();
				this.polls++;
				if (!records.isEmpty()) {
					buffer(records);
				}
				this.waitForHigherLane = false;
				if (this.buffered > 0 && !this.subscription.isPaused()) {
					drain();
				}
				commitAsync();
				updateLags();
				consecutiveFailures = 0;
			}
			catch (RuntimeException ex) {
				if (this.subscription.isClosing()) {
					return;
				}
				consecutiveFailures++;
				logger.log(System.Logger.Level.WARNING, "Kafka consumer of " + this.subscription
						+ " failed to poll (attempt " + consecutiveFailures + "); retrying", ex);
				KafkaBrokerAdapter.sleep(Math.min(5000, 100L * consecutiveFailures));
			}
		}
	}

	private void buffer(ConsumerRecords<byte[], byte[]> records) {
		for (TopicPartition partition : records.partitions()) {
			List<ConsumerRecord<byte[], byte[]>> batch = records.records(partition);
			PartitionBuffer buffer = this.buffers.get(partition);
			if (buffer == null) {
				buffer = new PartitionBuffer(partition, kafkaTopic(partition.topic()), batch.size());
				this.buffers.put(partition, buffer);
				this.bufferedPartitions[buffer.lane].add(buffer);
			}
			ArrayDeque<ConsumerRecord<byte[], byte[]>> queue = buffer.records;
			queue.addAll(batch);
			this.buffered += batch.size();
			this.bufferedPerLane[buffer.lane] += batch.size();
			if (queue.size() >= PARTITION_BUFFER_LIMIT) {
				// Enough of it here: fetch more once some is handled.
				this.pauseStateDirty = true;
			}
		}
	}

	/** Handles buffered records, best lane first, for a while; then the loop polls again. */
	private void drain() {
		long last = System.nanoTime();
		long until = last + DRAIN_SLICE_NANOS;
		while (this.buffered > 0) {
			if (this.subscription.isClosing() || this.subscription.isPaused()) {
				return;
			}
			int lane = pickLane();
			if (lane < 0) {
				this.waitForHigherLane = true;
				return;
			}
			List<PartitionBuffer> candidates = this.bufferedPartitions[lane];
			PartitionBuffer buffer = (candidates.size() == 1) ? candidates.get(0)
					: candidates.get(Math.floorMod(this.rotation++, candidates.size()));
			ArrayDeque<ConsumerRecord<byte[], byte[]>> queue = buffer.records;
			ConsumerRecord<byte[], byte[]> record = queue.peekFirst();
			Disposition disposition = deliver(record, buffer.topic);
			if (this.subscription.isAbandoned()) {
				// Closing gave up on this handler and the group moved on: commit nothing.
				return;
			}
			if (disposition == Disposition.ACK) {
				queue.pollFirst();
				this.buffered--;
				this.bufferedPerLane[lane]--;
				// Kept with the buffer, not put in toCommit: a map entry per record is work the
				// commit, once per slice, does instead (see flushAcknowledged).
				buffer.acknowledged = record.offset() + 1;
				if (queue.isEmpty()) {
					unbuffer(buffer.partition);
				}
				else if (queue.size() == PARTITION_BUFFER_LIMIT - 1) {
					this.pauseStateDirty = true;
				}
			}
			else {
				// Not finished with: fetch it again later rather than hold it here.
				unbuffer(buffer.partition);
				this.consumer.seek(buffer.partition, record.offset());
			}
			long now = System.nanoTime();
			this.longestDeliveryNanos = Math.max(this.longestDeliveryNanos, now - last);
			last = now;
			if (this.pendingEnds != null && this.pendingEnds.isDone()) {
				foldPendingEnds();
			}
			if (now - until > 0) {
				return;
			}
		}
	}

	/**
	 * The lane to serve next, or -1 to poll first because a higher lane has records on the broker.
	 */
	private int pickLane() {
		int highest = -1;
		int lowest = -1;
		for (int lane = 0; lane < LANES; lane++) {
			if (this.bufferedPerLane[lane] > 0) {
				if (highest < 0) {
					highest = lane;
				}
				lowest = lane;
			}
		}
		if (lowest > highest && this.servedWhileLowerWaits >= this.starvationBound) {
			this.servedWhileLowerWaits = 0;
			return lowest;
		}
		if (highest > 0 && higherLaneHasBacklog(highest)) {
			if (this.servedWhileLowerWaits++ < this.starvationBound) {
				return -1;
			}
			this.servedWhileLowerWaits = 0;
			return highest;
		}
		if (lowest > highest) {
			this.servedWhileLowerWaits++;
		}
		return highest;
	}

	private void unbuffer(TopicPartition partition) {
		PartitionBuffer buffer = this.buffers.remove(partition);
		if (buffer == null) {
			return;
		}
		flushAcknowledged(buffer);
		ArrayDeque<ConsumerRecord<byte[], byte[]>> queue = buffer.records;
		int lane = buffer.lane;
		this.buffered -= queue.size();
		this.bufferedPerLane[lane] -= queue.size();
		this.bufferedPartitions[lane].remove(buffer);
		if (queue.size() >= PARTITION_BUFFER_LIMIT) {
			this.pauseStateDirty = true;
		}
	}

	private Disposition deliver(ConsumerRecord<byte[], byte[]> record, KafkaTopic topic) {
		Envelope envelope;
		try {
			if (topic.invalid() != null) {
				throw new MalformedEnvelopeException("Kafka topic '" + record.topic() + "' is not the topic of an AMB topic: "
						+ topic.invalid());
			}
			envelope = this.reader.read(record, topic.ambTopic(), topic.lane());
		}
		catch (MalformedEnvelopeException ex) {
			return deadLetterUnreadable(record, topic.ambTopic(), KafkaRecords.headers(record),
					KafkaRecords.value(record), ex);
		}
		this.lastDeliveryMillis = System.currentTimeMillis();
		this.handling = true;
		try {
			return this.handler.deliver(envelope);
		}
		finally {
			this.handling = false;
		}
	}

	private Disposition deadLetterUnreadable(ConsumerRecord<byte[], byte[]> record, String ambTopic,
			Map<String, String> headers, byte[] body, MalformedEnvelopeException reason) {
		Envelope deadLetter = WireHeaders.unreadable(ambTopic, headers, body, reason);
		try {
			this.adapter.send(deadLetter).get(this.operationTimeout.toMillis(), TimeUnit.MILLISECONDS);
			logger.log(System.Logger.Level.WARNING, () -> "Unreadable record " + record.topic() + "-"
					+ record.partition() + "@" + record.offset() + " sent to '" + deadLetter.topic() + "': "
					+ reason.getMessage());
			return Disposition.ACK;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return Disposition.REQUEUE;
		}
		catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException ex) {
			logger.log(System.Logger.Level.ERROR, "Unreadable record " + record.topic() + "-" + record.partition() + "@"
					+ record.offset() + " could not be dead-lettered; it stays uncommitted", ex);
			return Disposition.REQUEUE;
		}
	}

	private int lane(TopicPartition partition) {
		return kafkaTopic(partition.topic()).lane().lane();
	}

	/** What a Kafka topic's name says, worked out once per topic: it is asked for every record. */
	private KafkaTopic kafkaTopic(String name) {
		KafkaTopic topic = this.kafkaTopics.get(name);
		if (topic == null) {
			String ambTopic = this.names.ambTopic(name);
			String invalid = null;
			try {
				Topics.validateTopic(ambTopic);
			}
			catch (RuntimeException ex) {
				invalid = ex.getMessage();
			}
			topic = new KafkaTopic(ambTopic, this.names.lane(name), invalid);
			this.kafkaTopics.put(name, topic);
		}
		return topic;
	}

	/** Whether a lane above the given one still has records to fetch; the lag of a partition not fetched lately comes from its end offset. */
	private boolean higherLaneHasBacklog(int lane) {
		if (this.backlogCheckedAtPoll[lane] == this.polls) {
			return this.backlogAnswer[lane];
		}
		boolean answer = checkHigherLaneBacklog(lane);
		this.backlogCheckedAtPoll[lane] = this.polls;
		this.backlogAnswer[lane] = answer;
		return answer;
	}

	private boolean checkHigherLaneBacklog(int lane) {
		boolean higherAssigned = false;
		for (TopicPartition partition : this.assignment) {
			higherAssigned |= lane(partition) < lane;
		}
		if (!higherAssigned) {
			return false;
		}
		// The lag the consumer knows is as recent as its last poll, which reads the answer to the fetch
		// it keeps in flight for the partitions it holds nothing of (the higher lanes' among them);
		// the broker answers as soon as one of them gets a record. After a long time away from poll
		// (a slow handler) that answer may be waiting unread: ask the broker instead.
		if (this.awayNanos > END_REFRESH_NANOS) {
			if (this.awayLongestDeliveryNanos > END_REFRESH_NANOS) {
				// A slow handler: a higher-lane record may well have come meanwhile, and the next
				// record may take as long again. Worth the round trip before choosing it.
				refreshEnds(this.assignment);
			}
			else {
				// Many quick deliveries: ask without waiting (a blocking round trip per slice would
				// cost fast handlers more than their work); the answer is taken in between records
				// as soon as it is there.
				requestEnds();
			}
		}
		for (TopicPartition partition : this.assignment) {
			if (lane(partition) < lane && hasBacklog(partition)) {
				return true;
			}
		}
		return false;
	}

	private boolean hasBacklog(TopicPartition partition) {
		OptionalLong lag = this.consumer.currentLag(partition);
		if (lag.isPresent() && lag.getAsLong() > 0) {
			return true;
		}
		Long end = this.knownEnds.get(partition);
		return end != null && end > this.consumer.position(partition, this.operationTimeout);
	}

	private void requestEnds() {
		if (this.pendingEnds != null || this.endsRequestedAtPoll == this.polls || this.assignment.isEmpty()) {
			return;
		}
		this.endsRequestedAtPoll = this.polls;
		try {
			this.pendingEnds = this.adapter.listOffsetsAsync(this.assignment, OffsetSpec.latest());
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.DEBUG, () -> "Could not ask for end offsets for " + this.subscription, ex);
		}
	}

	/** Takes the end offsets asked for without waiting, which are there; the lanes are checked again. */
	private void foldPendingEnds() {
		KafkaFuture<Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo>> ends = this.pendingEnds;
		this.pendingEnds = null;
		try {
			ends.getNow(Map.of()).forEach((partition, info) -> {
				if (this.assignment.contains(partition)) {
					this.knownEnds.put(partition, info.offset());
				}
			});
		}
		catch (InterruptedException | ExecutionException | RuntimeException ex) {
			logger.log(System.Logger.Level.DEBUG, () -> "Could not read end offsets for " + this.subscription, ex);
			return;
		}
		Arrays.fill(this.backlogCheckedAtPoll, -1);
	}

	private void refreshEnds(Collection<TopicPartition> partitions) {
		if (partitions.isEmpty()) {
			return;
		}
		try {
			// Through the admin client: the consumer's own connection may be held by a fetch waiting for data.
			this.knownEnds.putAll(this.adapter.listOffsets(partitions, OffsetSpec.latest()));
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.DEBUG, () -> "Could not read end offsets for " + this.subscription, ex);
		}
	}

	private int bufferedOf(TopicPartition partition) {
		PartitionBuffer buffer = this.buffers.get(partition);
		return (buffer != null) ? buffer.records.size() : 0;
	}

	private void applyPauseState() {
		boolean userPause = this.subscription.isPaused();
		if (!this.pauseStateDirty && userPause == this.appliedUserPause) {
			return;
		}
		Set<TopicPartition> paused = this.consumer.paused();
		List<TopicPartition> pause = new ArrayList<>();
		List<TopicPartition> resume = new ArrayList<>();
		for (TopicPartition partition : this.assignment) {
			boolean shouldPause = userPause || bufferedOf(partition) >= PARTITION_BUFFER_LIMIT;
			if (shouldPause && !paused.contains(partition)) {
				pause.add(partition);
			}
			else if (!shouldPause && paused.contains(partition)) {
				resume.add(partition);
			}
		}
		// Only changes: resuming a partition that is not paused would disturb its fetch in flight.
		if (!pause.isEmpty()) {
			this.consumer.pause(pause);
		}
		if (!resume.isEmpty()) {
			this.consumer.resume(resume);
		}
		if (this.appliedUserPause && !userPause) {
			// Resumed: what piled up meanwhile is not in the fetched lag yet.
			refreshEnds(this.assignment);
		}
		this.appliedUserPause = userPause;
		this.pauseStateDirty = false;
	}

	private void updateLags() {
		long now = System.currentTimeMillis();
		if (now - this.lagsComputedAt < 200) {
			return;
		}
		this.lagsComputedAt = now;
		long[] lags = new long[LANES];
		for (TopicPartition partition : this.assignment) {
			OptionalLong lag = this.consumer.currentLag(partition);
			int lane = lane(partition);
			if (lags[lane] >= 0) {
				lags[lane] = lag.isPresent() ? lags[lane] + lag.getAsLong() : -1;
			}
		}
		for (int lane = 0; lane < LANES; lane++) {
			if (lags[lane] >= 0) {
				lags[lane] += this.bufferedPerLane[lane];
			}
		}
		this.laneLags = lags;
	}

	/** Moves the offset a buffer's handled records reached into the offsets to commit. */
	private void flushAcknowledged(PartitionBuffer buffer) {
		if (buffer.acknowledged >= 0) {
			this.toCommit.put(buffer.partition, new OffsetAndMetadata(buffer.acknowledged));
			buffer.acknowledged = -1;
		}
	}

	private void flushAcknowledged() {
		for (PartitionBuffer buffer : this.buffers.values()) {
			flushAcknowledged(buffer);
		}
	}

	private void commitAsync() {
		flushAcknowledged();
		if (this.toCommit.isEmpty() || this.subscription.isAbandoned()) {
			return;
		}
		Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(this.toCommit);
		this.toCommit.clear();
		this.consumer.commitAsync(offsets, (committed, exception) -> {
			if (exception != null) {
				logger.log(System.Logger.Level.DEBUG, () -> "Commit of " + committed + " for " + this.subscription
						+ " failed; those records may be delivered again", exception);
			}
		});
	}

	private void commitSync(Collection<TopicPartition> partitions) {
		flushAcknowledged();
		if (this.subscription.isAbandoned()) {
			this.toCommit.clear();
			return;
		}
		Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
		for (Iterator<Map.Entry<TopicPartition, OffsetAndMetadata>> it = this.toCommit.entrySet().iterator(); it
			.hasNext();) {
			Map.Entry<TopicPartition, OffsetAndMetadata> entry = it.next();
			if (partitions == null || partitions.contains(entry.getKey())) {
				offsets.put(entry.getKey(), entry.getValue());
				it.remove();
			}
		}
		if (offsets.isEmpty()) {
			return;
		}
		try {
			this.consumer.commitSync(offsets, this.operationTimeout);
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "Commit of " + offsets + " for " + this.subscription
					+ " failed; those records may be delivered again", ex);
		}
	}

	@Override
	public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
		commitSync(partitions);
		partitions.forEach(this::unbuffer);
		this.assignment.removeAll(partitions);
		this.knownEnds.keySet().removeAll(partitions);
		this.pauseStateDirty = true;
	}

	@Override
	public void onPartitionsLost(Collection<TopicPartition> partitions) {
		// Another member owns them now: committing would fail, and the records will be redelivered.
		partitions.forEach(this::unbuffer);
		this.toCommit.keySet().removeAll(partitions);
		this.assignment.removeAll(partitions);
		this.knownEnds.keySet().removeAll(partitions);
		this.pauseStateDirty = true;
	}

	@Override
	public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
		try {
			this.assignment.addAll(partitions);
			if (!partitions.isEmpty()) {
				commitStartPositions(partitions);
				refreshEnds(partitions);
			}
			this.pauseStateDirty = true;
			applyPauseState();
		}
		catch (RuntimeException ex) {
			if (this.firstAssignment) {
				this.failure = ex;
			}
			throw ex;
		}
		finally {
			this.firstAssignment = false;
			this.assigned.countDown();
		}
	}

	private void commitStartPositions(Collection<TopicPartition> partitions) {
		Map<TopicPartition, OffsetAndMetadata> committed = this.consumer.committed(new HashSet<>(partitions),
				this.operationTimeout);
		List<TopicPartition> fresh = new ArrayList<>();
		for (TopicPartition partition : partitions) {
			if (committed.get(partition) == null) {
				fresh.add(partition);
			}
		}
		if (fresh.isEmpty()) {
			return;
		}
		// Resolved now, not lazily at the next fetch: a message published once subscribe returned lies after it.
		Map<TopicPartition, Long> offsets = this.adapter.listOffsets(fresh,
				this.firstAssignment ? OffsetSpec.latest() : OffsetSpec.earliest());
		Map<TopicPartition, OffsetAndMetadata> start = new HashMap<>();
		for (TopicPartition partition : fresh) {
			long offset = offsets.get(partition);
			this.consumer.seek(partition, offset);
			start.put(partition, new OffsetAndMetadata(offset));
		}
		this.consumer.commitSync(start, this.operationTimeout);
	}

	private void closeConsumer() {
		KafkaConsumer<byte[], byte[]> consumer = this.consumer;
		if (consumer == null) {
			return;
		}
		try {
			commitSync(null);
		}
		finally {
			try {
				consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(this.operationTimeout));
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.DEBUG, () -> "Closing the Kafka consumer of " + this.subscription
						+ " failed", ex);
			}
		}
	}

	/**
	 * A Kafka topic's AMB topic and lane.
	 * @param ambTopic the AMB topic
	 * @param lane the lane
	 * @param invalid why the AMB topic is not valid, or null
	 */
	private record KafkaTopic(String ambTopic, Priority lane, String invalid) {
	}

	/**
	 * The fetched, unhandled records of one partition, what its topic says, and the offset up to
	 * which its records were handled since the last commit (-1: none).
	 */
	private static final class PartitionBuffer {

		final TopicPartition partition;

		final KafkaTopic topic;

		final int lane;

		final ArrayDeque<ConsumerRecord<byte[], byte[]>> records;

		long acknowledged = -1;

		PartitionBuffer(TopicPartition partition, KafkaTopic topic, int capacity) {
			this.partition = partition;
			this.topic = topic;
			this.lane = topic.lane().lane();
			this.records = new ArrayDeque<>(capacity);
		}

	}

}
