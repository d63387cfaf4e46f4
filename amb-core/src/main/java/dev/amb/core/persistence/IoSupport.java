package dev.amb.core.persistence;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;

/**
 * Small helpers for the log's file handling.
 */
final class IoSupport {

	private IoSupport() {
	}

	/** An I/O failure as a short phrase for an error message: its type, the file and the reason. */
	static String describe(IOException ex) {
		String reason = ex.getMessage();
		if (ex instanceof FileSystemException fileSystem && fileSystem.getReason() != null) {
			reason = fileSystem.getFile() + ": " + fileSystem.getReason();
		}
		return ex.getClass().getSimpleName() + " (" + reason + ")";
	}

	static void closeQuietly(FileChannel channel) {
		if (channel != null) {
			try {
				channel.close();
			}
			catch (IOException ignored) {
				// closing is best effort
			}
		}
	}

}
