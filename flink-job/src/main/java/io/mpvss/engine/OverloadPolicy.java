package io.mpvss.engine;

import java.io.Serializable;

/**
 * Graceful overload: the key interval a stream runs at, and where its key-frame phase starts.
 *
 * <p><b>Interval under lag.</b> Lag is processing time minus the frame's capture time. While a stream's lag is over
 * {@code lagBoundMs}, each frame raises the interval in force by one, up to {@code maxInterval}; once the lag is
 * below half the bound, each frame lowers it by one, down to the configured interval; in between it stays
 * (hysteresis, so a lag hovering at the bound does not flip the interval every frame). A longer interval replaces
 * segmentor runs by propagator runs, so it only buys throughput in proportion to how much cheaper the propagator
 * is (see docs/BENCHMARKS.md, "Overload"). A bound of 0 disables the rule: replays of old frames (bounded sources,
 * eval) would otherwise all count as late.
 *
 * <p><b>Staggered phases.</b> Streams that start together would all take their key frames on the same seqs (0, K,
 * 2K...), so the segmentor load comes in bursts of S frames. With staggering, a stream's first key frame counts as
 * {@code hash(stream) mod K} frames already into its interval, so its next key frame comes earlier by that much and
 * the streams' key frames spread over the K phases. The same holds after any other forced key frame (a gap, a new
 * resolution or model), which many streams may also see at once. The hash is {@link String#hashCode}, which Java specifies, so the
 * phase of a stream is the same on every TaskManager and after every restart.
 */
public final class OverloadPolicy implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int baseInterval;
    private final int maxInterval;
    private final long lagBoundMs;
    private final boolean stagger;

    /**
     * @param baseInterval the key interval without overload (>= 1)
     * @param maxInterval  the longest interval the rule may raise to (values below the base mean the base)
     * @param lagBoundMs   lag above which the interval rises; 0 disables the rule
     * @param stagger      spread the streams' key-frame phases by a hash of the stream id
     */
    public OverloadPolicy(int baseInterval, int maxInterval, long lagBoundMs, boolean stagger) {
        if (baseInterval < 1) {
            throw new IllegalArgumentException("key interval must be >= 1, found " + baseInterval);
        }
        if (lagBoundMs < 0) {
            throw new IllegalArgumentException("lag bound must be >= 0, found " + lagBoundMs);
        }
        this.baseInterval = baseInterval;
        this.maxInterval = Math.max(baseInterval, maxInterval);
        this.lagBoundMs = lagBoundMs;
        this.stagger = stagger;
    }

    /** No overload rule, no staggering: the interval is always {@code baseInterval}. */
    public static OverloadPolicy off(int baseInterval) {
        return new OverloadPolicy(baseInterval, baseInterval, 0, false);
    }

    public int baseInterval() {
        return baseInterval;
    }

    public int maxInterval() {
        return maxInterval;
    }

    public boolean enabled() {
        return lagBoundMs > 0;
    }

    /**
     * The interval in force for a frame of a stream whose interval so far is {@code current} (0 = none yet: the
     * base), seen with {@code lagMs} of lag.
     */
    public int interval(int current, long lagMs) {
        int k = current <= 0 ? baseInterval : Math.min(maxInterval, Math.max(baseInterval, current));
        if (lagBoundMs <= 0) {
            return baseInterval;
        }
        if (lagMs > lagBoundMs) {
            return Math.min(maxInterval, k + 1);
        }
        if (lagMs < lagBoundMs / 2) {
            return Math.max(baseInterval, k - 1);
        }
        return k;
    }

    /**
     * How many frames into its interval a stream counts as right after a key frame taken for another reason than
     * the interval (first frame, expired state, a gap, a new resolution or model: events that many streams may see
     * at once): 0 without staggering, else {@code hash(stream) mod interval}.
     */
    public int phase(String stream, int interval) {
        return stagger ? Math.floorMod(stream.hashCode(), Math.max(1, interval)) : 0;
    }
}
