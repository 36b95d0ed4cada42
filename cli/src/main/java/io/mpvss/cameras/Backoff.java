package io.mpvss.cameras;

import java.time.Duration;

/**
 * Exponential backoff between reconnects: initial, 2x initial, 4x ... up to max, with +-20 % jitter so that cameras
 * that dropped together (a switch rebooted) do not all reconnect in the same millisecond. Reset by the first frame
 * of a connection.
 */
public final class Backoff {

    private final long initialMs;
    private final long maxMs;
    private final java.util.Random random;
    private long nextMs;

    public Backoff(Duration initial, Duration max, long seed) {
        this.initialMs = Math.max(1, initial.toMillis());
        this.maxMs = Math.max(initialMs, max.toMillis());
        this.random = new java.util.Random(seed);
        this.nextMs = initialMs;
    }

    /** The delay before the next attempt; doubles the one after it (up to max). */
    public long nextDelayMs() {
        long base = nextMs;
        nextMs = Math.min(maxMs, nextMs * 2);
        double jitter = 0.8 + 0.4 * random.nextDouble();
        return Math.max(1, Math.min(maxMs, Math.round(base * jitter)));
    }

    /** Back to the initial delay (the source delivered a frame). */
    public void reset() {
        nextMs = initialMs;
    }
}
