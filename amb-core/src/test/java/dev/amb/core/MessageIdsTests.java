package dev.amb.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link MessageIds}: RFC 9562 version 7 UUIDs, ordered by time.
 */
class MessageIdsTests {

	@Test
	void idsAreVersion7WithTheRfcVariant() {
		UUID id = MessageIds.next();
		assertThat(id.version()).isEqualTo(7);
		assertThat(id.variant()).isEqualTo(2);
		assertThat(UUID.fromString(id.toString())).isEqualTo(id);
	}

	@Test
	void idsCarryTheirCreationTime() {
		long now = System.currentTimeMillis();
		assertThat(MessageIds.epochMillis(MessageIds.next(now))).isEqualTo(now);
		long before = System.currentTimeMillis();
		UUID id = MessageIds.next();
		long after = System.currentTimeMillis();
		assertThat(MessageIds.epochMillis(id)).isBetween(before, after);
		// The first 12 hex digits are the milliseconds, so the text form sorts by time too.
		assertThat(Long.parseLong(id.toString().replace("-", "").substring(0, 12), 16)).isEqualTo(
				MessageIds.epochMillis(id));
	}

	@Test
	void epochMillisOfAnotherVersionIsUnknown() {
		assertThat(MessageIds.epochMillis(UUID.randomUUID())).isEqualTo(-1);
	}

	@Test
	void idsSortByTimeAcrossMilliseconds() {
		long start = 1_700_000_000_000L;
		List<UUID> ids = new ArrayList<>();
		for (int i = 0; i < 1000; i++) {
			ids.add(MessageIds.next(start + i));
		}
		assertThat(ids).isSorted();
		List<String> texts = ids.stream().map(UUID::toString).toList();
		assertThat(texts).isSorted();
	}

	@Test
	void idsAreUniqueWithinOneMillisecond() {
		Set<UUID> ids = new HashSet<>();
		long now = System.currentTimeMillis();
		for (int i = 0; i < 100_000; i++) {
			ids.add(MessageIds.next(now));
		}
		assertThat(ids).hasSize(100_000);
		assertThat(ids).allMatch((id) -> MessageIds.epochMillis(id) == now);
	}

}
