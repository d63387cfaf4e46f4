package dev.amb.spring.boot.listener;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Set;

import dev.amb.core.Backoff;
import dev.amb.core.Priority;
import dev.amb.core.SubscribeOptions;

/**
 * One {@link AmbListener @AmbListener} method with its settings resolved: what it consumes and how.
 */
public final class AmbListenerEndpoint {

	private final String id;

	private final List<String> topics;

	private final String group;

	private final String durableName;

	private final int concurrency;

	private final Set<Priority> lanes;

	private final int maxAttempts;

	private final Backoff backoff;

	private final boolean autoStartup;

	private final ListenerMethodInvoker invoker;

	AmbListenerEndpoint(String id, List<String> topics, String group, String durableName, int concurrency,
			Set<Priority> lanes, int maxAttempts, Backoff backoff, boolean autoStartup, ListenerMethodInvoker invoker) {
		this.id = id;
		this.topics = List.copyOf(topics);
		this.group = group;
		this.durableName = durableName;
		this.concurrency = concurrency;
		this.lanes = java.util.Collections.unmodifiableSet(java.util.EnumSet.copyOf(lanes));
		this.maxAttempts = maxAttempts;
		this.backoff = backoff;
		this.autoStartup = autoStartup;
		this.invoker = invoker;
	}

	/** @return the listener id */
	public String getId() {
		return this.id;
	}

	/** @return the topics or patterns */
	public List<String> getTopics() {
		return this.topics;
	}

	/** @return the group, or null for broadcast */
	public String getGroup() {
		return this.group;
	}

	/** @return the durable name of a broadcast listener, or null for the one its topic gives it */
	public String getDurableName() {
		return this.durableName;
	}

	/** @return the worker count */
	public int getConcurrency() {
		return this.concurrency;
	}

	/** @return the lanes consumed */
	public Set<Priority> getLanes() {
		return this.lanes;
	}

	/** @return deliveries before dead-lettering */
	public int getMaxAttempts() {
		return this.maxAttempts;
	}

	/** @return the backoff between attempts */
	public Backoff getBackoff() {
		return this.backoff;
	}

	/** @return whether the listener starts with the application */
	public boolean isAutoStartup() {
		return this.autoStartup;
	}

	/** @return the type payloads are read into */
	public Type getPayloadType() {
		return this.invoker.payloadType();
	}

	/** @return whether the method's return value answers requests */
	public boolean isReplying() {
		return this.invoker.replies();
	}

	/** @return the listener method */
	public Method getMethod() {
		return this.invoker.method();
	}

	ListenerMethodInvoker invoker() {
		return this.invoker;
	}

	/**
	 * The name of the subscription made for one of the topics.
	 * @param index the topic's index
	 * @return the listener id alone for a single topic, else the id with the index
	 */
	String subscriptionName(int index) {
		return (this.topics.size() == 1) ? this.id : this.id + "-" + index;
	}

	SubscribeOptions subscribeOptions(int index) {
		return SubscribeOptions.builder()
			.name(subscriptionName(index))
			.group(this.group)
			.durableName(this.durableName)
			.concurrency(this.concurrency)
			.lanes(this.lanes)
			.maxAttempts(this.maxAttempts)
			.backoff(this.backoff)
			.build();
	}

	@Override
	public String toString() {
		return "AmbListenerEndpoint[id=" + this.id + ", topics=" + this.topics + ", group=" + this.group + "]";
	}

}
