package dev.amb.spring.boot.listener;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.concurrent.Future;

import dev.amb.core.Message;
import dev.amb.core.RequestHandler;
import dev.amb.spring.boot.diagnostics.AmbListenerConfigurationException;

import org.springframework.core.MethodParameter;
import org.springframework.core.convert.ConversionService;
import org.springframework.core.convert.TypeDescriptor;
import org.springframework.util.ReflectionUtils;

/**
 * Calls one {@link AmbListener @AmbListener} method: works out, once at start-up, what each
 * parameter takes (the payload, the {@link Message}, a header) and the payload type the bus reads
 * messages into; then builds the arguments for each message without reflection on the types.
 */
final class ListenerMethodInvoker implements RequestHandler<Object, Object> {

	private static final String SPRING_MESSAGE = "org.springframework.messaging.Message";

	private final Object bean;

	private final Method method;

	private final ArgumentResolver[] resolvers;

	private final Type payloadType;

	private final boolean replies;

	ListenerMethodInvoker(Object bean, Method method, ConversionService conversionService) {
		this.bean = bean;
		this.method = method;
		String where = describe(method);
		int count = method.getParameterCount();
		this.resolvers = new ArgumentResolver[count];
		Type payload = null;
		int payloadIndex = -1;
		for (int i = 0; i < count; i++) {
			MethodParameter parameter = new MethodParameter(method, i);
			Class<?> type = parameter.getParameterType();
			AmbHeader header = parameter.getParameterAnnotation(AmbHeader.class);
			if (header != null) {
				this.resolvers[i] = headerResolver(where, parameter, header, conversionService);
				continue;
			}
			if (SPRING_MESSAGE.equals(type.getName())) {
				throw new AmbListenerConfigurationException(where + " takes " + SPRING_MESSAGE
						+ ", which AMB does not deliver.",
						"Declare the parameter as dev.amb.core.Message<T> (the payload with its id, key, priority and headers), or as the payload type itself.");
			}
			Type candidate;
			if (type == Message.class) {
				Type generic = parameter.getGenericParameterType();
				candidate = (generic instanceof ParameterizedType parameterized)
						? parameterized.getActualTypeArguments()[0] : Object.class;
				if (!(candidate instanceof Class) && !(candidate instanceof ParameterizedType)) {
					candidate = Object.class;
				}
				this.resolvers[i] = (message) -> message;
			}
			else {
				candidate = parameter.getGenericParameterType();
				this.resolvers[i] = Message::getPayload;
			}
			if (payload != null) {
				throw new AmbListenerConfigurationException(where + " has two parameters that both take the payload (parameters "
						+ payloadIndex + " and " + i + ").",
						"Keep one payload parameter (the payload type, or dev.amb.core.Message<T>) and annotate the others with @AmbHeader.");
			}
			payload = candidate;
			payloadIndex = i;
		}
		this.payloadType = (payload != null) ? payload : Object.class;
		Class<?> returnType = method.getReturnType();
		if (Future.class.isAssignableFrom(returnType) || java.util.concurrent.CompletionStage.class.isAssignableFrom(returnType)) {
			throw new AmbListenerConfigurationException(where + " returns " + returnType.getName()
					+ "; asynchronous replies are not supported.",
					"Return the reply value itself (the listener runs on its own worker thread), or void when it answers no request.");
		}
		this.replies = returnType != void.class && returnType != Void.class;
		ReflectionUtils.makeAccessible(method);
	}

	private static ArgumentResolver headerResolver(String where, MethodParameter parameter, AmbHeader header,
			ConversionService conversionService) {
		String name = header.value();
		if (name.isBlank()) {
			throw new AmbListenerConfigurationException(where + " has an @AmbHeader parameter without a header name.",
					"Name the header: @AmbHeader(\"name\").");
		}
		TypeDescriptor target = new TypeDescriptor(parameter);
		TypeDescriptor source = TypeDescriptor.valueOf(String.class);
		if (!conversionService.canConvert(source, target)) {
			throw new AmbListenerConfigurationException(where + " binds header '" + name + "' to "
					+ parameter.getGenericParameterType().getTypeName() + ", which a header's string value cannot be converted to.",
					"Declare the parameter as String, a number, a boolean, a UUID, an enum, or another type Spring can convert a String to.");
		}
		boolean optional = parameter.getParameterType() == java.util.Optional.class;
		boolean required = header.required() && !parameter.isOptional();
		boolean primitive = parameter.getParameterType().isPrimitive();
		return (message) -> {
			String value = message.getHeader(name);
			if (value == null) {
				if (optional) {
					return java.util.Optional.empty();
				}
				if (required || primitive) {
					throw new IllegalArgumentException("Message " + message.getId() + " on '" + message.getTopic()
							+ "' has no header '" + name + "', which " + where + " requires");
				}
				return null;
			}
			return conversionService.convert(value, source, target);
		};
	}

	/** @return the type the bus reads payloads into */
	Type payloadType() {
		return this.payloadType;
	}

	/** @return whether the method's return value answers requests */
	boolean replies() {
		return this.replies;
	}

	Method method() {
		return this.method;
	}

	@Override
	public Object handle(Message<Object> message) throws Exception {
		Object[] arguments = new Object[this.resolvers.length];
		for (int i = 0; i < arguments.length; i++) {
			arguments[i] = this.resolvers[i].resolve(message);
		}
		try {
			return this.method.invoke(this.bean, arguments);
		}
		catch (InvocationTargetException ex) {
			Throwable cause = ex.getTargetException();
			if (cause instanceof Exception exception) {
				throw exception;
			}
			if (cause instanceof Error error) {
				throw error;
			}
			throw ex;
		}
	}

	static String describe(Method method) {
		return "@AmbListener method " + method.getDeclaringClass().getName() + "." + method.getName() + "("
				+ java.util.Arrays.stream(method.getParameterTypes())
					.map(Class::getSimpleName)
					.collect(java.util.stream.Collectors.joining(", "))
				+ ")";
	}

	@FunctionalInterface
	private interface ArgumentResolver {

		Object resolve(Message<Object> message);

	}

}
