package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;

/**
 * Model-only speedup of key interval K over K=1 for any bundle (issue 9, item 6: does the saving approach the FLOPs
 * ratio at real model sizes?), with {@link ModelOnlyBench}'s loop: one stream, batch 1, frames decoded and resized to
 * the model's resolution up front. K values are interleaved per repeat so that a change of load on a shared machine
 * hits all of them; the best run per K counts (a bound is what the graphs can do). The FLOPs ratio is the bundle's
 * own (manifest {@code graphs.*.gmacs_per_frame}, counted by model-ops' {@code mpvss_ref.flops}), so
 * speedup(K) = S / ((S + (K-1) P) / K) in MACs; from the measured ms/frame at K=1 (= the segmentor) and K the
 * propagator's ms follow, and with them the measured P/S against the MAC ratio.
 *
 * <pre>
 * KeyIntervalSpeedup --model DIR --frames DIR [--intervals 1,5] [--frames-per-stream 5,10] [--repeats 2]
 *                    [--threads 1] [--graph-runs N] [--out FILE.md]
 * --graph-runs N: also profile each graph N times under ONNX Runtime's profiler ({@link GraphProfile}): where the
 *                 time goes, by operator type
 * </pre>
 */
public final class KeyIntervalSpeedup {

    private KeyIntervalSpeedup() {
    }

    /** {@code [--model.dir DIR] [--clips DIR] [--intervals 1,5] [--frames-per-stream 2K,...] [--repeats 2]
     * [--threads 1] [--graph-runs 0] [--out FILE]}. */
    public static void main(String[] argv) throws Exception {
        BenchMain.run("KeyIntervalSpeedup", null, argv, KeyIntervalSpeedup::bench);
    }

