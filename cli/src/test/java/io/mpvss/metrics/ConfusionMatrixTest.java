package io.mpvss.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {

    private static byte[] b(int... v) {
        byte[] r = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (byte) v[i];
        }
        return r;
    }

    @Test
    void perfectPrediction() {
        ConfusionMatrix cm = new ConfusionMatrix(3).add(b(0, 1, 2, 2), b(0, 1, 2, 2));
        assertEquals(1.0, cm.meanIoU(), 1e-12);
        assertEquals(1.0, cm.pixelAccuracy(), 1e-12);
    }

    @Test
    void iouByHand() {
        // gt:   0 0 1 1 255 2
        // pred: 0 1 1 1 0   255
        ConfusionMatrix cm = new ConfusionMatrix(3).add(b(0, 0, 1, 1, 255, 2), b(0, 1, 1, 1, 0, 255));
        // class 0: tp 1, fn 1 (pred 1), fp 0 (the 255 gt pixel is ignored) -> 1/2
        assertEquals(0.5, cm.iou(0), 1e-12);
        // class 1: tp 2, fp 1, fn 0 -> 2/3
        assertEquals(2.0 / 3, cm.iou(1), 1e-12);
        // class 2: tp 0, fn 1 (no prediction) -> 0
        assertEquals(0.0, cm.iou(2), 1e-12);
        assertEquals((0.5 + 2.0 / 3 + 0) / 3, cm.meanIoU(), 1e-12);
        assertEquals(5, cm.totalPixels());
        assertEquals(3.0 / 5, cm.pixelAccuracy(), 1e-12);
        assertEquals(1, cm.count(2, 3), "no-prediction column");
    }

    @Test
    void absentClassesAreNaNAndSkippedInTheMean() {
        ConfusionMatrix cm = new ConfusionMatrix(4).add(b(0, 0, 1), b(0, 0, 1));
        assertTrue(Double.isNaN(cm.iou(3)));
        assertEquals(1.0, cm.meanIoU(), 1e-12);
        assertTrue(Double.isNaN(new ConfusionMatrix(2).meanIoU()));
        SegmentationMetrics m = SegmentationMetrics.of(cm, List.of("a", "b", "c", "d"));
        assertEquals(List.of("a", "b"), m.presentClasses());
        assertTrue(m.toMarkdownTable().contains("| d | n/a | 0 |"));
    }

    @Test
    void mergeAddsCounts() {
        ConfusionMatrix a = new ConfusionMatrix(2).add(b(0, 1), b(0, 0));
        ConfusionMatrix c = new ConfusionMatrix(2).add(b(1, 1), b(1, 1));
        a.merge(c);
        assertEquals(4, a.totalPixels());
        assertEquals(2, a.truePositives(1));
        assertEquals(1, a.falsePositives(0));
        assertThrows(IllegalArgumentException.class, () -> a.merge(new ConfusionMatrix(3)));
        assertThrows(IllegalArgumentException.class, () -> a.add(b(0), b(0, 1)));
    }
}
