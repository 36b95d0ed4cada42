package io.mpvss.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.mpvss.format.LabelMapPng;

/**
 * Scores the label maps a job emitted against ground truth, one frame at a time: confusion matrices over all frames,
 * key frames, propagated frames and per stream, and the operator's processing time per frame (all, key, propagated).
 * The one scoring loop of {@code mpvss demo} and {@code mpvss eval}.
 */
public final class MaskScores {

    /** What became of one frame. */
    public enum Outcome {
        /** Compared with its ground truth. */
        SCORED,
        /** No ground truth for this frame: counted, not scored. */
        NO_LABEL,
        /** Prediction and ground truth differ in size: counted, not scored. */
        SIZE_MISMATCH
    }

    /** Frames and key frames of one stream. */
    public record StreamCounts(long frames, long keyFrames) {
    }

    private final List<String> classNames;
    private final ConfusionMatrix all;
    private final ConfusionMatrix keyFrames;
    private final ConfusionMatrix propagated;
    private final Map<String, ConfusionMatrix> perStream = new TreeMap<>();
    private final Map<String, long[]> perStreamCounts = new TreeMap<>();
    private final LatencyStats processingMs = new LatencyStats();
    private final LatencyStats processingMsKey = new LatencyStats();
    private final LatencyStats processingMsPropagated = new LatencyStats();
    private long frames;
    private long keyFrameCount;
    private long scored;
    private long sizeMismatches;

    public MaskScores(List<String> classNames) {
        this.classNames = List.copyOf(classNames);
        int k = classNames.size();
        this.all = new ConfusionMatrix(k);
        this.keyFrames = new ConfusionMatrix(k);
        this.propagated = new ConfusionMatrix(k);
    }

    /**
     * Counts one emitted frame and scores it against {@code truth} (null: the frame has no label).
     *
     * @param processingMs the operator's time for the frame (the mask document's {@code processing_ms})
     */
    public Outcome add(String stream, boolean keyFrame, double processingMs, LabelMapPng.Image predicted,
                       LabelClips.LabelMap truth) {
        frames++;
        long[] counts = perStreamCounts.computeIfAbsent(stream, s -> new long[2]);
        counts[0]++;
        if (keyFrame) {
            keyFrameCount++;
            counts[1]++;
        }
        this.processingMs.add(processingMs);
        (keyFrame ? processingMsKey : processingMsPropagated).add(processingMs);
        if (truth == null) {
            return Outcome.NO_LABEL;
        }
        if (truth.width() != predicted.width() || truth.height() != predicted.height()) {
            sizeMismatches++;
            return Outcome.SIZE_MISMATCH;
        }
        all.add(truth.labels(), predicted.labels());
        (keyFrame ? keyFrames : propagated).add(truth.labels(), predicted.labels());
        perStream.computeIfAbsent(stream, s -> new ConfusionMatrix(classNames.size()))
                .add(truth.labels(), predicted.labels());
        scored++;
        return Outcome.SCORED;
    }

    /** Pixels per class name of a label map (ids outside the classes, e.g. 255 = no prediction, not counted). */
    public Map<String, Long> classPixels(byte[] labels) {
        long[] counts = new long[classNames.size()];
        for (byte b : labels) {
            int c = b & 0xFF;
            if (c < counts.length) {
                counts[c]++;
            }
        }
        Map<String, Long> r = new LinkedHashMap<>();
        for (int c = 0; c < counts.length; c++) {
            r.put(classNames.get(c), counts[c]);
        }
        return r;
    }

    public List<String> classNames() {
        return classNames;
    }

    /** All scored frames. */
    public ConfusionMatrix all() {
        return all;
    }

    /** Scored key frames (segmentor). */
    public ConfusionMatrix keyFrames() {
        return keyFrames;
    }

    /** Scored propagated frames (propagator). */
    public ConfusionMatrix propagated() {
        return propagated;
    }

    /** Scored frames per stream; a stream without a scored frame is absent. */
    public ConfusionMatrix stream(String stream) {
        return perStream.get(stream);
    }

    /** Frames and key frames per stream, by stream id. */
    public Map<String, StreamCounts> streamCounts() {
        Map<String, StreamCounts> r = new TreeMap<>();
        perStreamCounts.forEach((s, c) -> r.put(s, new StreamCounts(c[0], c[1])));
        return r;
    }

    /** mIoU, pixel accuracy and per-class IoU of all scored frames. */
    public SegmentationMetrics metrics() {
        return SegmentationMetrics.of(all, classNames);
    }

    /** Per-class IoU of all scored frames, by class name. */
    public Map<String, Double> perClassIoU() {
        Map<String, Double> r = new LinkedHashMap<>();
        for (int c = 0; c < classNames.size(); c++) {
            r.put(classNames.get(c), all.iou(c));
        }
        return r;
    }

    public LatencyStats processingMs() {
        return processingMs;
    }

    public LatencyStats processingMsKeyFrames() {
        return processingMsKey;
    }

    public LatencyStats processingMsPropagated() {
        return processingMsPropagated;
    }

    /** Frames counted (scored or not). */
    public long frames() {
        return frames;
    }

    public long keyFrameCount() {
        return keyFrameCount;
    }

    public long scored() {
        return scored;
    }

    public long sizeMismatches() {
        return sizeMismatches;
    }
}
