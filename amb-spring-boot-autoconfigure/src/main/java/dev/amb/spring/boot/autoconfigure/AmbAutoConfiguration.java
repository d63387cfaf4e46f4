package dev.amb.spring.boot.autoconfigure;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.MessageBus;
import dev.amb.core.codec.JacksonPayloadCodec;
import dev.amb.core.codec.PayloadCodec;
import dev.amb.core.persistence.FileMessageStore;
import dev.amb.core.persistence.MessageStore;
import dev.amb.core.spi.BrokerAdapter;
import dev.amb.core.spi.DeliveryInterceptor;
import dev.amb.core.spi.PublishInterceptor;
import dev.amb.spring.boot.listener.AmbListenerAnnotationBeanPostProcessor;
import dev.amb.spring.boot.listener.AmbListenerAnnotationBeanPostProcessor.ListenerDefaults;
import dev.amb.spring.boot.listener.AmbListenerEndpointRegistry;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.Environment;

/**
 * Auto-configuration of the {@link MessageBus}: the backend chosen by {@code amb.backend}, the
 * payload codec on the application's Jackson {@link JsonMapper}, the write-ahead log when
 * {@code amb.persistence.enabled}, the bus itself, and the {@code @AmbListener} machinery. Every
 * bean backs off when the application defines its own.
 */
@AutoConfiguration(afterName = { "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
		"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
		"org.springframework.boot.amqp.autoconfigure.RabbitAutoConfiguration",
		"org.springframework.boot.kafka.autoconfigure.KafkaAutoConfiguration" })
@EnableConfigurationProperties(AmbProperties.class)
@Import({ AmbBackendConfigurations.InMemory.class, AmbBackendConfigurations.Redis.class,
		AmbBackendConfigurations.RabbitMq.class, AmbBackendConfigurations.Kafka.class })
public final class AmbAutoConfiguration {

	// Nested, so that its conditions see the application's beans but not this class's own bus.
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnBooleanProperty("amb.persistence.enabled")
	static final class Persistence {

		// The bus closes the store after its last delivery; the context's own close afterwards does nothing.
		@Bean
		@ConditionalOnMissingBean({ MessageStore.class, MessageBus.class })
		FileMessageStore ambMessageStore(AmbProperties properties,
				ObjectProvider<AmbMessageStoreBuilderCustomizer> customizers) {
			FileMessageStore.Builder builder = AmbPersistence.builder(properties.getPersistence());
			customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
			return AmbPersistence.open(builder, properties.getPersistence());
		}

	}

	@Bean
	@ConditionalOnMissingBean
	PayloadCodec ambPayloadCodec(ObjectProvider<JsonMapper> jsonMapper) {
		JsonMapper mapper = jsonMapper.getIfUnique();
		return (mapper != null) ? new JacksonPayloadCodec(mapper) : new JacksonPayloadCodec();
	}

	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean(MessageBus.class)
	DefaultMessageBus ambMessageBus(AmbProperties properties, BrokerAdapter adapter, PayloadCodec codec,
			ObjectProvider<MessageStore> store, ObjectProvider<PublishInterceptor> publishInterceptors,
			ObjectProvider<DeliveryInterceptor> deliveryInterceptors,
			ObjectProvider<AmbMessageBusBuilderCustomizer> customizers) {
		DefaultMessageBus.Builder builder = MessageBus.builder()
			.adapter(adapter)
			.codec(codec)
			.maxPayloadBytes((int) properties.getMaxPayloadSize().toBytes())
			.source(properties.getSource())
			.drainTimeout(properties.getDrainTimeout());
		store.ifAvailable(builder::store);
		publishInterceptors.orderedStream().forEach(builder::publishInterceptor);
		deliveryInterceptors.orderedStream().forEach(builder::deliveryInterceptor);
		customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
		return builder.build();
	}

	@Bean
	@ConditionalOnMissingBean
	AmbReplayLifecycle ambReplayLifecycle(ObjectProvider<MessageBus> bus) {
		return new AmbReplayLifecycle(bus);
	}

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	@ConditionalOnMissingBean
	static AmbListenerAnnotationBeanPostProcessor ambListenerAnnotationBeanPostProcessor(Environment environment) {
		// Bound here rather than injected: a post-processor must not pull ordinary beans in early.
		AmbProperties properties = org.springframework.boot.context.properties.bind.Binder.get(environment)
			.bindOrCreate("amb", AmbProperties.class);
		properties.validate();
		return new AmbListenerAnnotationBeanPostProcessor(new ListenerDefaults(
				properties.getRetry().getMaxAttempts(), properties.getRetry().getBackoff().toBackoff()));
	}

	@Bean(name = AmbListenerAnnotationBeanPostProcessor.REGISTRY_BEAN_NAME)
	@ConditionalOnMissingBean
	AmbListenerEndpointRegistry ambListenerEndpointRegistry(ObjectProvider<MessageBus> bus) {
		return new AmbListenerEndpointRegistry(bus);
	}

}
