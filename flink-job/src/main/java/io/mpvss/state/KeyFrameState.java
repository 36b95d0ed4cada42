package io.mpvss.state;

import io.mpvss.model.SegmentorOutput;
import java.util.Arrays;

/**
 * The per-stream key frame: everything the propagator needs to map any later frame of the stream (the key image at
 * model resolution, the segmentor's queries, class logits and mask logits), plus what the key-frame policy compares
 * against (seq, capture time, model id, the frame's own resolution).
 *
 * <p>The mask logits are compacted when the state is created ({@link #of}), not when it is serialized: the
 * propagator always reads the compacted values, so the heap backend, RocksDB and a restore from a checkpoint all give
 * bit-identical results. Written only on key frames; the per-frame counters live in {@link StreamCursor} so that a
 * non-key frame does not rewrite megabytes in RocksDB.
 */
public final class KeyFrameState {

    String modelId;
    long keySeq;
    long keyTs;
    int frameWidth;
    int frameHeight;
    /** Model-resolution RGB of the key frame, H*W*3. */
    byte[] image;
    float[] queries;
    float[] classLogits;
    MaskPrecision maskPrecision;
    /** Exactly one of these is set, by {@link #maskPrecision}. */
    float[] maskFp32;
    short[] maskFp16;
    /** Decoded fp16 masks, cached for the next frames of the same key (heap backend); never serialized. */
    private transient float[] maskCache;

    KeyFrameState() {}

    /** A new key frame from the segmentor's outputs; the mask logits are compacted to {@code precision} here. */
    public static KeyFrameState of(String modelId, long seq, long ts, int frameWidth, int frameHeight, byte[] image,
            SegmentorOutput out, MaskPrecision precision) {
        KeyFrameState s = new KeyFrameState();
        s.modelId = modelId;
        s.keySeq = seq;
        s.keyTs = ts;
        s.frameWidth = frameWidth;
        s.frameHeight = frameHeight;
        s.image = image;
        s.queries = out.queries();
        s.classLogits = out.classLogits();
        s.maskPrecision = precision;
        if (precision == MaskPrecision.FP16) {
            s.maskFp16 = Half.fromFloats(out.maskLogits());
        } else {
            s.maskFp32 = out.maskLogits();
        }
        return s;
    }

    /** The mask logits as the propagator gets them (fp16 values widened back to fp32). */
    public float[] maskLogits() {
        if (maskPrecision == MaskPrecision.FP32) {
            return maskFp32;
        }
        float[] c = maskCache;
        if (c == null) {
            c = Half.toFloats(maskFp16);
            maskCache = c;
        }
        return c;
    }

    /**
     * What {@link #maskLogits()} returns for a key frame whose segmentor gave {@code logits}: the state round trip,
     * for offline runs that must equal the streaming job bit for bit.
     */
    public static float[] compactRoundTrip(float[] logits, MaskPrecision precision) {
        return precision == MaskPrecision.FP16 ? Half.toFloats(Half.fromFloats(logits)) : logits;
    }

    public String modelId() { return modelId; }
    public long keySeq() { return keySeq; }
    public long keyTs() { return keyTs; }
    public int frameWidth() { return frameWidth; }
    public int frameHeight() { return frameHeight; }
    public byte[] image() { return image; }
    public float[] queries() { return queries; }
    public float[] classLogits() { return classLogits; }
    public MaskPrecision maskPrecision() { return maskPrecision; }

    KeyFrameState deepCopy() {
        KeyFrameState s = new KeyFrameState();
        s.modelId = modelId;
        s.keySeq = keySeq;
        s.keyTs = keyTs;
        s.frameWidth = frameWidth;
        s.frameHeight = frameHeight;
        s.image = image == null ? null : image.clone();
        s.queries = queries == null ? null : queries.clone();
        s.classLogits = classLogits == null ? null : classLogits.clone();
        s.maskPrecision = maskPrecision;
        s.maskFp32 = maskFp32 == null ? null : maskFp32.clone();
        s.maskFp16 = maskFp16 == null ? null : maskFp16.clone();
        return s;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeyFrameState s)) {
            return false;
        }
        return keySeq == s.keySeq && keyTs == s.keyTs && frameWidth == s.frameWidth && frameHeight == s.frameHeight
                && java.util.Objects.equals(modelId, s.modelId) && maskPrecision == s.maskPrecision
                && Arrays.equals(image, s.image) && Arrays.equals(queries, s.queries)
                && Arrays.equals(classLogits, s.classLogits) && Arrays.equals(maskFp32, s.maskFp32)
                && Arrays.equals(maskFp16, s.maskFp16);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(modelId, keySeq, keyTs);
    }

    @Override
    public String toString() {
        return "KeyFrameState{" + modelId + " seq=" + keySeq + " ts=" + keyTs + " " + frameWidth + "x" + frameHeight
                + " masks=" + maskPrecision + "}";
    }
}
