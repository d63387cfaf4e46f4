package dev.amb.core.persistence;

import java.time.Duration;

/**
 * A snapshot of the write-ahead log for health checks and metrics.
 *
 * @param writable whether appends are accepted (false once closed or after a disk failure)
 * @param policy the fsync policy
 * @param pending messages appended and not yet acknowledged
 * @param oldestPendingAge how long the oldest pending message has waited, zero if none
 * @param lastFsync how long the last force took, zero before the first
 * @param p99Fsync the 99th percentile of the last 1024 forces, zero before the first
 * @param fsyncs forces since the store was opened; fewer than the messages appended under
 * {@link FsyncPolicy#ALWAYS} when concurrent publishes share them
 * @param freeDiskBytes usable bytes left on the log's file system
 * @param corruptRecords damaged stretches found in the middle of the log at recovery
 * @param segments segment files on disk
 * @param bytesUsed bytes the segment files take
 * @param maxDiskBytes the disk-usage cap
 * @param lastError the last write failure, or null
 */
public record StoreHealth(boolean writable, FsyncPolicy policy, long pending, Duration oldestPendingAge,
		Duration lastFsync, Duration p99Fsync, long fsyncs, long freeDiskBytes, long corruptRecords, int segments,
		long bytesUsed, long maxDiskBytes, String lastError) {

}
