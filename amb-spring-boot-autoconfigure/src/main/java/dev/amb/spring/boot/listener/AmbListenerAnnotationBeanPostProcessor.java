package dev.amb.spring.boot.listener;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dev.amb.core.AmbException;
import dev.amb.core.Backoff;
import dev.amb.core.Priority;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.TopicPattern;
import dev.amb.core.Topics;
import dev.amb.spring.boot.diagnostics.AmbListenerConfigurationException;

import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.BeanExpressionContext;
import org.springframework.beans.factory.config.BeanExpressionResolver;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.MethodIntrospector;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.convert.ConversionService;
import org.springframework.core.convert.support.DefaultConversionService;
import org.springframework.util.StringUtils;

/**
 * Finds {@link AmbListener @AmbListener} methods on beans, resolves their settings (placeholders,
 * expressions, defaults from {@code amb.retry.*}), checks their signatures, and registers them
 * with the {@link AmbListenerEndpointRegistry}. Every mistake it finds stops the start-up with the
 * method's name and the fix.
 */
public class AmbListenerAnnotationBeanPostProcessor implements BeanPostProcessor, BeanFactoryAware, Ordered {

	/** The registry's bean name. */
	public static final String REGISTRY_BEAN_NAME = "ambListenerEndpointRegistry";

	private final Set<Class<?>> classesWithoutListeners = Collections.newSetFromMap(new ConcurrentHashMap<>());

	private final ListenerDefaults defaults;

	private final ConversionService conversionService = DefaultConversionService.getSharedInstance();

	private ConfigurableBeanFactory beanFactory;

	private BeanExpressionContext expressionContext;

