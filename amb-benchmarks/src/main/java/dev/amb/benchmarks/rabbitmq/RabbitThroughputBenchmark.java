package dev.amb.benchmarks.rabbitmq;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageDeliveryMode;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.amqp.rabbit.listener.SimpleMessageListenerContainer;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerAdapter;
import dev.amb.core.adapters.rabbitmq.RabbitBrokerSettings;

/**
 * Throughput from the first publish to the last receipt, one publisher thread and one consumer
 * in one JVM, 256-byte payloads, persistent messages, at most 500 publishes awaiting a confirm:
 * AMB over RabbitMQ ({@code amb}) beside a raw {@link RabbitTemplate} publishing on one
 * dedicated channel with confirm callbacks and a {@link SimpleMessageListenerContainer} with
 * prefetch 250 ({@code raw}), in the same run against the same broker (127.0.0.1:5672,
 * guest/guest).
 * <p>
 * The {@code raw} path once sent each message with its own {@code CorrelationData} on a
 * {@code CORRELATED} connection factory: a cached channel with confirms pending goes back to the
 * cache only when they arrive, so nearly every send opened a new channel (800 to 2,600 msg/s), a
 * baseline no Spring application publishing at throughput would use.
 * <p>
 * Run: {@code java -jar amb-benchmarks/target/amb-benchmarks.jar rabbitmq -f 1 -wi 2 -i 3}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
public class RabbitThroughputBenchmark {

	static final int MESSAGES = 10_000;

	static final int CONFIRM_WINDOW = 500;

	static final int PREFETCH = 250;

	/**
	 * {@code amb}: the bus; {@code raw}: {@code RabbitTemplate.invoke(...)} on one dedicated channel
	 * in confirm mode with ack and nack callbacks, how a Spring application publishes with confirms
	 * at throughput; {@code raw-channel}: the AMQP client's channel in confirm mode,
	 * the leanest way to publish with confirms (what AMB's adapter itself does).
	 */
	@Param({ "amb", "raw", "raw-channel" })
	public String path;

	/*
	 * Not in the default parameters, for finding where AMB's cost lies (RabbitCpuRun):
	 * "raw-channel-priority" publishes as raw-channel to a queue with x-max-priority 2 and AMQP
	 * priority 1, as AMB's queues are; "raw-channel-headers" adds a header table the size of
	 * AMB's CloudEvents headers to that.
	 */

	private final byte[] payload = new byte[256];

	private final String suffix = UUID.randomUUID().toString().substring(0, 8);

	private final AtomicLong received = new AtomicLong();

	private CachingConnectionFactory connectionFactory;

	// AMB
	private DefaultMessageBus bus;

	private String topic;

	// raw
	private RabbitTemplate template;

	private SimpleMessageListenerContainer container;

	private String exchange;

	private String queue;

	private Semaphore window;

	private Channel confirmChannel;

	private final java.util.concurrent.ConcurrentSkipListSet<Long> unconfirmed = new java.util.concurrent.ConcurrentSkipListSet<>();

	@Setup(Level.Trial)
	public void setUp() throws Exception {
		for (int i = 0; i < this.payload.length; i++) {
			this.payload[i] = (byte) ('a' + i % 26);
		}
		this.connectionFactory = new CachingConnectionFactory("127.0.0.1", 5672);
		this.connectionFactory.setUsername("guest");
		this.connectionFactory.setPassword("guest");
		if (this.path.equals("amb")) {
			setUpAmb();
		}
		else {
			setUpRaw();
		}
	}

	private void setUpAmb() {
		RabbitBrokerSettings settings = RabbitBrokerSettings.builder()
			.exchange("amb-bench-" + this.suffix)
			.prefetch(PREFETCH)
			.maxOutstandingConfirms(CONFIRM_WINDOW)
			.build();
		this.bus = DefaultMessageBus.builder()
			.adapter(new RabbitBrokerAdapter(this.connectionFactory, settings))
			.drainTimeout(Duration.ofSeconds(10))
			.build();
		this.topic = "bench.rabbit." + this.suffix;
		this.bus.subscribe(this.topic, byte[].class, (message) -> this.received.incrementAndGet(),
				SubscribeOptions.group("bench"));
	}

	private void setUpRaw() throws Exception {
		if (this.path.equals("raw")) {
			// SIMPLE: the template's invoke(...) gets a channel in confirm mode and registers the
			// ack and nack callbacks on it.
			this.connectionFactory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.SIMPLE);
		}
		this.exchange = "raw-bench-" + this.suffix;
		this.queue = "raw-bench-" + this.suffix;
		try (var connection = this.connectionFactory.createConnection()) {
			Channel channel = connection.createChannel(false);
			channel.exchangeDeclare(this.exchange, BuiltinExchangeType.TOPIC, true);
			Map<String, Object> arguments = this.path.startsWith("raw-channel-") ? Map.of("x-max-priority", 2) : Map.of();
			channel.queueDeclare(this.queue, true, false, false, arguments);
			channel.queueBind(this.queue, this.exchange, "bench.#");
			channel.close();
		}
		this.template = new RabbitTemplate(this.connectionFactory);
		this.window = new Semaphore(CONFIRM_WINDOW);
		if (this.path.startsWith("raw-channel")) {
			this.confirmChannel = this.connectionFactory.createConnection().createChannel(false);
			this.confirmChannel.confirmSelect();
			this.confirmChannel.addConfirmListener((tag, multiple) -> confirmed(tag, multiple),
					(tag, multiple) -> confirmed(tag, multiple));
		}
		this.container = new SimpleMessageListenerContainer(this.connectionFactory);
		this.container.setQueueNames(this.queue);
		this.container.setPrefetchCount(PREFETCH);
		this.container.setAcknowledgeMode(AcknowledgeMode.AUTO);
		this.container.setMessageListener((Message message) -> this.received.incrementAndGet());
		this.container.afterPropertiesSet();
		this.container.start();
	}

	private void confirmed(long tag, boolean multiple) {
		if (multiple) {
			var done = this.unconfirmed.headSet(tag, true);
			int count = done.size();
			done.clear();
			this.window.release(count);
		}
		else if (this.unconfirmed.remove(tag)) {
			this.window.release();
		}
	}

	private void acquireWindow() {
		acquireWindow(1);
	}

	private void acquireWindow(int permits) {
		try {
			this.window.acquire(permits);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

	@Benchmark
	@OperationsPerInvocation(MESSAGES)
	public long publishAndReceive() throws Exception {
		long target = this.received.get() + MESSAGES;
		if (this.bus != null) {
			for (int i = 0; i < MESSAGES; i++) {
				this.bus.publish(this.topic, this.payload);
			}
		}
		else if (this.confirmChannel != null) {
			com.rabbitmq.client.AMQP.BasicProperties.Builder builder = new com.rabbitmq.client.AMQP.BasicProperties.Builder()
				.contentType(MessageProperties.CONTENT_TYPE_BYTES)
				.deliveryMode(2);
			if (this.path.startsWith("raw-channel-")) {
				builder.priority(1);
			}
			if (this.path.equals("raw-channel-headers")) {
				Map<String, Object> headers = new java.util.LinkedHashMap<>();
				headers.put("specversion", "1.0");
				headers.put("id", UUID.randomUUID().toString());
				headers.put("source", "/amb");
				headers.put("type", "dev.amb.message");
				headers.put("time", "2026-11-25T22:30:00.123Z");
				headers.put("datacontenttype", "application/octet-stream");
				headers.put("ambtopic", "bench.rabbit." + this.suffix);
				headers.put("ambpriority", "normal");
				builder.headers(headers)
					.messageId(UUID.randomUUID().toString())
					.timestamp(new java.util.Date())
					.type("dev.amb.message");
			}
			com.rabbitmq.client.AMQP.BasicProperties properties = builder.build();
			for (int i = 0; i < MESSAGES; i++) {
				this.window.acquire();
				this.unconfirmed.add(this.confirmChannel.getNextPublishSeqNo());
				this.confirmChannel.basicPublish(this.exchange, "bench.rabbit", false, properties, this.payload);
			}
		}
		else {
			MessageProperties properties = new MessageProperties();
			properties.setContentType(MessageProperties.CONTENT_TYPE_BYTES);
			properties.setDeliveryMode(MessageDeliveryMode.PERSISTENT);
			Message message = new Message(this.payload, properties);
			// One dedicated channel for the batch, a sliding window of outstanding confirms released
			// by the ack and nack callbacks; the delivery tags are the channel's publish sequence.
			this.template.invoke((operations) -> {
				long next = operations.execute(Channel::getNextPublishSeqNo);
				for (int i = 0; i < MESSAGES; i++) {
					acquireWindow();
					this.unconfirmed.add(next++);
					operations.send(this.exchange, "bench.rabbit", message);
				}
				// The callbacks are registered only while invoke runs: wait for the last confirms.
				acquireWindow(CONFIRM_WINDOW);
				this.window.release(CONFIRM_WINDOW);
				return null;
			}, this::confirmed, this::confirmed);
		}
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
		while (this.received.get() < target) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("Only " + (this.received.get() - target + MESSAGES) + " of " + MESSAGES
						+ " messages arrived within 120 s");
			}
			Thread.onSpinWait();
			Thread.sleep(0, 200_000);
		}
		return this.received.get();
	}

	@TearDown(Level.Trial)
	public void tearDown() throws Exception {
		if (this.bus != null) {
			this.bus.close();
			try (var connection = this.connectionFactory.createConnection()) {
				Channel channel = connection.createChannel(false);
				String exchangeName = "amb-bench-" + this.suffix;
				channel.queueDelete(exchangeName + ".bench@" + this.topic);
				channel.queueDelete(exchangeName + ".dlq.unrouted");
				channel.exchangeDelete(exchangeName);
				channel.exchangeDelete(exchangeName + ".dlq");
				channel.exchangeDelete(exchangeName + ".internal");
				channel.exchangeDelete(exchangeName + ".dlq.unrouted");
				channel.close();
			}
		}
		else {
			this.container.stop();
			try (var connection = this.connectionFactory.createConnection()) {
				Channel channel = connection.createChannel(false);
				channel.queueDelete(this.queue);
				channel.exchangeDelete(this.exchange);
				channel.close();
			}
		}
		this.connectionFactory.destroy();
	}

}
