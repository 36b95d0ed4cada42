package io.mpvss.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.mpvss.format.LabelMapPng;

/** The one scoring loop: key and propagated frames apart, frames without labels or of another size not scored. */
class MaskScoresTest {

    private static final int W = 4;
    private static final int H = 2;
    /** Left half class 0, right half class 1. */
    private static final byte[] TRUTH = {0, 0, 1, 1, 0, 0, 1, 1};

    private static LabelMapPng.Image map(byte... labels) {
        return new LabelMapPng.Image(labels, W, H);
    }

    @Test
    void splitsKeyAndPropagatedFramesAndSkipsWhatCannotBeScored() {
        MaskScores s = new MaskScores(List.of("road", "car"));
        LabelClips.LabelMap truth = new LabelClips.LabelMap(W, H, TRUTH);
        assertEquals(MaskScores.Outcome.SCORED, s.add("a", true, 10, map(TRUTH.clone()), truth));
        // propagated: one car pixel taken for road
        assertEquals(MaskScores.Outcome.SCORED, s.add("a", false, 2, map(new byte[] {0, 0, 0, 1, 0, 0, 1, 1}), truth));
        assertEquals(MaskScores.Outcome.NO_LABEL, s.add("b", false, 4, map(TRUTH.clone()), null));
        assertEquals(MaskScores.Outcome.SIZE_MISMATCH, s.add("b", true, 12,
                new LabelMapPng.Image(new byte[W * H], H, W), truth));

        assertEquals(4, s.frames());
        assertEquals(2, s.keyFrameCount());
        assertEquals(2, s.scored());
        assertEquals(1, s.sizeMismatches());
        assertEquals(1.0, s.keyFrames().meanIoU(), 1e-12);
        // road: 4 TP, 1 FP -> 4/5; car: 3 TP, 1 FN -> 3/4
        assertEquals((4.0 / 5 + 3.0 / 4) / 2, s.propagated().meanIoU(), 1e-12);
        assertEquals(s.all().meanIoU(), s.metrics().meanIoU(), 1e-12);
        assertEquals(Map.of("a", new MaskScores.StreamCounts(2, 1), "b", new MaskScores.StreamCounts(2, 1)),
                s.streamCounts());
        assertNull(s.stream("b"), "stream b has no scored frame");
        assertEquals(7.0, s.processingMs().mean(), 1e-12);
        assertEquals(11.0, s.processingMsKeyFrames().mean(), 1e-12);
        assertEquals(3.0, s.processingMsPropagated().mean(), 1e-12);
    }

    @Test
    void classPixelsCountKnownClassesOnly() {
        MaskScores s = new MaskScores(List.of("road", "car"));
        assertEquals(Map.of("road", 2L, "car", 1L), s.classPixels(new byte[] {0, 1, 0, (byte) 255, 7}));
    }
}
