package dev.amb.core.support;

import java.util.ArrayDeque;
import java.util.Collection;

import dev.amb.core.Priority;

/**
 * A queue per priority lane, taken highest lane first except that after {@code starvationBound}
 * items served ahead of a waiting lower lane, the lowest waiting lane gets one. Not thread-safe:
 * the adapters' hand-off buffers hold their own lock around it.
 *
 * @param <T> the item type
 */
public final class LaneQueues<T> {

	private final ArrayDeque<T>[] lanes;

	private final int starvationBound;

	private int size;

	private int servedAhead;

	/**
	 * Creates empty lanes.
	 * @param starvationBound items served from higher lanes before a waiting lower lane gets one
	 */
	@SuppressWarnings("unchecked")
	public LaneQueues(int starvationBound) {
		if (starvationBound < 1) {
			throw new IllegalArgumentException("starvationBound must be at least 1, was " + starvationBound);
		}
		this.starvationBound = starvationBound;
		this.lanes = new ArrayDeque[Priority.laneCount()];
		for (int lane = 0; lane < this.lanes.length; lane++) {
			this.lanes[lane] = new ArrayDeque<>();
		}
	}

	/**
	 * Adds an item at the tail of its lane.
	 * @param lane the lane index, 0 for the highest
	 * @param item the item
	 */
	public void add(int lane, T item) {
		this.lanes[lane].addLast(item);
		this.size++;
	}

	/**
	 * Puts an item taken too early back at the head of its lane, ahead of everything waiting there.
	 * @param lane the lane index, 0 for the highest
	 * @param item the item
	 */
	public void addFirst(int lane, T item) {
		this.lanes[lane].addFirst(item);
		this.size++;
	}

	/**
	 * Takes the next item under the starvation bound.
	 * @return the item, or null if every lane is empty
	 */
	public T poll() {
		if (this.size == 0) {
			return null;
		}
		int highest = -1;
		int lowest = -1;
		for (int lane = 0; lane < this.lanes.length; lane++) {
			if (!this.lanes[lane].isEmpty()) {
				if (highest < 0) {
					highest = lane;
				}
				lowest = lane;
			}
		}
		int from = highest;
		if (lowest != highest) {
			if (this.servedAhead >= this.starvationBound) {
				from = lowest;
				this.servedAhead = 0;
			}
			else {
				this.servedAhead++;
			}
		}
		else {
			this.servedAhead = 0;
		}
		this.size--;
		return this.lanes[from].pollFirst();
	}

	/** @return the items waiting across lanes */
	public int size() {
		return this.size;
	}

	/** @return whether no item waits */
	public boolean isEmpty() {
		return this.size == 0;
	}

	/**
	 * Adds each lane's depth to the given totals.
	 * @param depths per-lane totals, index 0 for the highest lane
	 */
	public void addDepthsTo(long[] depths) {
		for (int lane = 0; lane < this.lanes.length; lane++) {
			depths[lane] += this.lanes[lane].size();
		}
	}

	/**
	 * Moves every waiting item out, highest lane first.
	 * @param target where to put them
	 */
	public void drainTo(Collection<? super T> target) {
		for (ArrayDeque<T> lane : this.lanes) {
			target.addAll(lane);
			lane.clear();
		}
		this.size = 0;
	}

}
