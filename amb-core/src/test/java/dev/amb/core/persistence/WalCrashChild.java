package dev.amb.core.persistence;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

import dev.amb.core.DefaultMessageBus;
import dev.amb.core.SubscribeOptions;
import dev.amb.core.inmemory.InMemoryBroker;

/**
 * The process {@link WalCrashTests} kills: publishes as fast as it can, with the fsync policy
 * named by its third argument ({@link FsyncPolicy#ALWAYS} if none), through a bus with the
 * in-memory backend and a write-ahead log, while two subscriptions handle the messages: a group
 * ({@value #GROUP}, two members' worth of workers, a little slower than the publishers) and a
 * broadcast subscription with the durable name {@value #AUDIT} (quicker), so that at the kill
 * each has handled a different share. Each line it prints is written with one unbuffered call:
 * {@code A <payload>} before a publish, {@code P <id> <payload>} once its future completed,
 * {@code D <durable name> <id> <payload>} when a handler got it (before it is acknowledged),
 * {@code READY} once the log was recovered and replayed.
 */
public final class WalCrashChild {

	static final String TOPIC = "crash.test";

	static final String GROUP = "crash-group";

	static final String AUDIT = "crash-audit";

	private static final FileOutputStream out = new FileOutputStream(FileDescriptor.out);

	private WalCrashChild() {
	}

	public static void main(String[] args) throws Exception {
		Path directory = Path.of(args[0]);
		String tag = args[1];
		FsyncPolicy policy = (args.length > 2) ? FsyncPolicy.valueOf(args[2]) : FsyncPolicy.ALWAYS;
		FileMessageStore store = FileMessageStore.builder(directory).fsync(policy).segmentBytes(256 * 1024).build();
		DefaultMessageBus bus = DefaultMessageBus.builder().adapter(new InMemoryBroker()).store(store).build();
		bus.subscribe(TOPIC, String.class, (message) -> {
			emit("D group:" + GROUP + " " + message.getId() + " " + message.getPayload());
			// A little slower than the publishers, so that a backlog is waiting at the kill
			LockSupport.parkNanos(100_000);
		}, SubscribeOptions.builder().group(GROUP).concurrency(2).build());
		bus.subscribe(TOPIC, String.class,
				(message) -> emit("D name:" + AUDIT + " " + message.getId() + " " + message.getPayload()),
				SubscribeOptions.builder().durableName(AUDIT).build());
		bus.replay();
		emit("READY");
		Semaphore inFlight = new Semaphore(256);
		for (int t = 0; t < 4; t++) {
			int thread = t;
			Thread publisher = new Thread(() -> {
				for (long sequence = 0;; sequence++) {
					String payload = tag + "-" + thread + "-" + sequence;
					inFlight.acquireUninterruptibly();
					emit("A " + payload);
					bus.publish(TOPIC, payload).whenComplete((id, failure) -> {
						inFlight.release();
						if (failure == null) {
							emit("P " + id + " " + payload);
						}
					});
				}
			}, "publisher-" + t);
			publisher.start();
		}
		Thread.sleep(Long.MAX_VALUE);
	}

	private static void emit(String line) {
		byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
		synchronized (out) {
			try {
				out.write(bytes);
			}
			catch (IOException ex) {
				// The parent went away: nothing left to tell
				System.exit(3);
			}
		}
	}

}
