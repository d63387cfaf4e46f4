package dev.amb.core;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import dev.amb.core.codec.JacksonPayloadCodec;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.persistence.MessageStore;
import dev.amb.core.spi.AdapterContext;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.BrokerConsumer;
import dev.amb.core.spi.BrokerHealth;
import dev.amb.core.spi.Capability;
import dev.amb.core.spi.ConsumerSpec;
import dev.amb.core.spi.DeliveryInterceptor;
import dev.amb.core.spi.Envelope;
import dev.amb.core.spi.PublishInterceptor;

/**
 * The bus: validates and encodes what is published, hands envelopes to the backend, and runs
 * the same delivery pipeline (expiry, decoding, retries, dead letters, replies) for every
 * subscription whatever the backend.
 */
public final class DefaultMessageBus implements MessageBus {

	private static final System.Logger logger = System.getLogger(DefaultMessageBus.class.getName());

	private final BrokerAdapter adapter;

	private final PayloadCodec codec;

	private final int maxPayloadBytes;

	private final String source;

	private final Duration drainTimeout;

	private final List<PublishInterceptor> publishInterceptors;

	private final List<DeliveryInterceptor> deliveryInterceptors;

	private final BusCounters counters = new BusCounters();

	private final LongAdder deadLetterLosses = new LongAdder();

	private final Map<String, ManagedSubscription> subscriptions = Collections.synchronizedMap(new LinkedHashMap<>());

	private final AtomicInteger subscriptionSequence = new AtomicInteger();

	private final ReplyRouter replies;

	private final AtomicBoolean closed = new AtomicBoolean();

	/**
	 * The last topic that passed validation: publishers usually repeat one constant, so the same
	 * instance is not checked again. Plain field: a stale read only means validating once more.
	 */
	private String lastValidTopic;


	/** Null without a write-ahead log, so the publish path pays one null check for it. */
	private final StoreForwarder storeForwarder;

	private DefaultMessageBus(Builder builder) {
		this.adapter = Objects.requireNonNull(builder.adapter, "a BrokerAdapter is required");
		this.codec = builder.codec;
		this.maxPayloadBytes = builder.maxPayloadBytes;
		this.source = builder.source;
		this.drainTimeout = builder.drainTimeout;
		this.publishInterceptors = List.copyOf(builder.publishInterceptors);
		this.deliveryInterceptors = List.copyOf(builder.deliveryInterceptors);
		this.replies = new ReplyRouter(this, "_amb.reply." + UUID.randomUUID().toString().replace("-", ""));
		this.adapter.start(new AdapterContext(this.counters));
		this.storeForwarder = (builder.store != null) ? new StoreForwarder(this, builder.store, this.adapter) : null;
		if (this.storeForwarder != null && this.storeForwarder.isOutbox()) {
			// An outbox forwards to the broker, not to this bus's subscriptions: no reason to wait for them
			this.storeForwarder.replay();
		}
	}

	public static Builder builder() {
		return new Builder();
	}

	@Override
	public CompletableFuture<UUID> publish(String topic, Object payload, PublishOptions options) {
		if (topic == null || !topic.equals(this.lastValidTopic)) {
			Topics.validateTopic(topic);
			this.lastValidTopic = topic;
		}
		Objects.requireNonNull(options, "options must not be null; use PublishOptions.DEFAULTS");
		return publishValidated(topic, payload, options, options.getCorrelationId(), options.getReplyTo());
	}

	CompletableFuture<UUID> publishValidated(String topic, Object payload, PublishOptions options,
			String correlationId, String replyTo) {
		ensureOpen();
		if (payload == null) {
			throw new InvalidMessageException("Payload of a message to '" + topic
					+ "' is null; publish a value (an empty record or map where there is nothing to say)");
		}
		Map<String, String> headers = options.getHeaders();
		PublishInterceptor.Completion[] completions = null;
		if (!this.publishInterceptors.isEmpty()) {
			headers = new LinkedHashMap<>(headers);
			completions = new PublishInterceptor.Completion[this.publishInterceptors.size()];
			for (int i = 0; i < completions.length; i++) {
				completions[i] = this.publishInterceptors.get(i).beforePublish(topic, headers);
			}
		}
		CompletableFuture<UUID> result;
		try {
			result = encodeAndSend(topic, payload, options, correlationId, replyTo, headers);
		}
		catch (RuntimeException ex) {
			if (completions != null) {
				// The interceptors saw the publish begin (a trace span, say): they must see it end.
				complete(completions, ex);
			}
			throw ex;
		}
		if (completions != null) {
			PublishInterceptor.Completion[] callbacks = completions;
			result.whenComplete((id, failure) -> complete(callbacks, failure));
		}
		return result;
	}