	/**
	 * Creates the post-processor.
	 * @param defaults the settings of listeners that set none of their own
	 */
	public AmbListenerAnnotationBeanPostProcessor(ListenerDefaults defaults) {
		this.defaults = defaults;
	}

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		if (beanFactory instanceof ConfigurableBeanFactory configurable) {
			this.beanFactory = configurable;
			this.expressionContext = new BeanExpressionContext(configurable, null);
		}
	}

	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) throws BeansException {
		Class<?> targetClass = AopUtils.getTargetClass(bean);
		if (this.classesWithoutListeners.contains(targetClass)) {
			return bean;
		}
		Map<Method, AmbListener> methods = MethodIntrospector.selectMethods(targetClass,
				(MethodIntrospector.MetadataLookup<AmbListener>) (method) -> AnnotatedElementUtils
					.findMergedAnnotation(method, AmbListener.class));
		if (methods.isEmpty()) {
			this.classesWithoutListeners.add(targetClass);
			return bean;
		}
		AmbListenerEndpointRegistry registry = this.beanFactory.getBean(REGISTRY_BEAN_NAME,
				AmbListenerEndpointRegistry.class);
		methods.entrySet()
			.stream()
			.sorted(Map.Entry.comparingByKey(java.util.Comparator.comparing(Method::toGenericString)))
			.forEach((entry) -> registry.registerListener(endpoint(bean, beanName, entry.getKey(), entry.getValue())));
		return bean;
	}

	private AmbListenerEndpoint endpoint(Object bean, String beanName, Method method, AmbListener annotation) {
		String where = ListenerMethodInvoker.describe(method);
		Method invocable = AopUtils.selectInvocableMethod(method, bean.getClass());
		ListenerMethodInvoker invoker = new ListenerMethodInvoker(bean, invocable, this.conversionService);
		String id = resolve(annotation.id());
		if (!StringUtils.hasText(id)) {
			id = beanName + "." + method.getName();
		}
		List<String> topics = new ArrayList<>();
		for (String topic : annotation.topics()) {
			addTopics(topics, resolve(topic));
		}
		addTopics(topics, resolve(annotation.pattern()));
		if (topics.isEmpty()) {
			throw new AmbListenerConfigurationException(where + " names no topic.",
					"Set topics = \"...\" or pattern = \"...\" on the annotation.");
		}
		for (String topic : topics) {
			try {
				TopicPattern.compile(topic);
			}
			catch (AmbException | IllegalArgumentException ex) {
				throw new AmbListenerConfigurationException(where + " subscribes to '" + topic + "', which is not a valid topic or pattern: "
						+ ex.getMessage(), "Fix the topic name on the annotation (or the property it comes from).");
			}
		}
		String group = resolve(annotation.group());
		group = StringUtils.hasText(group) ? group.trim() : null;
		if (group != null) {
			try {
				Topics.validateTopic(group);
			}
			catch (AmbException | IllegalArgumentException ex) {
				throw new AmbListenerConfigurationException(where + " has group '" + group + "', which is not a valid name: "
						+ ex.getMessage(), "Use letters, digits, '-', '_' and '.' in group names.");
			}
		}
		String durableName = resolve(annotation.durableName());
		durableName = StringUtils.hasText(durableName) ? durableName.trim() : null;
		if (durableName != null) {
			if (group != null) {
				throw new AmbListenerConfigurationException(where + " has both group '" + group + "' and durableName '"
						+ durableName + "'; a group listener's durable name is its group.",
						"Remove durableName, or the group for a broadcast listener.");
			}
			try {
				SubscribeOptions.builder().durableName(durableName);
			}
			catch (IllegalArgumentException ex) {
				throw new AmbListenerConfigurationException(where + " has " + ex.getMessage() + ".",
						"Use a short, printable name that stays the same from one run to the next.");
			}
		}
		int concurrency = intValue(where, "concurrency", annotation.concurrency(), 1, 1);
		int maxAttempts = intValue(where, "maxAttempts", annotation.maxAttempts(), this.defaults.maxAttempts(), 1);
		Backoff backoff = backoff(where, annotation);
		Set<Priority> lanes = (annotation.lanes().length == 0) ? EnumSet.allOf(Priority.class)
				: EnumSet.copyOf(Arrays.asList(annotation.lanes()));
		String autoStartup = resolve(annotation.autoStartup());
		boolean startsWithApplication = !StringUtils.hasText(autoStartup) || booleanValue(where, autoStartup);
		AmbListenerEndpoint endpoint = new AmbListenerEndpoint(id, topics, group, durableName, concurrency, lanes,
				maxAttempts, backoff, startsWithApplication, invoker);
		for (int i = 0; i < topics.size(); i++) {
			endpoint.subscribeOptions(i);
		}
		return endpoint;
	}

	private static void addTopics(List<String> topics, String value) {
		if (!StringUtils.hasText(value)) {
			return;
		}
		for (String topic : StringUtils.commaDelimitedListToStringArray(value)) {
			if (StringUtils.hasText(topic) && !topics.contains(topic.trim())) {
				topics.add(topic.trim());
			}
		}
	}

	private Backoff backoff(String where, AmbListener annotation) {
		Backoff base = this.defaults.backoff();
		Duration initial = durationValue(where, "backoffInitial", annotation.backoffInitial(), base.initial());
		Duration max = durationValue(where, "backoffMax", annotation.backoffMax(), base.max());
		String multiplierText = resolve(annotation.backoffMultiplier());
		double multiplier = base.multiplier();
		if (StringUtils.hasText(multiplierText)) {
			try {
				multiplier = Double.parseDouble(multiplierText.trim());
			}
			catch (NumberFormatException ex) {
				throw invalid(where, "backoffMultiplier", multiplierText, "a number of at least 1.0");
			}
		}
		try {
			return new Backoff(initial, multiplier, max);
		}
		catch (IllegalArgumentException ex) {
			throw new AmbListenerConfigurationException(where + " has an invalid backoff: " + ex.getMessage() + ".",
					"Use durations of zero or more and a multiplier of at least 1.0.");
		}
	}

	private int intValue(String where, String attribute, String text, int defaultValue, int minimum) {
		String value = resolve(text);
		if (!StringUtils.hasText(value)) {
			return defaultValue;
		}
		try {
			int number = Integer.parseInt(value.trim());
			if (number < minimum) {
				throw invalid(where, attribute, value, "a whole number of at least " + minimum);
			}
			return number;
		}
		catch (NumberFormatException ex) {
			throw invalid(where, attribute, value, "a whole number of at least " + minimum);
		}
	}

	private Duration durationValue(String where, String attribute, String text, Duration defaultValue) {
		String value = resolve(text);
		if (!StringUtils.hasText(value)) {
			return defaultValue;
		}
		try {
			return DurationStyle.detectAndParse(value.trim());
		}
		catch (IllegalArgumentException ex) {
			throw invalid(where, attribute, value, "a duration such as 200ms, 5s or PT1M");
		}
	}

	private boolean booleanValue(String where, String value) {
		String trimmed = value.trim();
		if ("true".equalsIgnoreCase(trimmed) || "false".equalsIgnoreCase(trimmed)) {
			return Boolean.parseBoolean(trimmed);
		}
		throw invalid(where, "autoStartup", value, "true or false");
	}

	private static AmbListenerConfigurationException invalid(String where, String attribute, String value,
			String expected) {
		return new AmbListenerConfigurationException(where + " has " + attribute + " = '" + value + "'.",
				"Set " + attribute + " to " + expected + ".");
	}

	private String resolve(String value) {
		if (!StringUtils.hasText(value) || this.beanFactory == null) {
			return value;
		}
		String resolved = this.beanFactory.resolveEmbeddedValue(value);
		BeanExpressionResolver expressions = this.beanFactory.getBeanExpressionResolver();
		if (resolved != null && expressions != null && resolved.contains("#{")) {
			Object evaluated = expressions.evaluate(resolved, this.expressionContext);
			return (evaluated != null) ? evaluated.toString() : null;
		}
		return resolved;
	}

	/**
	 * The settings of listeners that set none of their own.
	 *
	 * @param maxAttempts deliveries before dead-lettering
	 * @param backoff the backoff between attempts
	 */
	public record ListenerDefaults(int maxAttempts, Backoff backoff) {

	}

}
