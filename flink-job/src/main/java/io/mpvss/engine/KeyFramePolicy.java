package io.mpvss.engine;

import io.mpvss.state.KeyFrameState;
import io.mpvss.state.StreamCursor;

import java.io.Serializable;

/**
 * When a frame must be a key frame (segmentor) rather than propagated from the stream's key frame. Checked in this
 * order, the first match is the reason written to {@code key_reason}:
 * <ol>
 *   <li>{@code no-state}: the stream has no key frame (first frame, or its state expired by TTL);</li>
 *   <li>{@code model-change}: the key frame came from another model name@version (e.g. after a redeploy);</li>
 *   <li>{@code resolution}: the frame's own width/height differ from the key frame's;</li>
 *   <li>{@code seq-gap}: {@code seq - lastSeq > maxSeqGap} (frames were lost; 0 disables);</li>
 *   <li>{@code time-gap}: {@code ts - lastTs > maxTimeGapMs} (the camera paused; 0 disables);</li>
 *   <li>{@code interval}: this would be the K-th frame since the key frame ({@code framesSinceKey + 1 >= K}), so
 *       with contiguous seqs the key frames are seq 0, K, 2K, ...</li>
 * </ol>
 * Propagation is always key -> current frame (never chained), so errors do not accumulate between key frames.
 */
public final class KeyFramePolicy implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The reasons, with their wire codes. */
    public enum Reason {
        NO_STATE("no-state"),
        MODEL_CHANGE("model-change"),
        RESOLUTION("resolution"),
        SEQ_GAP("seq-gap"),
        TIME_GAP("time-gap"),
        INTERVAL("interval");

        private final String code;

        Reason(String code) {
            this.code = code;
        }

        /** The value of {@code key_reason} in mask documents. */
        public String code() {
            return code;
        }
    }

    private final int keyInterval;
    private final long maxSeqGap;
    private final long maxTimeGapMs;

    public KeyFramePolicy(int keyInterval, long maxSeqGap, long maxTimeGapMs) {
        if (keyInterval < 1) {
            throw new IllegalArgumentException("key interval must be >= 1, found " + keyInterval);
        }
        this.keyInterval = keyInterval;
        this.maxSeqGap = maxSeqGap;
        this.maxTimeGapMs = maxTimeGapMs;
    }

    public int keyInterval() {
        return keyInterval;
    }

    /** The reason this frame must be a key frame, or null to propagate from {@code key}. */
    public Reason decide(KeyFrameState key, StreamCursor cursor, String modelId, long seq, long ts, int width,
            int height) {
        return decide(key, cursor, modelId, seq, ts, width, height, keyInterval);
    }

    /**
     * As {@link #decide(KeyFrameState, StreamCursor, String, long, long, int, int)} with the interval in force for
     * the stream ({@link OverloadPolicy}) in place of the configured one.
     */
    public Reason decide(KeyFrameState key, StreamCursor cursor, String modelId, long seq, long ts, int width,
            int height, int interval) {
        if (key == null || cursor == null) {
            return Reason.NO_STATE;
        }
        if (!key.modelId().equals(modelId)) {
            return Reason.MODEL_CHANGE;
        }
        if (key.frameWidth() != width || key.frameHeight() != height) {
            return Reason.RESOLUTION;
        }
        if (maxSeqGap > 0 && seq - cursor.lastSeq() > maxSeqGap) {
            return Reason.SEQ_GAP;
        }
        if (maxTimeGapMs > 0 && ts - cursor.lastTs() > maxTimeGapMs) {
            return Reason.TIME_GAP;
        }
        if (cursor.framesSinceKey() + 1 >= interval) {
            return Reason.INTERVAL;
        }
        return null;
    }
}
