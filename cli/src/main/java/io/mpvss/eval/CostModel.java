package io.mpvss.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

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

    /** Reads S and P from {@code <bundle>/manifest.json}. */
    public static CostModel fromBundle(Path bundleDir) throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readAllBytes(bundleDir.resolve("manifest.json")));
        JsonNode graphs = root.path("graphs");
        double s = graphs.path("segmentor").path("gmacs_per_frame").asDouble(Double.NaN);
        double p = graphs.path("propagator").path("gmacs_per_frame").asDouble(Double.NaN);
        if (Double.isNaN(s) || Double.isNaN(p)) {
            throw new IOException(bundleDir.resolve("manifest.json")
                    + ": graphs.segmentor.gmacs_per_frame / graphs.propagator.gmacs_per_frame missing");
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
