package dev.amb.core.adapters.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisStreamCommands.XClaimOptions;
import org.springframework.data.redis.connection.stream.ByteRecord;
import org.springframework.data.redis.connection.stream.Consumer;
import org.springframework.data.redis.connection.stream.PendingMessage;
import org.springframework.data.redis.connection.stream.PendingMessages;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;

import dev.amb.core.Priority;
import dev.amb.core.codec.MalformedEnvelopeException;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.ConsumerState;
import dev.amb.core.spi.DeliveryHandler;
import dev.amb.core.spi.Disposition;
import dev.amb.core.spi.Envelope;

/**
 * One subscription on Redis: a reader thread that reads the subscription's streams through its
 * consumer group (higher lanes first), claims entries left pending too long, and hands entries
 * to workers by key hash, so that one key's entries are handled in order by one worker; the
 * workers run the bus's pipeline and acknowledge through the adapter's writer.
 */
final class RedisConsumer implements BrokerConsumer {

	private static final System.Logger logger = System.getLogger(RedisConsumer.class.getName());

	private static final StreamOffset<byte[]>[] NO_OFFSETS = offsets(List.of());

	/**
	 * Entries a worker takes from its buffer at once. One: the lanes are compared again before each
	 * entry, so a higher-lane entry that arrives while the worker is busy goes next.
	 */
	private static final int CHUNK = 1;

	/** Handlers longer than this let the reader catch up before the next entry is chosen. */
	private static final long CATCH_UP_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

	private final RedisBrokerAdapter adapter;

	private final RedisBrokerSettings settings;

	private final ConsumerSpec spec;

	private final DeliveryHandler handler;

	private final String groupName;

	private final Consumer consumer;

	private final Worker[] workers;

	private final Thread reader;

	private final Set<String> inFlight = ConcurrentHashMap.newKeySet();

	private final AtomicInteger handling = new AtomicInteger();

	private final AtomicBoolean closing = new AtomicBoolean();

	private final Set<String> knownTopics = new HashSet<>();

	private final Map<String, String> claimCursors = new HashMap<>();

	private final List<StreamRef> streams = new ArrayList<>();

	private final Map<String, StreamRef> streamsByName = new HashMap<>();

	private final StreamReadOptions probeOptions;

	private final StreamReadOptions blockingOptions;

	private final StreamReadOptions shortBlockingOptions;

	private final long claimIntervalNanos;

	private StreamOffset<byte[]>[][] laneOffsets;

	private StreamOffset<byte[]>[] allOffsets = NO_OFFSETS;

	private int lowestLane;

	private RedisConnection connection;

	private String startId;

	private long nextRefresh;

	private long nextClaim;

	private int servedAhead;

	private int nextWorker;

	private StreamRef lastStream;

	private volatile boolean running = true;

	private volatile boolean paused;

	private volatile boolean draining;

	private volatile boolean stopNow;

	private volatile long lastDeliveryMillis;

	private final Object readProgress = new Object();

	private volatile long readsCompleted;

	private volatile long readsStarted;

	private volatile boolean catchUpRequested;

	private volatile long fullReadsStarted;

	private volatile long fullReadsCompleted;

	private boolean fullReadPending;

	private volatile boolean awaitingRead;