	private CompletableFuture<UUID> encodeAndSend(String topic, Object payload, PublishOptions options,
			String correlationId, String replyTo, Map<String, String> headers) {
		byte[] bytes = this.codec.encode(payload);
		if (bytes.length > this.maxPayloadBytes) {
			throw new MessageTooLargeException("Payload of a message to '" + topic + "' is " + bytes.length
					+ " bytes encoded; the limit (amb.max-payload-size) is " + this.maxPayloadBytes + " bytes");
		}
		long now = System.currentTimeMillis();
		Duration ttl = options.getTtl();
		Envelope envelope = new Envelope(MessageIds.next(now), topic, options.getKey(), options.getPriority(), now,
				(options.getSource() != null) ? options.getSource() : this.source, this.codec.contentType(payload),
				correlationId, replyTo, (ttl != null) ? now + ttl.toMillis() : 0, headers, bytes);
		return send(envelope);
	}

	private static void complete(PublishInterceptor.Completion[] completions, Throwable failure) {
		for (PublishInterceptor.Completion completion : completions) {
			if (completion != null) {
				completion.onComplete(failure);
			}
		}
	}

	private CompletableFuture<UUID> send(Envelope envelope) {
		if (this.storeForwarder != null) {
			return this.storeForwarder.publish(envelope);
		}
		CompletableFuture<Void> sent = this.adapter.send(envelope);
		if (sent.isDone() && !sent.isCompletedExceptionally()) {
			recordPublished(envelope.topic());
			return CompletableFuture.completedFuture(envelope.id());
		}
		return sent.thenApply((ignored) -> {
			recordPublished(envelope.topic());
			return envelope.id();
		});
	}

