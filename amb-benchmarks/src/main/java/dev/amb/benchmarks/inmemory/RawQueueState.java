package dev.amb.benchmarks.inmemory;

import java.util.concurrent.ArrayBlockingQueue;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The baseline: an {@link ArrayBlockingQueue} of capacity 1024 and one consumer thread that takes
 * and counts, the least any in-process hand-off between two threads can cost.
 */
abstract class RawQueueState {

	final Deliveries deliveries = new Deliveries();

	final byte[] payload = Deliveries.payload();

	final ArrayBlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(1024);

	private Thread consumer;

	@Setup(Level.Trial)
	public void start() {
		Deliveries deliveries = this.deliveries;
		ArrayBlockingQueue<byte[]> queue = this.queue;
		this.consumer = new Thread(() -> {
			try {
				while (true) {
					queue.take();
					deliveries.received();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}, "abq-consumer");
		this.consumer.setDaemon(true);
		this.consumer.start();
	}

	@TearDown(Level.Trial)
	public void stop() throws InterruptedException {
		this.consumer.interrupt();
		this.consumer.join(5000);
	}

}
