package io.mpvss.eval;

import io.mpvss.model.ModelManifest;

/**
 * Compute per frame at key interval K, from the graphs' own MAC counts in the bundle's manifest
 * ({@code graphs.segmentor.gmacs_per_frame} = S, {@code graphs.propagator.gmacs_per_frame} = P, counted by model-ops
 * from the exported ONNX graphs, warp and semantic inference included).
 *
 * <p>One key frame (segmentor) and K−1 propagated frames per K frames: {@code GMACs/frame = (S + (K−1)·P) / K}.
 * Reported as GFLOPs with the usual convention FLOPs = 2 · MACs.
 */
public record CostModel(double segmentorGmacs, double propagatorGmacs) {

    public CostModel {
        if (!(segmentorGmacs > 0) || !(propagatorGmacs >= 0)) {
            throw new IllegalArgumentException("bad MAC counts: segmentor " + segmentorGmacs + ", propagator "
                    + propagatorGmacs);
        }
    }

    /** S and P from a bundle's manifest ({@code graphs.*.gmacs_per_frame}). */
    public static CostModel of(ModelManifest manifest) {
        double s = manifest.segmentor().gmacsPerFrame();
        double p = manifest.propagator().gmacsPerFrame();
        if (Double.isNaN(s) || Double.isNaN(p)) {
            throw new IllegalArgumentException(manifest.modelId() + ": manifest.json has no "
                    + "graphs.segmentor.gmacs_per_frame / graphs.propagator.gmacs_per_frame");
        }
        return new CostModel(s, p);
    }

    /** GMACs per frame averaged over a key interval K (K = 1: every frame through the segmentor). */
    public double gmacsPerFrame(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("key interval must be >= 1, got " + k);
        }
        return (segmentorGmacs + (k - 1) * propagatorGmacs) / k;
    }

    /** GFLOPs per frame (2 FLOPs per multiply-accumulate). */
    public double gflopsPerFrame(int k) {
        return 2.0 * gmacsPerFrame(k);
    }

    /** The ideal speed-up of interval K over per-frame segmentation if time were proportional to MACs. */
    public double idealSpeedup(int k) {
        return gmacsPerFrame(1) / gmacsPerFrame(k);
    }
}
