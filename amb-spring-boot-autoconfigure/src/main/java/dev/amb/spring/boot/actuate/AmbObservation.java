package dev.amb.spring.boot.actuate;

import java.util.Map;

import dev.amb.core.Message;
import dev.amb.core.codec.WireHeaders;
import dev.amb.core.spi.DeliveryInterceptor;
import dev.amb.core.spi.PublishInterceptor;
import io.micrometer.common.KeyValues;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;

/**
 * Micrometer Observation around publish ({@value #PUBLISH}) and handle ({@value #PROCESS}), so that
 * a trace crosses the bus: the tracing handler writes the trace context (such as
 * {@code traceparent} or {@code b3}) into the message's application headers on publish, and reads
 * it back on delivery; the handler runs inside the observation, so what it publishes joins the
 * same trace.
 */
public final class AmbObservation implements PublishInterceptor, DeliveryInterceptor {

	/** The observation of a publish. */
	public static final String PUBLISH = "amb.publish";

	/** The observation of a handler invocation. */
	public static final String PROCESS = "amb.process";

	private final ObservationRegistry registry;

	/**
	 * Creates the interceptor.
	 * @param registry the registry
	 */
	public AmbObservation(ObservationRegistry registry) {
		this.registry = registry;
	}

	@Override
	public Completion beforePublish(String topic, Map<String, String> headers) {
		SenderContext<Map<String, String>> context = new SenderContext<>(AmbObservation::setHeader);
		context.setCarrier(headers);
		context.setRemoteServiceName("amb");
		Observation observation = Observation.createNotStarted(PUBLISH, () -> context, this.registry)
			.contextualName(topic + " publish")
			.lowCardinalityKeyValues(KeyValues.of("messaging.system", "amb", "messaging.operation", "publish"))
			.highCardinalityKeyValue("messaging.destination.name", topic)
			.start();
		return (failure) -> {
			if (failure != null) {
				observation.error(failure);
			}
			observation.stop();
		};
	}

	@Override
	public Object aroundDelivery(Message<?> message, String subscriptionId, Invocation invocation) throws Exception {
		ReceiverContext<Message<?>> context = new ReceiverContext<>(AmbObservation::getHeader);
		context.setCarrier(message);
		context.setRemoteServiceName("amb");
		Observation observation = Observation.createNotStarted(PROCESS, () -> context, this.registry)
			.contextualName(message.getTopic() + " process")
			.lowCardinalityKeyValues(KeyValues.of("messaging.system", "amb", "messaging.operation", "process"))
			.highCardinalityKeyValues(KeyValues.of("messaging.destination.name", message.getTopic(),
					"messaging.message.id", String.valueOf(message.getId()), "amb.subscription", subscriptionId));
		return observation.observeChecked(invocation::proceed);
	}

	// Envelope attributes are never overwritten by a propagator.
	private static void setHeader(Map<String, String> headers, String name, String value) {
		if (headers != null && !WireHeaders.isReserved(name)) {
			headers.put(name, value);
		}
	}

	private static String getHeader(Message<?> message, String name) {
		return message.getHeader(name);
	}

}
