package dev.amb.core.codec;

import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import dev.amb.core.InvalidMessageException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.json.JsonMapper;

/**
 * The default codec: JSON through Jackson 3 for records, beans, maps and lists; strings as UTF-8
 * text; byte arrays as they are. Polymorphic (default) typing is never enabled, so a message from
 * the network cannot choose which class is instantiated.
 */
public final class JacksonPayloadCodec implements PayloadCodec {

	private final JsonMapper mapper;

	/** A codec on a plain {@link JsonMapper}. */
	public JacksonPayloadCodec() {
		this(JsonMapper.builder().build());
	}

	/**
	 * A codec on the application's mapper (Spring Boot's, with its modules and settings).
	 * @param mapper the mapper; must not have default typing enabled
	 */
	public JacksonPayloadCodec(JsonMapper mapper) {
		this.mapper = mapper;
	}

	@Override
	public String contentType(Object payload) {
		if (payload instanceof byte[]) {
			return BYTES;
		}
		if (payload instanceof CharSequence) {
			return TEXT;
		}
		return JSON;
	}

	@Override
	public byte[] encode(Object payload) {
		if (payload instanceof byte[] bytes) {
			return Arrays.copyOf(bytes, bytes.length);
		}
		if (payload instanceof CharSequence text) {
			return text.toString().getBytes(StandardCharsets.UTF_8);
		}
		try {
			return this.mapper.writeValueAsBytes(payload);
		}
		catch (JacksonException ex) {
			throw new InvalidMessageException("Payload of type " + payload.getClass().getName()
					+ " cannot be written as JSON: " + ex.getOriginalMessage(), ex);
		}
	}

	@Override
	public Object decode(byte[] bytes, String contentType, Type type) {
		if (type == byte[].class) {
			return Arrays.copyOf(bytes, bytes.length);
		}
		if (type == String.class || type == CharSequence.class) {
			return new String(bytes, StandardCharsets.UTF_8);
		}
		if (contentType != null && contentType.startsWith("text/")) {
			if (type == Object.class) {
				return new String(bytes, StandardCharsets.UTF_8);
			}
		}
		else if (BYTES.equals(contentType)) {
			if (type == Object.class) {
				return Arrays.copyOf(bytes, bytes.length);
			}
			throw new PayloadDecodingException("A payload of raw bytes (" + BYTES + ") cannot be read as " + type
					+ "; subscribe with byte[] or Object", null);
		}
		try {
			JavaType javaType = this.mapper.constructType(type);
			return this.mapper.readValue(bytes, javaType);
		}
		catch (JacksonException ex) {
			throw new PayloadDecodingException(
					"Payload (" + bytes.length + " bytes, " + contentType + ") cannot be read as " + type.getTypeName()
							+ ": " + ex.getOriginalMessage(),
					ex);
		}
	}

}
