package dev.amb.core.codec;

import java.lang.reflect.Type;

/**
 * Turns payloads into bytes and back. Implementations must never let the bytes choose the class
 * that is instantiated: the target type always comes from the handler.
 */
public interface PayloadCodec {

	/** Media type of JSON payloads. */
	String JSON = "application/json";

	/** Media type of text payloads. */
	String TEXT = "text/plain; charset=utf-8";

	/** Media type of raw byte payloads. */
	String BYTES = "application/octet-stream";

	/**
	 * The media type a payload is encoded as.
	 * @param payload the payload, not null
	 * @return the media type, one of {@link #JSON}, {@link #TEXT}, {@link #BYTES} or another
	 */
	String contentType(Object payload);

	/**
	 * Encodes a payload.
	 * @param payload the payload, not null
	 * @return bytes the caller owns
	 * @throws dev.amb.core.InvalidMessageException if the payload cannot be encoded
	 */
	byte[] encode(Object payload);

	/**
	 * Decodes a payload into the type asked for.
	 * @param bytes the bytes, not modified
	 * @param contentType their media type, or null for JSON
	 * @param type the target type
	 * @return the payload
	 * @throws PayloadDecodingException if the bytes cannot be read as that type
	 */
	Object decode(byte[] bytes, String contentType, Type type);

}