	@SuppressWarnings("unchecked")
	RedisConsumer(RedisBrokerAdapter adapter, ConsumerSpec spec, DeliveryHandler handler) {
		this.adapter = adapter;
		this.settings = adapter.settings();
		this.spec = spec;
		this.handler = handler;
		String unique = UUID.randomUUID().toString().substring(0, 8);
		this.groupName = spec.isBroadcast() ? "amb-broadcast-" + spec.id() + "-" + unique : spec.group();
		this.consumer = Consumer.from(this.groupName,
				"amb-" + ProcessHandle.current().pid() + "-" + spec.id() + "-" + unique);
		this.probeOptions = StreamReadOptions.empty().count(this.settings.batchSize());
		this.blockingOptions = this.probeOptions.block(this.settings.blockTimeout());
		this.shortBlockingOptions = this.probeOptions.block(Duration.ofMillis(1));
		this.claimIntervalNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(100),
				this.settings.claimTimeout().toNanos() / 2);
		this.laneOffsets = new StreamOffset[Priority.laneCount()][];
		Arrays.fill(this.laneOffsets, NO_OFFSETS);
		this.workers = new Worker[spec.concurrency()];
		for (int i = 0; i < this.workers.length; i++) {
			this.workers[i] = new Worker(new LaneBuffer(this.settings.batchSize(), this.settings.starvationBound()),
					"amb-redis-" + spec.id() + "-" + (i + 1));
		}
		this.reader = new Thread(this::read, "amb-redis-" + spec.id() + "-reader");
		this.reader.setDaemon(true);
	}

	/** Creates the consumer groups, so that what is published from now on reaches this subscription, then starts. */
	void start() {
		try {
			RedisConnection connection = connection();
			Long now = connection.serverCommands().time();
			this.startId = ((now != null) ? now : System.currentTimeMillis()) + "-0";
			if (this.spec.pattern().isWildcard()) {
				refreshTopics(ReadOffset.latest());
			}
			else {
				addTopic(this.spec.pattern().pattern(), ReadOffset.latest());
			}
			long now2 = System.nanoTime();
			this.nextRefresh = now2 + this.settings.topicRefreshInterval().toNanos();
			this.nextClaim = now2 + this.claimIntervalNanos;
		}
		catch (RuntimeException ex) {
			releaseConnection();
			throw ex;
		}
		for (Worker worker : this.workers) {
			worker.thread.start();
		}
		this.reader.start();
	}

	// Reader thread ------------------------------------------------------------------------

	private void read() {
		int failures = 0;
		while (this.running) {
			try {
				if (this.paused) {
					Thread.sleep(20);
					continue;
				}
				long now = System.nanoTime();
				if (this.spec.pattern().isWildcard() && now - this.nextRefresh >= 0) {
					refreshTopics(ReadOffset.from(this.startId));
					this.nextRefresh = now + this.settings.topicRefreshInterval().toNanos();
				}
				if (now - this.nextClaim >= 0) {
					claim();
					this.nextClaim = now + this.claimIntervalNanos;
				}
				List<ByteRecord> records = poll();
				if (records != null && !records.isEmpty()) {
					try {
						dispatch(null, records);
					}
					finally {
						readCompleted();
						fullReadCompleted();
					}
				}
				failures = 0;
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException ex) {
				if (!this.running) {
					return;
				}
				failures++;
				onReadFailure(ex, failures);
			}
		}
	}

	/** Reads the highest lane that has entries; after {@code starvationBound} such reads, or when idle, every lane. */
	private List<ByteRecord> poll() throws InterruptedException {
		if (this.allOffsets.length == 0) {
			Thread.sleep(Math.min(this.settings.blockTimeout().toMillis(),
					this.settings.topicRefreshInterval().toMillis()));
			return null;
		}
		if (this.catchUpRequested) {
			// A worker waits for a read of every lane that started after it asked (see catchUp).
			this.catchUpRequested = false;
			this.fullReadsStarted++;
			List<ByteRecord> records = xReadGroup(this.probeOptions, this.allOffsets, false);
			this.fullReadPending = true;
			if (records == null || records.isEmpty()) {
				fullReadCompleted();
			}
			return records;
		}
		if (this.servedAhead < this.settings.starvationBound()) {
			for (int lane = 0; lane < this.lowestLane; lane++) {
				StreamOffset<byte[]>[] offsets = this.laneOffsets[lane];
				if (offsets.length == 0) {
					continue;
				}
				List<ByteRecord> records = xReadGroup(this.probeOptions, offsets, false);
				if (records != null && !records.isEmpty()) {
					this.servedAhead++;
					return records;
				}
			}
		}
		this.servedAhead = 0;
		// Redis answers streams in the order asked, and allOffsets is sorted by lane: highest first.
		// While entries wait in the buffers, block only briefly, so that a worker choosing by lane
		// after a long handler soon gets a read that sees what is in Redis (see catchUp).
		return xReadGroup(entriesWaiting() ? this.shortBlockingOptions : this.blockingOptions, this.allOffsets, true);
	}

	/** One XREADGROUP, counted so that a worker can wait for the reader to catch up (see {@link #catchUp}). */
	private List<ByteRecord> xReadGroup(StreamReadOptions options, StreamOffset<byte[]>[] offsets, boolean blocking) {
		this.readsStarted++;
		List<ByteRecord> records;
		try {
			records = connection().streamCommands().xReadGroup(this.consumer, options, offsets);
		}
		catch (RuntimeException ex) {
			readCompleted();
			throw ex;
		}
		if (records == null || records.isEmpty()) {
			readCompleted();
		}
		return records;
	}

	/**
	 * Claims entries pending longer than the claim timeout (their reader died, or the bus asked for
	 * redelivery), a page per stream per pass: the cursor walks the whole pending list, so entries
	 * that keep coming back (say, their acknowledgements are lost) never hide the ones behind them.
	 */
	private void claim() throws InterruptedException {
		Duration timeout = this.settings.claimTimeout();
		for (StreamRef stream : new ArrayList<>(this.streams)) {
			String after = this.claimCursors.get(stream.name());
			Range<String> range = (after != null) ? Range.rightUnbounded(Range.Bound.exclusive(after)) : Range.unbounded();
			PendingMessages pending = connection().streamCommands()
				.xPending(stream.key(), this.groupName, range, (long) this.settings.batchSize(), timeout);
			if (pending == null || pending.isEmpty()) {
				this.claimCursors.remove(stream.name());
				continue;
			}
			if (pending.size() < this.settings.batchSize()) {
				this.claimCursors.remove(stream.name());
			}
			else {
				this.claimCursors.put(stream.name(), pending.get(pending.size() - 1).getIdAsString());
			}
			List<RecordId> ids = new ArrayList<>(pending.size());
			for (PendingMessage message : pending) {
				if (!this.inFlight.contains(localKey(stream, message.getIdAsString()))) {
					ids.add(message.getId());
				}
			}
			if (ids.isEmpty()) {
				continue;
			}
			List<ByteRecord> claimed = connection().streamCommands()
				.xClaim(stream.key(), this.groupName, this.consumer.getName(),
						XClaimOptions.minIdle(timeout).ids(ids.toArray(new RecordId[0])));
			if (claimed != null && !claimed.isEmpty()) {
				logger.log(System.Logger.Level.INFO, () -> "Subscription '" + this.spec.id() + "' claimed "
						+ claimed.size() + " entr(y/ies) of '" + stream.name() + "' pending longer than " + timeout
						+ " in group '" + this.groupName + "'; delivering them again");
				dispatch(stream, claimed);
			}
		}
	}

	private void dispatch(StreamRef knownStream, List<ByteRecord> records) throws InterruptedException {
		// Convert the whole read first, then hand each worker its share at once: one wake-up per read, not per entry.
		List<List<StreamEntry>> shares = new ArrayList<>(this.workers.length);
		for (int i = 0; i < this.workers.length; i++) {
			shares.add(new ArrayList<>());
		}
		List<StreamEntry> entries = new ArrayList<>(records.size());
		for (ByteRecord record : records) {
			StreamRef stream = (knownStream != null) ? knownStream : streamOf(record.getStream());
			if (stream == null || record.getId() == null || record.getValue() == null) {
				// Nothing to deliver; if it is pending, a claim brings it back.
				continue;
			}
			entries.add(toEntry(stream, record));
		}
		for (StreamEntry entry : entries) {
			if (this.inFlight.add(entry.localKey())) {
				shares.get(workerFor(entry)).add(entry);
			}
		}
		int handedOver = 0;
		try {
			for (; handedOver < shares.size(); handedOver++) {
				List<StreamEntry> share = shares.get(handedOver);
				if (!share.isEmpty()
						&& !this.workers[handedOver].buffer.putAll(share, () -> !this.running || this.stopNow)) {
					// Closing: these stay pending in Redis, unacknowledged, for another member or a later claim.
					return;
				}
			}
		}
		finally {
			// Whatever no worker got must not stay marked in flight, or claims would skip it for good.
			for (int j = handedOver; j < shares.size(); j++) {
				shares.get(j).forEach((unhandled) -> this.inFlight.remove(unhandled.localKey()));
			}
		}
	}

	private StreamRef streamOf(byte[] key) {
		StreamRef last = this.lastStream;
		if (last != null && Arrays.equals(last.key(), key)) {
			return last;
		}
		StreamRef stream = this.streamsByName.get(new String(key, StandardCharsets.UTF_8));
		this.lastStream = stream;
		return stream;
	}

	private static StreamEntry toEntry(StreamRef stream, ByteRecord record) {
		Map<byte[], byte[]> value = record.getValue();
		Map<String, String> fields = new LinkedHashMap<>(value.size() * 2);
		byte[] data = null;
		for (Map.Entry<byte[], byte[]> field : value.entrySet()) {
			if (field.getKey() == null) {
				continue;
			}
			if (Arrays.equals(field.getKey(), RedisBrokerAdapter.DATA_FIELD_BYTES)) {
				data = field.getValue();
			}
			else {
				fields.put(new String(field.getKey(), StandardCharsets.UTF_8),
						(field.getValue() != null) ? new String(field.getValue(), StandardCharsets.UTF_8) : "");
			}
		}
		return new StreamEntry(stream, record.getId(), fields, data, localKey(stream, record.getId().getValue()));
	}

	private static String localKey(StreamRef stream, String id) {
		return stream.name() + '#' + id;
	}

	private int workerFor(StreamEntry entry) {
		if (this.workers.length == 1) {
			return 0;
		}
		String key = entry.fields().get(WireHeaders.KEY);
		if (key != null) {
			return Math.floorMod(key.hashCode(), this.workers.length);
		}
		int next = this.nextWorker;
		this.nextWorker = (next + 1) % this.workers.length;
		return next;
	}

	private void refreshTopics(ReadOffset offset) {
		Set<byte[]> members = connection().setCommands().sMembers(this.adapter.registryKey());
		if (members == null) {
			return;
		}
		for (byte[] member : members) {
			String topic = new String(member, StandardCharsets.UTF_8);
			if (!this.knownTopics.contains(topic) && this.spec.pattern().matches(topic)) {
				addTopic(topic, offset);
			}
		}
	}

	private void addTopic(String topic, ReadOffset offset) {
		byte[][] keys = this.adapter.streamKeys(topic);
		List<StreamRef> added = new ArrayList<>();
		for (Priority lane : this.spec.lanes()) {
			StreamRef stream = new StreamRef(topic, lane.lane(), keys[lane.lane()],
					this.adapter.streamName(topic, lane.lane()));
			ensureGroup(stream, offset);
			added.add(stream);
		}
		this.knownTopics.add(topic);
		this.streams.addAll(added);
		added.forEach((stream) -> this.streamsByName.put(stream.name(), stream));
		rebuildOffsets();
		if (!added.isEmpty() && this.spec.pattern().isWildcard()) {
			logger.log(System.Logger.Level.DEBUG, () -> "Subscription '" + this.spec.id() + "' now reads '" + topic + "'");
		}
	}

	private void ensureGroup(StreamRef stream, ReadOffset offset) {
		try {
			connection().streamCommands().xGroupCreate(stream.key(), this.groupName, offset, true);
		}
		catch (RuntimeException ex) {
			if (!mentions(ex, "BUSYGROUP")) {
				throw ex;
			}
		}
	}

	private void rebuildOffsets() {
		List<List<StreamRef>> byLane = new ArrayList<>();
		for (int lane = 0; lane < Priority.laneCount(); lane++) {
			byLane.add(new ArrayList<>());
		}
		for (StreamRef stream : this.streams) {
			byLane.get(stream.lane()).add(stream);
		}
		List<StreamRef> sorted = new ArrayList<>();
		this.lowestLane = 0;
		for (int lane = 0; lane < byLane.size(); lane++) {
			this.laneOffsets[lane] = offsets(byLane.get(lane));
			sorted.addAll(byLane.get(lane));
			if (!byLane.get(lane).isEmpty()) {
				this.lowestLane = lane;
			}
		}
		this.allOffsets = offsets(sorted);
	}

	@SuppressWarnings("unchecked")
	private static StreamOffset<byte[]>[] offsets(List<StreamRef> streams) {
		StreamOffset<byte[]>[] offsets = new StreamOffset[streams.size()];
		for (int i = 0; i < offsets.length; i++) {
			offsets[i] = StreamOffset.create(streams.get(i).key(), ReadOffset.lastConsumed());
		}
		return offsets;
	}

	private void onReadFailure(RuntimeException ex, int failures) {
		if (failures == 1 || failures % 20 == 0) {
			logger.log(System.Logger.Level.WARNING, "Subscription '" + this.spec.id() + "' could not read from Redis ("
					+ failures + " failure(s) in a row), retrying: " + ex);
		}
		releaseConnection();
		if (mentions(ex, "NOGROUP")) {
			// The stream or the group was deleted behind our back: recreate it and read what comes next.
			try {
				for (StreamRef stream : new ArrayList<>(this.streams)) {
					ensureGroup(stream, ReadOffset.latest());
				}
			}
			catch (RuntimeException recreateFailure) {
				logger.log(System.Logger.Level.DEBUG, "Recreating consumer groups failed", recreateFailure);
			}
		}
		try {
			Thread.sleep(Math.min(2000, 50L << Math.min(failures, 6)));
		}
		catch (InterruptedException interrupted) {
			Thread.currentThread().interrupt();
			this.running = false;
		}
	}

	private static boolean mentions(Throwable ex, String text) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			if (cause.getMessage() != null && cause.getMessage().contains(text)) {
				return true;
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return false;
	}

	private RedisConnection connection() {
		if (this.connection == null || this.connection.isClosed()) {
			this.connection = this.adapter.connectionFactory().getConnection();
		}
		return this.connection;
	}

	private void releaseConnection() {
		RedisConnection current = this.connection;
		this.connection = null;
		if (current != null) {
			try {
				current.close();
			}
			catch (RuntimeException ex) {
				logger.log(System.Logger.Level.DEBUG, "Closing a broken Redis connection failed", ex);
			}
		}
	}

	private void readCompleted() {
		this.readsCompleted = this.readsStarted;
	}

	private void fullReadCompleted() {
		if (!this.fullReadPending) {
			return;
		}
		this.fullReadPending = false;
		this.fullReadsCompleted = this.fullReadsStarted;
		if (this.awaitingRead) {
			synchronized (this.readProgress) {
				this.readProgress.notifyAll();
			}
		}
	}

	/**
	 * After a long handler, lets the reader finish a read that starts from now, and so sees what
	 * Redis has now, before the worker chooses by lane, so that a higher-lane entry already in
	 * Redis is not overtaken by what was buffered before it. Usually one short read (the reader blocks 2 ms at most while entries
	 * wait); at most half the handler's time, between 10 and 50 ms; only when entries wait.
	 */
	private void catchUp(long handlerNanos, LaneBuffer buffer) throws InterruptedException {
		long waitNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10),
				Math.min(handlerNanos / 2, TimeUnit.MILLISECONDS.toNanos(50)));
		if (handlerNanos < CATCH_UP_AFTER_NANOS || this.draining || !this.running || buffer.isEmpty()
				|| readerWaitsForRoom()) {
			// An empty buffer leaves nothing to choose between, and a reader waiting for room in full
			// buffers cannot bring anything: the worker goes on at once.
			return;
		}
		// A read that starts from now sees everything published before now; while entries wait in the
		// buffers, the reader blocks only briefly, so one starts soon.
		long target = this.fullReadsStarted + 1;
		this.catchUpRequested = true;
		long deadline = System.nanoTime() + waitNanos;
		synchronized (this.readProgress) {
			this.awaitingRead = true;
			try {
				long left;
				while (this.fullReadsCompleted < target && (left = deadline - System.nanoTime()) > 0) {
					TimeUnit.NANOSECONDS.timedWait(this.readProgress, left);
				}
			}
			finally {
				this.awaitingRead = false;
			}
		}
	}

	private boolean readerWaitsForRoom() {
		for (Worker worker : this.workers) {
			if (worker.buffer.isPutterWaiting()) {
				return true;
			}
		}
		return false;
	}

	private boolean entriesWaiting() {
		for (Worker worker : this.workers) {
			if (!worker.buffer.isEmpty()) {
				return true;
			}
		}
		return false;
	}

	// Workers ------------------------------------------------------------------------------

	private void handle(StreamEntry entry) {
		this.handling.incrementAndGet();
		try {
			Envelope envelope;
			try {
				if (entry.data() == null) {
					throw new MalformedEnvelopeException("Field '" + RedisBrokerAdapter.DATA_FIELD + "' is missing");
				}
				envelope = WireHeaders.read(entry.fields(), entry.data(), entry.stream().topic());
			}
			catch (MalformedEnvelopeException ex) {
				deadLetterUnreadable(entry, ex);
				return;
			}
			this.lastDeliveryMillis = System.currentTimeMillis();
			if (this.handler.deliver(envelope) == Disposition.ACK) {
				acknowledge(entry);
			}
		}
		finally {
			this.inFlight.remove(entry.localKey());
			this.handling.decrementAndGet();
		}
	}

	private void deadLetterUnreadable(StreamEntry entry, MalformedEnvelopeException reason) {
		Envelope deadLetter = WireHeaders.unreadable(entry.stream().topic(), entry.fields(), entry.data(), reason);
		try {
			this.adapter.send(deadLetter).get(this.settings.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
			acknowledge(entry);
			logger.log(System.Logger.Level.WARNING, () -> "Entry " + entry.id() + " of '" + entry.stream().name()
					+ "' is not an AMB envelope (" + reason.getMessage() + "); moved to '" + deadLetter.topic() + "'");
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.ERROR, "Entry " + entry.id() + " of '" + entry.stream().name()
					+ "' is unreadable and could not be dead-lettered; it stays pending", ex);
		}
	}

	private void acknowledge(StreamEntry entry) {
		this.adapter.acknowledger().ack(entry.stream().key(), this.groupName, entry.id());
	}

	// BrokerConsumer -----------------------------------------------------------------------

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
		// The backlog is the stream in Redis, not known here without asking: depths and capacity are unknown.
		long[] depths = new long[Priority.laneCount()];
		Arrays.fill(depths, -1);
		return new ConsumerState(depths, -1, -1, this.handling.get(), this.paused, this.lastDeliveryMillis);
	}

	@Override
	public void close(Duration drainTimeout) {
		if (!this.closing.compareAndSet(false, true)) {
			return;
		}
		this.adapter.detach(this);
		long deadline = System.nanoTime() + drainTimeout.toNanos();
		this.running = false;
		join(this.reader, Math.max(remaining(deadline), this.settings.blockTimeout().toNanos() * 2));
		if (this.reader.isAlive()) {
			this.reader.interrupt();
		}
		if (!this.paused) {
			// Nothing new is read now: handle what was handed to the workers, within the drain timeout.
			this.draining = true;
			for (Worker worker : this.workers) {
				join(worker.thread, remaining(deadline));
			}
		}
		this.stopNow = true;
		for (Worker worker : this.workers) {
			join(worker.thread, Math.max(remaining(deadline), TimeUnit.MILLISECONDS.toNanos(100)));
		}
		List<StreamEntry> unhandled = new ArrayList<>();
		for (Worker worker : this.workers) {
			worker.buffer.drainTo(unhandled);
		}
		if (!unhandled.isEmpty()) {
			unhandled.forEach((entry) -> this.inFlight.remove(entry.localKey()));
			logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + this.spec.id() + "' closed with "
					+ unhandled.size() + " entr(y/ies) not handled; they are not acknowledged");
		}
		try {
			this.adapter.acknowledger().flush().get(Math.max(1000, TimeUnit.NANOSECONDS.toMillis(remaining(deadline))),
					TimeUnit.MILLISECONDS);
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.WARNING, "Acknowledgements of subscription '" + this.spec.id()
					+ "' may not have reached Redis: " + ex);
		}
		cleanUp();
		releaseConnection();
	}

	/** Broadcast: the group goes with the subscription. Group: this member leaves if nothing is pending for it. */
	private void cleanUp() {
		try {
			for (StreamRef stream : this.streams) {
				if (this.spec.isBroadcast()) {
					connection().streamCommands().xGroupDestroy(stream.key(), this.groupName);
					if (RedisBrokerAdapter.isInternal(stream.topic())) {
						// A reply topic belongs to one bus: nobody reads it once that bus has gone.
						connection().keyCommands().del(stream.key());
					}
				}
				else {
					PendingMessages mine = connection().streamCommands()
						.xPending(stream.key(), this.consumer, Range.unbounded(), 1L);
					if (mine == null || mine.isEmpty()) {
						connection().streamCommands().xGroupDelConsumer(stream.key(), this.consumer);
					}
				}
			}
		}
		catch (RuntimeException ex) {
			logger.log(System.Logger.Level.WARNING, "Subscription '" + this.spec.id()
					+ "' could not remove its consumer group or consumer from Redis: " + ex);
		}
	}

	private static long remaining(long deadline) {
		return Math.max(0, deadline - System.nanoTime());
	}

	private static void join(Thread thread, long nanos) {
		if (nanos <= 0 || thread == Thread.currentThread()) {
			return;
		}
		try {
			thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public String toString() {
		return "RedisConsumer[" + this.spec.id() + ", group=" + this.groupName + ", streams=" + this.streams.size() + "]";
	}

	/** One worker thread and its hand-off buffer. */
	private final class Worker implements Runnable {

		final LaneBuffer buffer;

		final Thread thread;

		Worker(LaneBuffer buffer, String name) {
			this.buffer = buffer;
			this.thread = new Thread(this, name);
			this.thread.setDaemon(true);
		}

		@Override
		public void run() {
			List<StreamEntry> chunk = new ArrayList<>(CHUNK);
			try {
				while (!RedisConsumer.this.stopNow) {
					if (RedisConsumer.this.paused && !RedisConsumer.this.draining) {
						Thread.sleep(20);
						continue;
					}
					chunk.clear();
					if (this.buffer.drain(chunk, CHUNK, 50) == 0) {
						if (RedisConsumer.this.draining) {
							return;
						}
						continue;
					}
					if (RedisConsumer.this.paused && !RedisConsumer.this.draining) {
						// Paused while this worker was waiting for the entries: give them back, so that on
						// resume the lanes, not the moment of the pause, decide what goes first.
						this.buffer.giveBack(chunk);
						continue;
					}
					for (int i = 0; i < chunk.size(); i++) {
						StreamEntry entry = chunk.get(i);
						if (RedisConsumer.this.stopNow) {
							abandon(chunk.subList(i, chunk.size()));
							return;
						}
						long started = System.nanoTime();
						try {
							handle(entry);
						}
						catch (RuntimeException ex) {
							// Never let one entry stop the worker: it stays pending and is claimed again later.
							logger.log(System.Logger.Level.ERROR, "Subscription '" + RedisConsumer.this.spec.id()
									+ "' failed on entry " + entry.id() + " of '" + entry.stream().name() + "'", ex);
						}
						catchUp(System.nanoTime() - started, this.buffer);
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

		private void abandon(List<StreamEntry> entries) {
			entries.forEach((entry) -> RedisConsumer.this.inFlight.remove(entry.localKey()));
			logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + RedisConsumer.this.spec.id() + "' stopped with "
					+ entries.size() + " entr(y/ies) taken but not handled; they are not acknowledged");
		}

	}

}
