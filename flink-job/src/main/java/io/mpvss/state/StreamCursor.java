package io.mpvss.state;

/**
 * The small per-stream progress record, written on every frame: the last seq and capture time accepted, and how
 * many frames were propagated since the key frame. Separate from {@link KeyFrameState} so that RocksDB rewrites a
 * few bytes per frame instead of the key frame's megabytes.
 */
public record StreamCursor(long lastSeq, long lastTs, int framesSinceKey) {}
