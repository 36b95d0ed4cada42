package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class VideoConsistencyTest {

    private static List<byte[]> frames(int... perFramePixels) {
        // helper: each int is one single-pixel frame
        List<byte[]> l = new ArrayList<>();
        for (int v : perFramePixels) {
            l.add(new byte[] {(byte) v});
        }
        return l;
    }

    private static List<byte[]> constant(int frames, byte[] map) {
        List<byte[]> l = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            l.add(map.clone());
        }
        return l;
    }

    @Test
    void perfectlyStablePredictionOnStableGroundTruthIsOne() {
        List<byte[]> gt = constant(10, new byte[] {0, 1, 2, 3});
        List<byte[]> pred = constant(10, new byte[] {3, 3, 3, 3}); // wrong but stable: VC ignores correctness
        List<Double> w = VideoConsistency.windows(gt, pred, 4);
        assertEquals(6, w.size(), "L - n windows, as the VSPW reference code");
        w.forEach(v -> assertEquals(1.0, v, 1e-12));
    }

    @Test
    void countsOnlyPixelsWhoseGroundTruthIsStableAndIgnoresLabel255() {
        // 4 pixels, 3 frames, n = 2 -> windows start at 0 only (L - n = 1)
        // px0: gt stable, pred stable -> counted, consistent
        // px1: gt stable, pred flips   -> counted, inconsistent
        // px2: gt changes              -> not counted at all
        // px3: gt ignore (255)         -> not counted
        List<byte[]> gt = List.of(new byte[] {1, 2, 3, (byte) 255}, new byte[] {1, 2, 4, (byte) 255},
                new byte[] {9, 9, 9, 9});
        List<byte[]> pred = List.of(new byte[] {1, 2, 3, 0}, new byte[] {1, 5, 3, 1}, new byte[] {0, 0, 0, 0});
        List<Double> w = VideoConsistency.windows(gt, pred, 2);
        assertEquals(1, w.size());
        assertEquals(0.5, w.get(0), 1e-12);
    }

    @Test
    void windowRequiresConsistencyAcrossAllNFrames() {
        // one pixel; prediction flips once at t=5 -> windows covering frames t-1..t containing the flip fail
        List<byte[]> gt = frames(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        List<byte[]> pred = frames(0, 0, 0, 0, 0, 1, 1, 1, 1, 1);
        List<Double> w = VideoConsistency.windows(gt, pred, 3);
        // windows i = 0..6 cover [i, i+2]; the flip between 4 and 5 breaks i = 3, 4
        assertEquals(List.of(1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0), w);
        VideoConsistency vc = new VideoConsistency(3);
        vc.addClip(gt, pred);
        assertEquals(5.0 / 7.0, vc.mean(), 1e-12);
    }

    @Test
    void poolsWindowsOfAllClipsAndSkipsEmptyOnes() {
        VideoConsistency vc = new VideoConsistency(2);
        vc.addClip(frames(0, 0, 0), frames(0, 0, 1));   // windows: 1.0 (0..1); L-n = 1 window only
        vc.addClip(frames(0, 1, 2, 3), frames(0, 0, 0, 0)); // gt changes everywhere: 2 NaN windows
        vc.addClip(frames(4, 4, 4, 4), frames(1, 2, 2, 2)); // windows: 0.0, 1.0
        assertEquals(3, vc.windowCount());
        assertEquals(2, vc.emptyWindowCount());
        assertEquals(2.0 / 3.0, vc.mean(), 1e-12);
    }

    @Test
    void shortClipsGiveNoWindowAndMismatchedSizesFail() {
        VideoConsistency vc = new VideoConsistency(8);
        vc.addClip(frames(1, 1, 1, 1, 1, 1, 1, 1), frames(1, 1, 1, 1, 1, 1, 1, 1));
        assertEquals(0, vc.windowCount());
        assertTrue(Double.isNaN(vc.mean()));
        assertThrows(IllegalArgumentException.class, () -> vc.addClip(frames(1, 2), frames(1)));
        assertThrows(IllegalArgumentException.class, () -> new VideoConsistency(1));
    }
}
