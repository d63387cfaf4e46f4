package dev.amb.core.adapters.rabbitmq;

import java.io.IOException;
import java.util.Iterator;
import java.util.NavigableSet;
import java.util.TreeSet;

import com.rabbitmq.client.Channel;

/**
 * The acknowledgements of one channel's deliveries, sent in runs: a delivery whose handler
 * finished is acknowledged together with the ones before it by one {@code basic.ack} with
 * {@code multiple=true}, once every delivery up to it is settled. A delivery is never
 * acknowledged before its handler finished: a run ends below the lowest delivery still waiting or
 * being handled. Acknowledgements are sent when a run reaches the batch size and whenever a worker
 * runs out of work ({@link #flush}), so a quiet subscription holds none back; what the channel
 * loses when it closes unsent is delivered again, as any unacknowledged delivery is.
 * <p>
 * One per channel: delivery tags count per channel. Thread-safe; the channel's frames are sent
 * under the window's lock so that runs and single acknowledgements never cross.
 */
final class AckWindow {

	private final Channel channel;

	private final int batchSize;

	/** Received and not yet settled: waiting for a worker or being handled. */
	private final NavigableSet<Long> unsettled = new TreeSet<>();

	/** Handled, to be acknowledged. */
	private final NavigableSet<Long> toAck = new TreeSet<>();

	/**
	 * @param channel the physical channel the deliveries came on
	 * @param batchSize acknowledgements held back at most while the deliveries keep coming
	 */
	AckWindow(Channel channel, int batchSize) {
		this.channel = channel;
		this.batchSize = Math.max(1, batchSize);
	}

	Channel channel() {
		return this.channel;
	}

	/** A delivery arrived; called in delivery order. */
	synchronized void received(long tag) {
		this.unsettled.add(tag);
	}

	/**
	 * A delivery's handler finished with an acknowledgement; sends a run once it is long enough.
	 * @param tag its delivery tag
	 */
	synchronized void ack(long tag) throws IOException {
		this.unsettled.remove(tag);
		this.toAck.add(tag);
		if (this.toAck.size() >= this.batchSize) {
			sendRun();
			if (this.toAck.size() >= this.batchSize) {
				// A delivery held long by its handler blocks the run: do not hold the prefetch back.
				sendEach();
			}
		}
	}

	/**
	 * A delivery is handed back to the broker (or its handler gave up on it): a negative
	 * acknowledgement of it alone, at once.
	 * @param tag its delivery tag
	 */
	synchronized void requeue(long tag) throws IOException {
		this.unsettled.remove(tag);
		this.channel.basicNack(tag, false, true);
	}

	/** A delivery that will not be settled here (its channel is gone). */
	synchronized void forget(long tag) {
		this.unsettled.remove(tag);
	}

	/** Sends every acknowledgement held back: one run, and singly those above a delivery in work. */
	synchronized void flush() throws IOException {
		if (this.toAck.isEmpty()) {
			return;
		}
		sendRun();
		sendEach();
	}

	/** @return acknowledgements held back */
	synchronized int pending() {
		return this.toAck.size();
	}

	private void sendRun() throws IOException {
		Long lowestUnsettled = this.unsettled.isEmpty() ? null : this.unsettled.first();
		Long last = (lowestUnsettled != null) ? this.toAck.lower(lowestUnsettled) : this.toAck.last();
		if (last == null) {
			return;
		}
		NavigableSet<Long> run = this.toAck.headSet(last, true);
		if (run.size() == 1) {
			this.channel.basicAck(last, false);
		}
		else {
			// Everything up to it that is still unacknowledged on the channel was handled here.
			this.channel.basicAck(last, true);
		}
		run.clear();
	}

	private void sendEach() throws IOException {
		for (Iterator<Long> tags = this.toAck.iterator(); tags.hasNext();) {
			this.channel.basicAck(tags.next(), false);
			tags.remove();
		}
	}

}
