package dev.amb.core.codec;

import java.time.Instant;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The formatter-free time paths of {@link WireHeaders} against {@link Instant}'s own.
 */
class WireHeadersTimeTests {

	@Test
	void formatsExactlyAsInstantDoes() {
		SplittableRandom random = new SplittableRandom(42);
		long[] fixed = { 0, 1, 999, 1000, -1, -1000, -1001, 1_795_614_202_475L, 253_402_300_799_999L,
				-62_167_219_200_000L, 253_402_300_800_000L, -62_167_219_200_001L, Long.MAX_VALUE / 1000 };
		for (long millis : fixed) {
			assertThat(WireHeaders.formatTime(millis)).isEqualTo(Instant.ofEpochMilli(millis).toString());
		}
		for (int i = 0; i < 100_000; i++) {
			long millis = random.nextLong(-62_167_219_200_000L, 253_402_300_800_000L);
			assertThat(WireHeaders.formatTime(millis)).isEqualTo(Instant.ofEpochMilli(millis).toString());
		}
	}

	@Test
	void parsesInstantTextExactlyAsInstantDoes() {
		SplittableRandom random = new SplittableRandom(7);
		for (int i = 0; i < 100_000; i++) {
			Instant instant = Instant.ofEpochSecond(random.nextLong(-62_167_219_200L, 253_402_300_800L),
					(i % 3 == 0) ? 0 : random.nextInt(1_000_000_000));
			String text = instant.toString();
			assertThat(WireHeaders.parseUtcMillis(text)).as(text).isEqualTo(instant.toEpochMilli());
		}
		assertThat(WireHeaders.parseUtcMillis("2026-11-25T13:43:12.5Z")).isEqualTo(Instant.parse("2026-11-25T13:43:12.5Z").toEpochMilli());
	}

	@Test
	void leavesOtherShapesToInstantParse() {
		for (String text : new String[] { "2026-02-30T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T13:43:60Z",
				"2026-11-25 13:43:12Z", "2026-11-25T13:43:12+01:00", "2026-11-25T13:43:12.Z", "+12026-11-25T13:43:12Z",
				"2026-1x-25T13:43:12Z", "garbage" }) {
			assertThat(WireHeaders.parseUtcMillis(text)).as(text).isEqualTo(WireHeaders.NOT_PARSED);
		}
	}

}
