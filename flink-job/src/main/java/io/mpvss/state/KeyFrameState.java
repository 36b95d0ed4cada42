package io.mpvss.state;

import io.mpvss.model.SegmentorOutput;
import java.util.Arrays;
import java.util.Objects;

/**
 * The per-stream key frame: everything the propagator needs to map any later frame of the stream (the key image at
 * model resolution, the segmentor's queries, class logits and mask logits), plus what the key-frame policy compares
 * against (seq, capture time, model id, the frame's own resolution).
 *
 * <p>The key image and the mask logits are compacted when the state is created ({@link #of}), not when it is
 * serialized: the propagator always reads the compacted values back ({@link #image()}, {@link #maskLogits()}), so the
 * heap backend, RocksDB and a restore from a checkpoint all give bit-identical results. Written only on key frames;
 * the per-frame counters live in {@link StreamCursor} so that a non-key frame does not rewrite the key frame in
 * RocksDB.
 *
 * <p>Immutable once created: the arrays its accessors return must not be modified (they go to ONNX Runtime as
 * inputs, read only); {@link KeyFrameStateSerializer#copy} relies on it.
 */
public final class KeyFrameState {

    String modelId;
    long keySeq;
    long keyTs;
    int frameWidth;
    int frameHeight;
    KeyImageEncoding imageEncoding;
    /** The key image as stored: model-resolution RGB (H*W*3) when RAW, the JPEG bytes when JPEG. */
    byte[] imageBytes;
    float[] queries;
    float[] classLogits;
    MaskPrecision maskPrecision;
    /** Exactly one of these is set, by {@link #maskPrecision}. */
    float[] maskFp32;
    short[] maskFp16;
    byte[] maskU8;
    /** UINT8 only: per query, the value of level 0 and the step between levels. */
    float[] maskMin;
    float[] maskStep;
    /** Decoded key image and widened masks, cached for the next frames of the same key (heap backend); never serialized. */
    private transient byte[] imageCache;
    private transient float[] maskCache;

    KeyFrameState() {}

    /** A new key frame with a raw key image; the mask logits are compacted to {@code precision} here. */
    public static KeyFrameState of(String modelId, long seq, long ts, int frameWidth, int frameHeight, byte[] image,
            SegmentorOutput out, MaskPrecision precision) {
        return of(modelId, seq, ts, frameWidth, frameHeight, image, 0, 0, out, StateCompaction.masksOnly(precision));
    }

    /**
     * A new key frame, compacted as {@code compaction} says. {@code image} is the model-resolution RGB the segmentor
     * saw, {@code imageWidth} x {@code imageHeight} (needed only to encode it as JPEG).
     */
    public static KeyFrameState of(String modelId, long seq, long ts, int frameWidth, int frameHeight, byte[] image,
            int imageWidth, int imageHeight, SegmentorOutput out, StateCompaction compaction) {
        KeyFrameState s = new KeyFrameState();
        s.modelId = modelId;
        s.keySeq = seq;
        s.keyTs = ts;
        s.frameWidth = frameWidth;
        s.frameHeight = frameHeight;
        s.imageEncoding = compaction.keyImage();
        s.imageBytes = compaction.keyImage() == KeyImageEncoding.JPEG
                ? KeyImageJpeg.encode(image, imageWidth, imageHeight, compaction.jpegQuality())
                : image;
        s.queries = out.queries();
        s.classLogits = out.classLogits();
        s.maskPrecision = compaction.maskPrecision();
        float[] m = out.maskLogits();
        switch (s.maskPrecision) {
            case FP32 -> s.maskFp32 = m;
            case FP16 -> s.maskFp16 = Half.fromFloats(m);
            case UINT8 -> s.quantizeU8(m, maskPlane(image.length, m.length));
        }
        return s;
    }

    /**
     * Elements of one query's mask: the masks are N x H/4 x W/4 for an H x W x 3 image (the bundle contract), so
     * H*W*3 / 48 per query.
     */
    static int maskPlane(int imageLength, int maskLength) {
        int plane = imageLength / 48;
        if (plane == 0 || imageLength % 48 != 0 || maskLength % plane != 0) {
            throw new IllegalArgumentException("mask logits of " + maskLength + " values do not split into queries of "
                    + "H/4 x W/4 for a key image of " + imageLength + " bytes");
        }
        return plane;
    }

