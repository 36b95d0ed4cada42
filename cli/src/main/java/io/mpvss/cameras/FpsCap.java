package io.mpvss.cameras;

/**
 * At most {@code fps} frames per second: a frame is admitted when it is due, with a quarter-interval of slack so
 * that a source running at exactly the cap is not thinned by its jitter. Two admitted frames are never closer than
 * half an interval, and over any longer run the admitted rate does not exceed the cap.
 */
public final class FpsCap {

    private final long intervalNanos;
    private final long slackNanos;
    private long nextDueNanos = Long.MIN_VALUE;

    public FpsCap(double fps) {
        if (!(fps > 0)) {
            throw new IllegalArgumentException("fps must be positive, got " + fps);
        }
        this.intervalNanos = Math.round(1e9 / fps);
        this.slackNanos = intervalNanos / 4;
    }

    /** Whether a frame arriving at {@code nowNanos} (System.nanoTime) is sent. */
    public boolean admit(long nowNanos) {
        if (nextDueNanos != Long.MIN_VALUE && nowNanos - (nextDueNanos - slackNanos) < 0) {
            return false;
        }
        // a late frame starts a new schedule instead of letting a burst catch up
        long base = nextDueNanos == Long.MIN_VALUE || nowNanos - nextDueNanos > intervalNanos ? nowNanos
                : Math.max(nextDueNanos, nowNanos - slackNanos);
        nextDueNanos = base + intervalNanos;
        return true;
    }
}
