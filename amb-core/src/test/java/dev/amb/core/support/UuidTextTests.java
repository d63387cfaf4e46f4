package dev.amb.core.support;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UuidTextTests {

	@Test
	void writesWhatToStringWritesAndReadsItBack() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		for (int i = 0; i < 1000; i++) {
			UUID id = new UUID(random.nextLong(), random.nextLong());
			byte[] text = UuidText.toAscii(id);
			assertThat(new String(text, StandardCharsets.US_ASCII)).isEqualTo(id.toString());
			assertThat(UuidText.parseCanonical(text)).isEqualTo(id);
		}
		UUID extreme = new UUID(-1L, 0L);
		assertThat(new String(UuidText.toAscii(extreme), StandardCharsets.US_ASCII)).isEqualTo(extreme.toString());
		assertThat(UuidText.parseCanonical(UuidText.toAscii(extreme))).isEqualTo(extreme);
	}

	@Test
	void readsUpperCaseDigits() {
		UUID id = UUID.fromString("0198f3a2-7b1c-7def-8abc-0123456789ab");
		assertThat(UuidText.parseCanonical(ascii("0198F3A2-7B1C-7DEF-8ABC-0123456789AB"))).isEqualTo(id);
	}

	@Test
	void answersNullForWhatIsNotTheCanonicalForm() {
		assertThat(UuidText.parseCanonical(ascii("0198f3a2-7b1c-7def-8abc-0123456789a"))).isNull();
		assertThat(UuidText.parseCanonical(ascii("0198f3a2-7b1c-7def-8abc-0123456789ag"))).isNull();
		assertThat(UuidText.parseCanonical(ascii("0198f3a2x7b1c-7def-8abc-0123456789ab"))).isNull();
		assertThat(UuidText.parseCanonical(ascii("not a uuid"))).isNull();
		byte[] highByte = ascii("0198f3a2-7b1c-7def-8abc-0123456789ab");
		// 0xB0 masks to '0': it must not be read as a digit.
		highByte[0] = (byte) 0xB0;
		assertThat(UuidText.parseCanonical(highByte)).isNull();
	}

	private static byte[] ascii(String text) {
		return text.getBytes(StandardCharsets.ISO_8859_1);
	}

}