    static void bench(Args args) throws Exception {
        // the bundled model and the demo clips unless told otherwise, as in every tool
        Path model = RepoPaths.modelDir(args);
        RepoPaths.requireModelBundle(model);
        Path frames = RepoPaths.clipsDir(args);
        List<Integer> intervals = args.getIntList("intervals", List.of(1, 5));
        List<Integer> perStream = args.getIntList("frames-per-stream", null);
        int repeats = args.getPositiveInt("repeats", 2);
        int threads = args.getInt("threads", 1);
        int graphRuns = args.getInt("graph-runs", 0);
        Path out = args.getPath("out", null);
        args.rejectUnknown();
        if (perStream == null) {
            perStream = intervals.stream().map(k -> 2 * k).toList();
        }
        PrintStream log = System.out;
        BenchFrames clips = BenchFrames.load(frames, 1, 1000);
        Map<Integer, ModelOnlyBench.Result> best = new LinkedHashMap<>();
        Map<Integer, Double> bestCpu = new LinkedHashMap<>();
        List<String> runs = new ArrayList<>();
        String load0 = Files.readString(Path.of("/proc/loadavg")).trim();
        try (ModelBundle bundle = ModelBundle.open(model, new InferenceOptions(InferenceOptions.Device.CPU, threads,
                0))) {
            ModelManifest m = bundle.manifest();
            double s = m.segmentor().gmacsPerFrame();
            double p = m.propagator().gmacsPerFrame();
            log.printf(Locale.ROOT, "%s: %dx%d, N=%d, segmentor %.3f GMAC, propagator %.3f GMAC (P/S %.3f), "
                    + "%d intra-op threads%n", bundle.modelId(), m.width(), m.height(), m.queries(), s, p, p / s,
                    threads);
            for (int rep = 0; rep < repeats; rep++) {
                for (int i = 0; i < intervals.size(); i++) {
                    int k = intervals.get(i);
                    int n = perStream.get(i);
                    // warm-up: one key frame and, for K > 1, one propagated frame (ONNX Runtime's first run of
                    // each graph allocates its arenas)
                    ModelOnlyBench.Measured mr = ModelOnlyBench.runWithCpu(bundle, clips, 1, k, n, Math.min(k, 2), 1,
                            log);
                    ModelOnlyBench.Result r = mr.result();
                    String line = String.format(Locale.ROOT, "run %d K=%d: %d frames (%d key) in %.1f s, %.1f ms/frame "
                            + "wall, %.1f ms/frame CPU; load %s", rep + 1, k, r.frames(), r.keyFrames(), r.seconds(),
                            r.msPerFrame(), mr.cpuMsPerFrame(), Files.readString(Path.of("/proc/loadavg")).trim());
                    bestCpu.merge(k, mr.cpuMsPerFrame(), Math::min);
                    log.println(line);
                    runs.add(line);
                    best.merge(k, r, (a, b) -> a.msPerFrame() <= b.msPerFrame() ? a : b);
                }
            }
            String load1 = Files.readString(Path.of("/proc/loadavg")).trim();
            StringBuilder md = new StringBuilder();
            md.append(String.format(Locale.ROOT, "%s (%dx%d, N=%d): segmentor S = %.3f GMAC, propagator P = %.3f GMAC, "
                    + "P/S = %.3f; ONNX Runtime CPU, %d intra-op thread(s), batch 1; load average %s at the start, %s "
                    + "at the end.%n%n", bundle.modelId(), m.width(), m.height(), m.queries(), s, p, p / s, threads,
                    load0, load1));
            md.append("| K | wall ms/frame (best of " + repeats + ") | CPU ms/frame (best of " + repeats + ") | key "
                    + "frames in the timed frames | speedup vs K=1, wall | speedup vs K=1, CPU | FLOPs ratio vs K=1 | "
                    + "CPU speedup / FLOPs ratio |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            ModelOnlyBench.Result k1 = best.get(1);
            Double c1 = bestCpu.get(1);
            for (Map.Entry<Integer, ModelOnlyBench.Result> e : best.entrySet()) {
                int k = e.getKey();
                ModelOnlyBench.Result r = e.getValue();
                double flops = s / ((s + (k - 1) * p) / k);
                double speed = k1 == null ? Double.NaN : k1.msPerFrame() / r.msPerFrame();
                double cpu = bestCpu.get(k);
                double cpuSpeed = c1 == null ? Double.NaN : c1 / cpu;
                md.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %d/%d | %.3f | %.3f | %.3f | %.1f%% |%n", k,
                        r.msPerFrame(), cpu, r.keyFrames(), r.frames(), speed, cpuSpeed, flops,
                        100 * cpuSpeed / flops));
            }
            if (k1 != null) {
                for (Map.Entry<Integer, ModelOnlyBench.Result> e : best.entrySet()) {
                    int k = e.getKey();
                    ModelOnlyBench.Result r = e.getValue();
                    if (k == 1 || r.frames() == r.keyFrames()) {
                        continue;
                    }
                    // ms of one propagated frame from the K run's total: (total - keys x S_ms) / propagated frames
                    double propMs = (r.msPerFrame() * r.frames() - k1.msPerFrame() * r.keyFrames())
                            / (r.frames() - r.keyFrames());
                    double propCpu = (bestCpu.get(k) * r.frames() - c1 * r.keyFrames()) / (r.frames() - r.keyFrames());
                    md.append(String.format(Locale.ROOT, "%nFrom K=%d: segmentor %.1f ms/frame wall, %.1f CPU (K=1); "
                                    + "propagator %.1f ms/frame wall, %.1f CPU: measured P/S = %.3f wall, %.3f CPU, "
                                    + "against %.3f in MACs.%n", k, k1.msPerFrame(), c1, propMs, propCpu,
                            propMs / k1.msPerFrame(), propCpu / c1, p / s));
                }
            }
            md.append("\nRuns:\n\n");
            runs.forEach(l -> md.append("- ").append(l).append('\n'));
            if (graphRuns > 0) {
                byte[] key = BenchFrames.modelRgb(clips.frame(0, 0), m.width(), m.height());
                byte[] cur = BenchFrames.modelRgb(clips.frame(0, 3), m.width(), m.height());
                for (GraphProfile.Graph g : GraphProfile.profile(model, m, key, cur, threads, graphRuns)) {
                    md.append(String.format(Locale.ROOT, "%nONNX Runtime profiler, %s, %d run(s): %.0f ms per run; by "
                            + "operator type:%n%n", g.graph(), g.runs(), g.msPerRun()));
                    g.ops().stream().limit(8).forEach(o -> md.append(String.format(Locale.ROOT,
                            "- %s: %.0f ms (%.0f%%, %d nodes)%n", o.op(), o.msPerRun(), 100 * o.share(), o.nodes())));
                }
            }
            log.print(md);
            if (out != null) {
                Files.createDirectories(out.toAbsolutePath().getParent());
                Files.writeString(out, md.toString());
            }
        }
    }
}
