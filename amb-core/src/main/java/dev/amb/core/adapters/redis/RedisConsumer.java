package dev.amb.core.adapters.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
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

	private static final StreamRef[] NO_STREAMS = new StreamRef[0];

	/** How long a read of every lane blocks while entries wait in the buffers (see {@link #catchUp}). */
	private static final Duration SHORT_BLOCK = Duration.ofMillis(1);

	/**
	 * Entries a worker takes from its buffer at once. One: the lanes are compared again before each
	 * entry, so a higher-lane entry that arrives while the worker is busy goes next.
	 */
	private static final int CHUNK = 1;

	private static final long ACK_LINGER_MILLIS = 20;

	private static final long ACK_LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(ACK_LINGER_MILLIS);

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

	private final StreamFields streamFields = new StreamFields();

	private final StreamReadOptions blockingOptions;

	private final StreamReadOptions shortBlockingOptions;

	private final long claimIntervalNanos;

	private final StreamRef[][] laneStreams;

	private StreamRef[] allStreams = NO_STREAMS;

	private int lowestLane;

	/** How many lanes the subscription reads streams of. */
	private int lanesRead;

	/** Per lane, what a probe read ahead of a higher lane's entries (see {@link #poll}). */
	private final List<StreamEntry>[] readAhead;

	/** The entries read ahead, so that claims leave them alone. */
	private final Set<String> readAheadKeys = new HashSet<>();

	private RedisConnection connection;

	private LettuceReads lettuceReads;

	private boolean nativeReads;

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
		this.nativeReads = adapter.nativeReads();
		this.probeOptions = StreamReadOptions.empty().count(this.settings.batchSize());
		this.blockingOptions = this.probeOptions.block(this.settings.blockTimeout());
		this.shortBlockingOptions = this.probeOptions.block(SHORT_BLOCK);
		this.claimIntervalNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(100),
				this.settings.claimTimeout().toNanos() / 2);
		this.laneStreams = new StreamRef[Priority.laneCount()][];
		Arrays.fill(this.laneStreams, NO_STREAMS);
		this.readAhead = new List[Priority.laneCount()];
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
				List<StreamEntry> entries = poll();
				if (entries != null && !entries.isEmpty()) {
					try {
						if (this.paused) {
							// Paused while reading: held by lane, so that on resume the lanes decide what goes first.
							holdAhead(entries);
						}
						else {
							dispatch(entries);
						}
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

	/**
	 * Reads the highest lane that has entries; after {@code starvationBound} reads served from a
	 * lane above the lowest, every lane.
	 * <p>
	 * The lanes are probed with one {@code XREADGROUP} over the streams of every lane that has
	 * nothing read ahead (Redis answers up to {@code COUNT} entries per stream, as one read per lane
	 * would, in one command). Only the highest lane's entries are handed on; what the probe found in
	 * lower lanes waits here, read ahead, until its lane is the highest with entries (it is not read
	 * again meanwhile, so it stays in order), until the workers have nothing waiting, or until a
	 * read of every lane, which hands it on first. With nothing read ahead, the probe is the read of
	 * every lane and blocks, so that an idle subscription makes one round trip per wait, not two.
	 */
	private List<StreamEntry> poll() throws InterruptedException {
		if (this.allStreams.length == 0) {
			Thread.sleep(Math.min(this.settings.blockTimeout().toMillis(),
					this.settings.topicRefreshInterval().toMillis()));
			return null;
		}
		if (this.catchUpRequested) {
			// A worker waits for a read of every lane that started after it asked (see catchUp).
			this.catchUpRequested = false;
			this.fullReadsStarted++;
			List<StreamEntry> entries = withReadAhead(readAll(null));
			this.fullReadPending = true;
			if (entries == null || entries.isEmpty()) {
				fullReadCompleted();
			}
			return entries;
		}
		if (this.servedAhead < this.settings.starvationBound() && this.lanesRead > 1) {
			if (this.readAheadKeys.isEmpty()) {
				// Every lane is probed: the probe may as well wait for entries (see readAll for how long).
				return probe(entriesWaiting() ? SHORT_BLOCK : this.settings.blockTimeout());
			}
			List<StreamEntry> entries = probe(null);
			if (entries != null) {
				return entries;
			}
		}
		this.servedAhead = 0;
		if (!this.readAheadKeys.isEmpty()) {
			return withReadAhead(null);
		}
		// Redis answers streams in the order asked, and allStreams is sorted by lane: highest first.
		// While entries wait in the buffers, block only briefly, so that a worker choosing by lane
		// after a long handler soon gets a read that sees what is in Redis (see catchUp).
		return readAll(entriesWaiting() ? SHORT_BLOCK : this.settings.blockTimeout());
	}

	/**
	 * @param block how long the read of the lanes blocks, or null for not at all
	 * @return the entries of the highest lane that has some, read now or ahead, or null if no lane has any
	 */
	private List<StreamEntry> probe(Duration block) throws InterruptedException {
		List<StreamEntry>[] results = readLanes(block);
		List<StreamEntry> found = null;
		boolean foundLaneDrained = false;
		for (int lane = 0; lane <= this.lowestLane; lane++) {
			List<StreamEntry> entries = results[lane];
			if (found == null) {
				List<StreamEntry> ahead = this.readAhead[lane];
				if (ahead != null) {
					this.readAhead[lane] = null;
					ahead.forEach((entry) -> this.readAheadKeys.remove(entry.localKey()));
					found = ahead;
				}
				else if (entries != null) {
					found = entries;
					foundLaneDrained = entries.size() < this.settings.batchSize();
					entries = null;
				}
				if (found != null) {
					this.servedAhead = (lane < this.lowestLane) ? this.servedAhead + 1 : 0;
				}
			}
			if (entries != null) {
				this.readAhead[lane] = entries;
				entries.forEach((entry) -> this.readAheadKeys.add(entry.localKey()));
			}
		}
		if (foundLaneDrained && !this.readAheadKeys.isEmpty() && !entriesWaiting()) {
			// The workers have nothing waiting and the highest lane was just read to its end: the lower
			// lanes' entries go along, behind the higher ones in the workers' lanes, rather than wait
			// here for nothing. Not when the higher entries were read ahead: their lane was not read
			// now and may hold more, which must go first.
			found = withReadAhead(new ArrayList<>(found));
		}
		return found;
	}

	/** Keeps entries read, by lane, after what was read ahead of them, until {@link #poll} hands them on. */
	private void holdAhead(List<StreamEntry> entries) {
		for (StreamEntry entry : entries) {
			int lane = entry.stream().lane();
			if (this.readAhead[lane] == null) {
				this.readAhead[lane] = new ArrayList<>();
			}
			this.readAhead[lane].add(entry);
			this.readAheadKeys.add(entry.localKey());
		}
	}

	/** What a read of every lane found, after what was read ahead (older, so first). */
	private List<StreamEntry> withReadAhead(List<StreamEntry> read) {
		if (this.readAheadKeys.isEmpty()) {
			return read;
		}
		List<StreamEntry> entries = new ArrayList<>();
		for (int lane = 0; lane < this.readAhead.length; lane++) {
			if (this.readAhead[lane] != null) {
				entries.addAll(this.readAhead[lane]);
				this.readAhead[lane] = null;
			}
		}
		this.readAheadKeys.clear();
		if (read != null) {
			entries.addAll(read);
		}
		return entries;
	}

	/** One XREADGROUP of every lane's streams, blocking for up to {@code block} if not null. */
	private List<StreamEntry> readAll(Duration block) throws InterruptedException {
		this.readsStarted++;
		List<StreamEntry> entries;
		try {
			LettuceReads lettuce = lettuceReads();
			if (lettuce != null) {
				entries = lettuce.read(List.<StreamRef[]>of(this.allStreams), this.settings.batchSize(), block,
						this.settings.sendTimeout()).get(0);
			}
			else {
				StreamReadOptions options = (block == null) ? this.probeOptions
						: (block == SHORT_BLOCK) ? this.shortBlockingOptions : this.blockingOptions;
				entries = toEntries(null, connection().streamCommands().xReadGroup(this.consumer, options,
						offsets(this.allStreams)));
			}
		}
		catch (RuntimeException ex) {
			readCompleted();
			throw ex;
		}
		if (entries.isEmpty()) {
			readCompleted();
		}
		return entries;
	}

	/**
	 * One XREADGROUP of the streams of every lane that has nothing read ahead.
	 * @return per lane, what was read, or null where nothing was
	 */
	@SuppressWarnings("unchecked")
	private List<StreamEntry>[] readLanes(Duration block) throws InterruptedException {
		List<StreamEntry>[] byLane = new List[this.lowestLane + 1];
		int count = 0;
		for (int lane = 0; lane <= this.lowestLane; lane++) {
			if (this.readAhead[lane] == null) {
				count += this.laneStreams[lane].length;
			}
		}
		if (count == 0) {
			return byLane;
		}
		StreamRef[] streams = new StreamRef[count];
		int next = 0;
		for (int lane = 0; lane <= this.lowestLane; lane++) {
			if (this.readAhead[lane] == null) {
				for (StreamRef stream : this.laneStreams[lane]) {
					streams[next++] = stream;
				}
			}
		}
		this.readsStarted++;
		List<StreamEntry> entries;
		try {
			LettuceReads lettuce = lettuceReads();
			if (lettuce != null) {
				entries = lettuce.read(List.<StreamRef[]>of(streams), this.settings.batchSize(), block,
						this.settings.sendTimeout()).get(0);
			}
			else {
				StreamReadOptions options = (block == null) ? this.probeOptions
						: (block == SHORT_BLOCK) ? this.shortBlockingOptions : this.blockingOptions;
				entries = toEntries(null, connection().streamCommands().xReadGroup(this.consumer, options,
						offsets(streams)));
			}
		}
		catch (RuntimeException ex) {
			readCompleted();
			throw ex;
		}
		for (StreamEntry entry : entries) {
			int lane = entry.stream().lane();
			if (byLane[lane] == null) {
				byLane[lane] = new ArrayList<>(entries.size());
			}
			byLane[lane].add(entry);
		}
		return byLane;
	}

	private List<StreamEntry> toEntries(StreamRef knownStream, List<ByteRecord> records) {
		if (records == null || records.isEmpty()) {
			return List.of();
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
		return entries;
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
				String key = localKey(stream, message.getIdAsString());
				if (!this.inFlight.contains(key) && !this.readAheadKeys.contains(key)) {
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
				dispatch(toEntries(stream, claimed));
			}
		}
	}

	private void dispatch(List<StreamEntry> entries) throws InterruptedException {
		// Hand each worker its share of the read at once: one wake-up per read, not per entry.
		List<List<StreamEntry>> shares = new ArrayList<>(this.workers.length);
		for (int i = 0; i < this.workers.length; i++) {
			shares.add(new ArrayList<>());
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

	private StreamEntry toEntry(StreamRef stream, ByteRecord record) {
		// Read here, once per entry, so that the workers get envelopes and the key is at hand.
		Map<byte[], byte[]> fields = record.getValue();
		String localKey = localKey(stream, record.getId().getValue());
		try {
			return new StreamEntry(stream, record.getId(), this.streamFields.read(fields, stream), null, null, localKey);
		}
		catch (MalformedEnvelopeException ex) {
			return new StreamEntry(stream, record.getId(), null, fields, ex, localKey);
		}
	}

	static String localKey(StreamRef stream, String id) {
		return stream.name() + '#' + id;
	}

	private int workerFor(StreamEntry entry) {
		if (this.workers.length == 1) {
			return 0;
		}
		String key = entry.key();
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
		this.lanesRead = 0;
		for (int lane = 0; lane < byLane.size(); lane++) {
			this.laneStreams[lane] = byLane.get(lane).toArray(new StreamRef[0]);
			sorted.addAll(byLane.get(lane));
			if (!byLane.get(lane).isEmpty()) {
				this.lowestLane = lane;
				this.lanesRead++;
			}
		}
		this.allStreams = sorted.toArray(new StreamRef[0]);
	}

	@SuppressWarnings("unchecked")
	private static StreamOffset<byte[]>[] offsets(StreamRef[] streams) {
		StreamOffset<byte[]>[] offsets = new StreamOffset[streams.length];
		for (int i = 0; i < offsets.length; i++) {
			offsets[i] = StreamOffset.create(streams[i].key(), ReadOffset.lastConsumed());
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
			this.lettuceReads = null;
			this.connection = this.adapter.connectionFactory().getConnection();
		}
		return this.connection;
	}

	/** @return Lettuce's reads on the current connection, or null with another driver */
	private LettuceReads lettuceReads() {
		RedisConnection connection = connection();
		if (this.lettuceReads == null && this.nativeReads) {
			this.lettuceReads = LettuceReads.of(connection, this.groupName, this.consumer.getName(), this.streamFields);
			// Not Lettuce, or a connection without pipelines: Spring Data Redis's API from now on.
			this.nativeReads = this.lettuceReads != null;
		}
		return this.lettuceReads;
	}

	private void releaseConnection() {
		RedisConnection current = this.connection;
		this.connection = null;
		this.lettuceReads = null;
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

	/** Runs the bus's pipeline on an entry; one that is to be acknowledged joins the worker's acknowledgements. */
	private void handle(StreamEntry entry, PendingAcks acks) {
		this.handling.incrementAndGet();
		boolean acknowledged = false;
		try {
			Envelope envelope = entry.envelope();
			if (envelope == null) {
				acknowledged = deadLetterUnreadable(entry);
			}
			else {
				this.lastDeliveryMillis = System.currentTimeMillis();
				acknowledged = this.handler.deliver(envelope) == Disposition.ACK;
			}
		}
		finally {
			if (acknowledged) {
				// Still in flight for the claims until its acknowledgement is on its way.
				acks.add(entry);
			}
			else {
				this.inFlight.remove(entry.localKey());
			}
			this.handling.decrementAndGet();
		}
	}

	private boolean deadLetterUnreadable(StreamEntry entry) {
		MalformedEnvelopeException reason = entry.failure();
		try {
			Map<byte[], byte[]> fields = (entry.fields() != null) ? entry.fields() : fieldsOf(entry);
			Envelope deadLetter = WireHeaders.unreadable(entry.stream().topic(), StreamFields.asText(fields),
					StreamFields.data(fields), reason);
			this.adapter.send(deadLetter).get(this.settings.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
			logger.log(System.Logger.Level.WARNING, () -> "Entry " + entry.id() + " of '" + entry.stream().name()
					+ "' is not an AMB envelope (" + reason.getMessage() + "); moved to '" + deadLetter.topic() + "'");
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (Exception ex) {
			logger.log(System.Logger.Level.ERROR, "Entry " + entry.id() + " of '" + entry.stream().name()
					+ "' is unreadable and could not be dead-lettered; it stays pending", ex);
		}
		return false;
	}

	/**
	 * The fields of an entry read without them (reads on Lettuce keep only what an envelope needs):
	 * read again, on a connection of the worker's own, since it is rare.
	 */
	private Map<byte[], byte[]> fieldsOf(StreamEntry entry) {
		try (RedisConnection connection = this.adapter.connectionFactory().getConnection()) {
			String id = entry.id().getValue();
			List<ByteRecord> records = connection.streamCommands().xRange(entry.stream().key(), Range.closed(id, id));
			return (records != null && !records.isEmpty() && records.get(0).getValue() != null)
					? records.get(0).getValue() : Map.of();
		}
	}

	/**
	 * The acknowledgements of one worker, sent together: one XACK per stream for a run of entries
	 * instead of one per entry. Sent when the worker has nothing more to do, when a read's worth
	 * has gathered, or {@value #ACK_LINGER_MILLIS} ms after the oldest, whichever comes first, so
	 * that a slow handler never holds its predecessors' acknowledgements for long.
	 */
	private final class PendingAcks {

		private final List<StreamEntry> entries = new ArrayList<>();

		private long oldestNanos;

		synchronized void add(StreamEntry entry) {
			if (this.entries.isEmpty()) {
				this.oldestNanos = System.nanoTime();
			}
			this.entries.add(entry);
		}

		synchronized void sendIfDue(boolean idle) {
			if (!this.entries.isEmpty() && (idle || this.entries.size() >= RedisConsumer.this.settings.batchSize()
					|| System.nanoTime() - this.oldestNanos >= ACK_LINGER_NANOS)) {
				send();
			}
		}

		synchronized void send() {
			int from = 0;
			while (from < this.entries.size()) {
				StreamRef stream = this.entries.get(from).stream();
				int to = from + 1;
				while (to < this.entries.size() && this.entries.get(to).stream() == stream) {
					to++;
				}
				List<RecordId> ids = new ArrayList<>(to - from);
				for (int i = from; i < to; i++) {
					ids.add(this.entries.get(i).id());
				}
				RedisConsumer.this.adapter.acknowledger().ack(stream.key(), RedisConsumer.this.groupName, ids);
				from = to;
			}
			this.entries.forEach((entry) -> RedisConsumer.this.inFlight.remove(entry.localKey()));
			this.entries.clear();
		}

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
		int readAhead = this.reader.isAlive() ? 0 : this.readAheadKeys.size();
		if (!unhandled.isEmpty() || readAhead > 0) {
			unhandled.forEach((entry) -> this.inFlight.remove(entry.localKey()));
			logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + this.spec.id() + "' closed with "
					+ (unhandled.size() + readAhead) + " entr(y/ies) not handled; they are not acknowledged");
		}
		for (Worker worker : this.workers) {
			// A worker stuck in a handler still holds the acknowledgements of what it handled before.
			worker.acks.send();
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

		final PendingAcks acks = new PendingAcks();

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
						this.acks.send();
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
							handle(entry, this.acks);
						}
						catch (RuntimeException ex) {
							// Never let one entry stop the worker: it stays pending and is claimed again later.
							logger.log(System.Logger.Level.ERROR, "Subscription '" + RedisConsumer.this.spec.id()
									+ "' failed on entry " + entry.id() + " of '" + entry.stream().name() + "'", ex);
						}
						this.acks.sendIfDue(this.buffer.isEmpty());
						catchUp(System.nanoTime() - started, this.buffer);
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			finally {
				this.acks.send();
			}
		}

		private void abandon(List<StreamEntry> entries) {
			entries.forEach((entry) -> RedisConsumer.this.inFlight.remove(entry.localKey()));
			logger.log(System.Logger.Level.WARNING, () -> "Subscription '" + RedisConsumer.this.spec.id() + "' stopped with "
					+ entries.size() + " entr(y/ies) taken but not handled; they are not acknowledged");
		}

	}

}
