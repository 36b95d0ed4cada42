package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import io.mpvss.model.ModelManifest;

class CostModelTest {

    @Test
    void averagesOneKeyFrameAndKMinusOnePropagatedFrames() {
        CostModel c = new CostModel(10.0, 2.0);
        assertEquals(10.0, c.gmacsPerFrame(1), 1e-12);
        assertEquals((10.0 + 4 * 2.0) / 5, c.gmacsPerFrame(5), 1e-12);
        assertEquals(2 * (10.0 + 9 * 2.0) / 10, c.gflopsPerFrame(10), 1e-12);
        assertEquals(10.0 / 3.6, c.idealSpeedup(5), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> c.gmacsPerFrame(0));
    }

    @Test
    void readsTheManifestsMacCounts() {
        CostModel c = CostModel.of(manifest(0.5, 0.1));
        assertEquals(0.5, c.segmentorGmacs());
        assertEquals(0.1, c.propagatorGmacs());
        assertThrows(IllegalArgumentException.class, () -> CostModel.of(manifest(Double.NaN, 0.1)));
    }

    private static ModelManifest manifest(double s, double p) {
        return new ModelManifest("m", "1", "mpvss/1", 4, 8, 4, 8,
                List.of(new ModelManifest.ClassInfo(0, "road", new int[] {1, 2, 3})), 5, 16,
                new ModelManifest.GraphInfo("segmentor.onnx", "x", s),
                new ModelManifest.GraphInfo("propagator.onnx", "y", p));
    }
}
