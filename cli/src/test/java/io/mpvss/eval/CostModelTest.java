package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    void readsTheManifestsMacCounts(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"graphs\":{\"segmentor\":{\"gmacs_per_frame\":0.5},"
                + "\"propagator\":{\"gmacs_per_frame\":0.1}}}");
        CostModel c = CostModel.fromBundle(dir);
        assertEquals(0.5, c.segmentorGmacs());
        assertEquals(0.1, c.propagatorGmacs());
        Files.writeString(dir.resolve("manifest.json"), "{\"graphs\":{}}");
        assertThrows(java.io.IOException.class, () -> CostModel.fromBundle(dir));
    }
}