    private void quantizeU8(float[] m, int plane) {
        int n = m.length / plane;
        maskU8 = new byte[m.length];
        maskMin = new float[n];
        maskStep = new float[n];
        for (int q = 0; q < n; q++) {
            int from = q * plane;
            int to = from + plane;
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int i = from; i < to; i++) {
                float v = m[i];
                if (Float.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            if (lo > hi) { // no finite value at all
                lo = 0;
                hi = 0;
            }
            float step = (hi - lo) / 255f;
            maskMin[q] = lo;
            maskStep[q] = step;
            for (int i = from; i < to; i++) {
                float v = m[i];
                int level;
                if (step == 0 || Float.isNaN(v)) {
                    level = 0;
                } else {
                    level = Math.round((v - lo) / step); // +-inf round to 255 / 0 after the clamp
                    level = Math.max(0, Math.min(255, level));
                }
                maskU8[i] = (byte) level;
            }
        }
    }

    /** The key image as the propagator gets it: model-resolution RGB (a JPEG key image decoded, once per instance). */
    public byte[] image() {
        if (imageEncoding == KeyImageEncoding.RAW) {
            return imageBytes;
        }
        byte[] c = imageCache;
        if (c == null) {
            c = KeyImageJpeg.decode(imageBytes);
            imageCache = c;
        }
        return c;
    }

    /** The mask logits as the propagator gets them (fp16 and uint8 values widened back to fp32). */
    public float[] maskLogits() {
        if (maskPrecision == MaskPrecision.FP32) {
            return maskFp32;
        }
        float[] c = maskCache;
        if (c == null) {
            c = maskPrecision == MaskPrecision.FP16 ? Half.toFloats(maskFp16) : dequantizeU8();
            maskCache = c;
        }
        return c;
    }

    private float[] dequantizeU8() {
        float[] out = new float[maskU8.length];
        int plane = maskU8.length / maskMin.length;
        for (int q = 0, i = 0; q < maskMin.length; q++) {
            float lo = maskMin[q];
            float step = maskStep[q];
            for (int end = i + plane; i < end; i++) {
                out[i] = lo + step * (maskU8[i] & 0xff);
            }
        }
        return out;
    }

    public String modelId() { return modelId; }
    public long keySeq() { return keySeq; }
    public long keyTs() { return keyTs; }
    public int frameWidth() { return frameWidth; }
    public int frameHeight() { return frameHeight; }
    public float[] queries() { return queries; }
    public float[] classLogits() { return classLogits; }
    public MaskPrecision maskPrecision() { return maskPrecision; }
    public KeyImageEncoding imageEncoding() { return imageEncoding; }
    /** Bytes of the key image as stored (raw RGB or JPEG). */
    public int storedImageBytes() { return imageBytes.length; }

    /** Bytes of the mask logits as stored (with the uint8 per-query min and step). */
    public int storedMaskBytes() {
        return switch (maskPrecision) {
            case FP32 -> maskFp32.length * 4;
            case FP16 -> maskFp16.length * 2;
            case UINT8 -> maskU8.length + maskMin.length * 8;
        };
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof KeyFrameState s)) {
            return false;
        }
        return keySeq == s.keySeq && keyTs == s.keyTs && frameWidth == s.frameWidth && frameHeight == s.frameHeight
                && Objects.equals(modelId, s.modelId) && maskPrecision == s.maskPrecision
                && imageEncoding == s.imageEncoding && Arrays.equals(imageBytes, s.imageBytes)
                && Arrays.equals(queries, s.queries) && Arrays.equals(classLogits, s.classLogits)
                && Arrays.equals(maskFp32, s.maskFp32) && Arrays.equals(maskFp16, s.maskFp16)
                && Arrays.equals(maskU8, s.maskU8) && Arrays.equals(maskMin, s.maskMin)
                && Arrays.equals(maskStep, s.maskStep);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelId, keySeq, keyTs);
    }

    @Override
    public String toString() {
        return "KeyFrameState{" + modelId + " seq=" + keySeq + " ts=" + keyTs + " " + frameWidth + "x" + frameHeight
                + " masks=" + maskPrecision + " image=" + imageEncoding + "}";
    }
}
