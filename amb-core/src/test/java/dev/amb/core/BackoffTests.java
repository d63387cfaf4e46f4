package dev.amb.core;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

/**
 * Tests for {@link Backoff}.
 */
class BackoffTests {

	@Test
	void growsExponentiallyUpToTheMaximum() {
		Backoff backoff = new Backoff(Duration.ofMillis(100), 2.0, Duration.ofSeconds(1));
		assertThat(backoff.delayAfter(1)).isEqualTo(Duration.ofMillis(100));
		assertThat(backoff.delayAfter(2)).isEqualTo(Duration.ofMillis(200));
		assertThat(backoff.delayAfter(3)).isEqualTo(Duration.ofMillis(400));
		assertThat(backoff.delayAfter(4)).isEqualTo(Duration.ofMillis(800));
		assertThat(backoff.delayAfter(5)).isEqualTo(Duration.ofSeconds(1));
		assertThat(backoff.delayAfter(1000)).isEqualTo(Duration.ofSeconds(1));
	}

	@Test
	void attemptBelowOneIsTreatedAsTheFirst() {
		Backoff backoff = new Backoff(Duration.ofMillis(100), 3.0, Duration.ofSeconds(10));
		assertThat(backoff.delayAfter(0)).isEqualTo(Duration.ofMillis(100));
		assertThat(backoff.delayAfter(-5)).isEqualTo(Duration.ofMillis(100));
	}

	@Test
	void constantBackoffWithMultiplierOne() {
		Backoff backoff = new Backoff(Duration.ofMillis(50), 1.0, Duration.ofSeconds(10));
		assertThat(backoff.delayAfter(1)).isEqualTo(backoff.delayAfter(20)).isEqualTo(Duration.ofMillis(50));
	}

	@Test
	void noneNeverWaits() {
		assertThat(Backoff.NONE.delayAfter(1)).isZero();
		assertThat(Backoff.NONE.delayAfter(100)).isZero();
	}

	@Test
	void defaultsAreTheDocumentedOnes() {
		assertThat(Backoff.DEFAULTS.delayAfter(1)).isEqualTo(Duration.ofMillis(100));
		assertThat(Backoff.DEFAULTS.delayAfter(2)).isEqualTo(Duration.ofMillis(200));
		assertThat(Backoff.DEFAULTS.delayAfter(50)).isEqualTo(Duration.ofSeconds(5));
	}

	@Test
	void maxBelowInitialCapsEveryWait() {
		Backoff backoff = new Backoff(Duration.ofSeconds(2), 2.0, Duration.ofSeconds(1));
		assertThat(backoff.delayAfter(1)).isEqualTo(Duration.ofSeconds(1));
	}

	@Test
	void rejectsInvalidSettings() {
		assertThatIllegalArgumentException().isThrownBy(() -> new Backoff(Duration.ofMillis(-1), 2.0, Duration.ZERO));
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new Backoff(Duration.ZERO, 2.0, Duration.ofMillis(-1)));
		assertThatIllegalArgumentException().isThrownBy(() -> new Backoff(Duration.ZERO, 0.5, Duration.ZERO));
		assertThatNullPointerException().isThrownBy(() -> new Backoff(null, 2.0, Duration.ZERO));
		assertThatNullPointerException().isThrownBy(() -> new Backoff(Duration.ZERO, 2.0, null));
	}

}
