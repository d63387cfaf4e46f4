package dev.amb.spring.boot.listener;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Binds one application header of the message to an {@link AmbListener @AmbListener} method
 * parameter, converted from its string value (to a number, a UUID, an enum, ...).
 */
@Target(ElementType.PARAMETER)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface AmbHeader {

	/**
	 * The header name.
	 * @return the name
	 */
	String value();

	/**
	 * Whether a message without the header is a failure (retried, then dead-lettered) rather than
	 * a null argument.
	 * @return whether the header is required
	 */
	boolean required() default true;

}
