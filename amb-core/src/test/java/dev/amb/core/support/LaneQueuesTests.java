package dev.amb.core.support;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link LaneQueues}.
 */
class LaneQueuesTests {

	@Test
	void highestLaneGoesFirstAndOrderHoldsWithinALane() {
		LaneQueues<String> lanes = new LaneQueues<>(100);
		lanes.add(2, "low-1");
		lanes.add(1, "normal-1");
		lanes.add(0, "high-1");
		lanes.add(0, "high-2");
		assertThat(pollAll(lanes)).containsExactly("high-1", "high-2", "normal-1", "low-1");
		assertThat(lanes.poll()).isNull();
	}

	@Test
	void afterTheStarvationBoundTheLowestWaitingLaneGetsOne() {
		LaneQueues<String> lanes = new LaneQueues<>(2);
		lanes.add(2, "low");
		for (int i = 1; i <= 5; i++) {
			lanes.add(0, "high-" + i);
		}
		assertThat(pollAll(lanes)).containsExactly("high-1", "high-2", "low", "high-3", "high-4", "high-5");
	}

	@Test
	void sizeDepthsAndDrainAgree() {
		LaneQueues<String> lanes = new LaneQueues<>(16);
		lanes.add(0, "h");
		lanes.add(2, "l1");
		lanes.add(2, "l2");
		long[] depths = new long[] { 1, 1, 1 };
		lanes.addDepthsTo(depths);
		assertThat(depths).containsExactly(2, 1, 3);
		assertThat(lanes.size()).isEqualTo(3);
		List<String> drained = new ArrayList<>();
		lanes.drainTo(drained);
		assertThat(drained).containsExactly("h", "l1", "l2");
		assertThat(lanes.isEmpty()).isTrue();
	}

	@Test
	void anItemGivenBackGoesAheadOfItsLane() {
		LaneQueues<String> lanes = new LaneQueues<>(16);
		lanes.add(2, "low-2");
		lanes.addFirst(2, "low-1");
		lanes.add(0, "high");
		assertThat(pollAll(lanes)).containsExactly("high", "low-1", "low-2");
	}

	@Test
	void starvationBoundMustBePositive() {
		assertThatIllegalArgumentException().isThrownBy(() -> new LaneQueues<String>(0))
			.withMessageContaining("starvationBound");
	}

	private static List<String> pollAll(LaneQueues<String> lanes) {
		List<String> polled = new ArrayList<>();
		String next;
		while ((next = lanes.poll()) != null) {
			polled.add(next);
		}
		return polled;
	}

}