	void recordPublished(String topic) {
		this.counters.recordPublished(topic);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> Subscription subscribe(String pattern, Type payloadType, MessageHandler<T> handler,
			SubscribeOptions options) {
		Objects.requireNonNull(handler, "handler must not be null");
		MessageHandler<Object> untyped = (MessageHandler<Object>) handler;
		return register(pattern, payloadType, (message) -> {
			untyped.handle(message);
			return null;
		}, options);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T, R> Subscription respond(String pattern, Type payloadType, RequestHandler<T, R> handler,
			SubscribeOptions options) {
		Objects.requireNonNull(handler, "handler must not be null");
		return register(pattern, payloadType, (RequestHandler<Object, Object>) (RequestHandler<?, ?>) handler,
				options);
	}

	Subscription register(String pattern, Type payloadType, RequestHandler<Object, Object> handler,
			SubscribeOptions options) {
		ensureOpen();
		TopicPattern topicPattern = TopicPattern.compile(pattern);
		Objects.requireNonNull(payloadType, "payloadType must not be null");
		Objects.requireNonNull(options, "options must not be null; use SubscribeOptions.DEFAULTS");
		if (topicPattern.isWildcard() && !this.adapter.capabilities().contains(Capability.WILDCARDS)) {
			throw new UnsupportedCapabilityException("The " + this.adapter.name()
					+ " backend does not support wildcard subscriptions such as '" + pattern + "'");
		}
		String id = (options.getName() != null) ? options.getName()
				: "subscription-" + this.subscriptionSequence.incrementAndGet();
		SubscriptionDispatcher dispatcher = new SubscriptionDispatcher(this, id, options.getGroup(), payloadType,
				handler, options);
		ConsumerSpec spec = new ConsumerSpec(id, topicPattern, options.getGroup(), options.getConcurrency(),
				options.getLanes(), options.getBackpressure(),
				ConsumerSpec.durableName(options.getGroup(), options.getDurableName(), topicPattern));
		ManagedSubscription subscription;
		synchronized (this.subscriptions) {
			if (this.subscriptions.containsKey(id)) {
				throw new IllegalStateException("A subscription named '" + id + "' already exists on this bus");
			}
			BrokerConsumer consumer = this.adapter.subscribe(spec, dispatcher);
			subscription = new ManagedSubscription(this, spec, options, consumer, dispatcher);
			this.subscriptions.put(id, subscription);
		}
		if (this.storeForwarder != null) {
			// Outside the lock: this replays what the log holds for the subscription's durable name
			this.storeForwarder.subscribed(spec, subscription.isInternal());
		}
		return subscription;
	}

	@Override
	public <R> CompletableFuture<R> request(String topic, Object payload, Class<R> replyType, Duration timeout,
			PublishOptions options) {
		Topics.validateTopic(topic);
		Objects.requireNonNull(replyType, "replyType must not be null");
		Objects.requireNonNull(timeout, "timeout must not be null");
		if (timeout.isNegative() || timeout.isZero()) {
			throw new IllegalArgumentException("timeout must be positive, was " + timeout);
		}
		return this.replies.request(topic, payload, replyType, timeout, options);
	}

	void sendReply(Envelope request, Object reply) {
		String correlationId = (request.correlationId() != null) ? request.correlationId() : request.id().toString();
		publishValidated(request.replyTo(), reply, PublishOptions.DEFAULTS, correlationId, null)
			.whenComplete((id, failure) -> {
				if (failure != null) {
					logger.log(System.Logger.Level.WARNING,
							"Reply to " + request + " could not be sent to '" + request.replyTo() + "'", failure);
				}
				else {
					this.counters.repliesSent.increment();
				}
			});
	}

	CompletableFuture<Void> sendDeadLetter(Envelope deadLetter) {
		return this.adapter.send(deadLetter);
	}

	void recordDeadLetterLoss() {
		this.deadLetterLosses.increment();
	}

	void unregister(ManagedSubscription subscription) {
		this.subscriptions.remove(subscription.id());
		if (this.storeForwarder != null) {
			this.storeForwarder.unsubscribed(subscription.spec());
		}
	}

	/**
	 * Replays, once, the messages the write-ahead log held unfinished when it was opened, with
	 * their original ids, in log order. Each goes only to the subscriptions whose durable name
	 * ({@link Subscription#durableName()}) it was logged for and that had not acknowledged it, and
	 * only to those open now; what waits for a durable name no subscription has yet is replayed when
	 * one subscribes with it (see {@link #waitingReplays()}). Call it after the subscriptions are
	 * made (the Spring Boot integration calls it once the listeners have started); until then, and
	 * if it is never called, the messages stay in the log. Under backpressure it waits rather than
	 * loses. With a durable backend the log is an outbox, and the bus forwards what it recovered as
	 * soon as it is built, so this returns 0.
	 * @return how many messages were replayed to at least one subscription; 0 without a log or on
	 * later calls
	 */
	public int replay() {
		ensureOpen();
		return (this.storeForwarder != null) ? this.storeForwarder.replay() : 0;
	}

	/**
	 * The recovered messages that wait, after {@link #replay()}, for a subscription with their
	 * durable name. They stay in the write-ahead log (and count as pending in its health) until a
	 * subscription with that name is made or {@link #discardReplays(String)} gives them up.
	 * @return the number of messages waiting, by durable name; empty without a log
	 */
	public Map<String, Integer> waitingReplays() {
		return (this.storeForwarder != null) ? this.storeForwarder.waitingReplays() : Map.of();
	}

	/**
	 * Gives up the recovered messages waiting for a durable name that will not come back (a
	 * renamed listener, a group that is gone): they are acknowledged for that name in the write-ahead
	 * log, without being delivered to it, so their segments can be deleted. Logged as a warning.
	 * @param durableName the name, as {@link #waitingReplays()} shows it
	 * @return how many messages were given up
	 */
	public int discardReplays(String durableName) {
		Objects.requireNonNull(durableName, "durableName must not be null");
		return (this.storeForwarder != null) ? this.storeForwarder.discardReplays(durableName) : 0;
	}

	/** @return the write-ahead log, or null if the bus has none */
	public MessageStore store() {
		return (this.storeForwarder != null) ? this.storeForwarder.store() : null;
	}

	/** @return the backend's name */
	public String backend() {
		return this.adapter.name();
	}

	/** @return what the backend honours */
	public Set<Capability> capabilities() {
		return this.adapter.capabilities();
	}

	/** @return whether the backend is reachable */
	public BrokerHealth health() {
		return this.adapter.health();
	}

	/** @return the counters since start */
	public BusCounters counters() {
		return this.counters;
	}

	/** @return messages published per topic since start; see {@link BusCounters#publishedByTopic()} */
	public Map<String, Long> publishedByTopic() {
		return this.counters.publishedByTopic();
	}

	/** @return dead letters whose own handler failed, logged and not dead-lettered again */
	public long deadLetterLosses() {
		return this.deadLetterLosses.sum();
	}

	/** @return the open subscriptions, in the order they were made */
	public List<SubscriptionInfo> subscriptions() {
		List<ManagedSubscription> open;
		synchronized (this.subscriptions) {
			open = new ArrayList<>(this.subscriptions.values());
		}
		List<SubscriptionInfo> infos = new ArrayList<>(open.size());
		for (ManagedSubscription subscription : open) {
			if (!subscription.isInternal()) {
				infos.add(subscription.info());
			}
		}
		return infos;
	}

	/**
	 * A subscription by id.
	 * @param id the id
	 * @return the subscription, or null
	 */
	public Subscription subscription(String id) {
		return this.subscriptions.get(id);
	}

	PayloadCodec codec() {
		return this.codec;
	}

	List<DeliveryInterceptor> deliveryInterceptors() {
		return this.deliveryInterceptors;
	}

	Duration drainTimeout() {
		return this.drainTimeout;
	}

	boolean isClosed() {
		return this.closed.get();
	}

	private void ensureOpen() {
		if (this.closed.get()) {
			throw new BusClosedException("The message bus is closed");
		}
	}

	@Override
	public void close() {
		if (!this.closed.compareAndSet(false, true)) {
			return;
		}
		List<ManagedSubscription> open;
		synchronized (this.subscriptions) {
			open = new ArrayList<>(this.subscriptions.values());
		}
		open.forEach(ManagedSubscription::stopRetrying);
		// One drain timeout for the whole bus: handlers of every subscription keep running while the
		// first ones are waited for, so later subscriptions get only what is left.
		long deadline = System.nanoTime() + this.drainTimeout.toNanos();
		for (ManagedSubscription subscription : open) {
			subscription.close(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
		}
		this.replies.close();
		this.adapter.close(this.drainTimeout);
		if (this.storeForwarder != null) {
			this.storeForwarder.close();
		}
	}

	/**
	 * Builds a {@link DefaultMessageBus}.
	 */
	public static final class Builder {

		private BrokerAdapter adapter;

		private PayloadCodec codec = new JacksonPayloadCodec();

		private int maxPayloadBytes = 1024 * 1024;

		private String source = "/amb";

		private Duration drainTimeout = Duration.ofSeconds(30);

		private final List<PublishInterceptor> publishInterceptors = new ArrayList<>();

		private final List<DeliveryInterceptor> deliveryInterceptors = new ArrayList<>();

		private MessageStore store;

		private Builder() {
		}

		/** The backend; required. */
		public Builder adapter(BrokerAdapter adapter) {
			this.adapter = adapter;
			return this;
		}

		/** Payload encoding; Jackson by default. */
		public Builder codec(PayloadCodec codec) {
			this.codec = Objects.requireNonNull(codec, "codec must not be null");
			return this;
		}

		/** The largest encoded payload accepted; 1 MiB by default. */
		public Builder maxPayloadBytes(int maxPayloadBytes) {
			if (maxPayloadBytes < 1) {
				throw new IllegalArgumentException("maxPayloadBytes must be positive, was " + maxPayloadBytes);
			}
			this.maxPayloadBytes = maxPayloadBytes;
			return this;
		}

		/** The CloudEvents source of what this bus publishes; {@code /amb} by default. */
		public Builder source(String source) {
			this.source = Objects.requireNonNull(source, "source must not be null");
			return this;
		}

		/** How long closing waits for in-flight handlers; 30 s by default. */
		public Builder drainTimeout(Duration drainTimeout) {
			this.drainTimeout = Objects.requireNonNull(drainTimeout, "drainTimeout must not be null");
			return this;
		}

		public Builder publishInterceptor(PublishInterceptor interceptor) {
			this.publishInterceptors.add(Objects.requireNonNull(interceptor, "interceptor must not be null"));
			return this;
		}

		public Builder deliveryInterceptor(DeliveryInterceptor interceptor) {
			this.deliveryInterceptors.add(Objects.requireNonNull(interceptor, "interceptor must not be null"));
			return this;
		}

		/**
		 * A write-ahead log: every publish is logged first, and what was not finished with is replayed
		 * by {@link DefaultMessageBus#replay()}. The bus closes the store when it closes. None by default.
		 */
		public Builder store(MessageStore store) {
			this.store = store;
			return this;
		}

		/** Starts the backend and returns the bus. */
		public DefaultMessageBus build() {
			return new DefaultMessageBus(this);
		}

	}

}
