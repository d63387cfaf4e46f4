package dev.amb.spring.boot.listener;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import dev.amb.core.Priority;

/**
 * Marks a bean method as a subscriber of the {@link dev.amb.core.MessageBus}.
 * <p>
 * Parameters: one payload parameter of any type (generics included; read from JSON with Jackson),
 * or a {@link dev.amb.core.Message dev.amb.core.Message&lt;T&gt;} for the payload with its id,
 * key, priority and headers, and any number of {@link AmbHeader @AmbHeader} parameters. A
 * non-void return value answers a request: it is sent to the request's reply topic. A method that
 * throws gets the message again with backoff, up to {@link #maxAttempts()}, then the message goes
 * to {@code <topic>.dlq}.
 * <p>
 * Every string attribute accepts {@code ${...}} placeholders and {@code #{...}} expressions.
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface AmbListener {

	/**
	 * A unique id, used to pause and resume the listener and as the subscription name in health
	 * and metrics; {@code <bean>.<method>} by default.
	 * @return the id
	 */
	String id() default "";

	/**
	 * The topics to subscribe to; each may be a pattern with {@code *} (one segment) and {@code #}
	 * (any number of segments).
	 * @return the topics
	 */
	String[] topics() default {};

	/**
	 * One topic pattern, such as {@code agent.*.events}; an alternative to {@link #topics()}.
	 * @return the pattern
	 */
	String pattern() default "";

	/**
	 * The group: listeners (in this or other applications) sharing a group share the stream, each
	 * message is handled by one of them. Empty for a broadcast listener that gets every message.
	 * @return the group
	 */
	String group() default "";

	/**
	 * For a broadcast listener, the name it keeps across restarts in the write-ahead log
	 * ({@code amb.persistence.enabled}): each message is acknowledged per durable name, and after a
	 * crash replayed only to the durable names that had not handled it. Give each broadcast listener
	 * on the same topic its own, and keep it when the code changes; without one, broadcast listeners
	 * on the same topic share one durable name made from the topic. A group listener's durable name
	 * is its group.
	 * @return the durable name
	 */
	String durableName() default "";

	/**
	 * The number of worker threads; 1 by default.
	 * @return the concurrency
	 */
	String concurrency() default "";

	/**
	 * The priority lanes to consume; all lanes by default.
	 * @return the lanes
	 */
	Priority[] lanes() default {};

	/**
	 * Deliveries of a failing message, the first included, before it is dead-lettered;
	 * {@code amb.retry.max-attempts} by default.
	 * @return the attempts
	 */
	String maxAttempts() default "";

	/**
	 * The wait before the second attempt, such as {@code 200ms}; {@code amb.retry.backoff.initial}
	 * by default.
	 * @return the first wait
	 */
	String backoffInitial() default "";

	/**
	 * The factor applied to the wait after each further failure;
	 * {@code amb.retry.backoff.multiplier} by default.
	 * @return the multiplier
	 */
	String backoffMultiplier() default "";

	/**
	 * The longest wait between attempts; {@code amb.retry.backoff.max} by default.
	 * @return the longest wait
	 */
	String backoffMax() default "";

	/**
	 * Whether the listener starts with the application; {@code true} by default. A listener that
	 * does not can be started through the registry or the {@code amb} Actuator endpoint.
	 * @return {@code "true"} or {@code "false"}
	 */
	String autoStartup() default "";

}
