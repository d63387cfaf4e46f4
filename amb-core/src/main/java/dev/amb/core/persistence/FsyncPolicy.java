package dev.amb.core.persistence;

/**
 * When the write-ahead log forces what it wrote to the disk, and so what a completed publish
 * future promises.
 */
public enum FsyncPolicy {

	/**
	 * Every record is forced before its publish future completes. Concurrent publishes share one
	 * force (group commit). A completed publish survives a crash of the process, of the operating
	 * system and a power loss.
	 */
	ALWAYS,

	/**
	 * Records are written to the operating system before their publish futures complete, and forced
	 * every interval. A completed publish survives a crash of the process; a power loss or an
	 * operating system crash can lose up to one interval of them.
	 */
	INTERVAL,

	/**
	 * Records are written to the operating system before their publish futures complete; the
	 * operating system decides when they reach the disk. A completed publish survives a crash of
	 * the process only.
	 */
	NEVER

}
