package io.mpvss.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.mpvss.metrics.LatencyStats;

/** Everything {@code mpvss bench} measured, and its markdown. */
public record BenchReport(String model, String executionProvider, int modelWidth, int modelHeight, String frames,
                          double meanFrameBytes, int batch, List<Integer> intervals, String throughputGuarantee,
                          long checkpointMs, double pacedFraction, Map<String, String> settings,
                          List<StateProbe.Size> state, List<ModelOnlyBench.Result> modelOnly,
                          List<ModelOnlyBench.Profile> profiles, List<GraphProfile.Graph> graphs,
                          List<ModelOnlyBench.Result> threadSweep, List<PipelineBench.Result> backlog,
                          List<PipelineBench.Result> paced, double minutes) {

    /** Targets of issue 9 that this benchmark measures (the others: docs/batching.md, the hand-written sections). */
    public static final double TARGET_MODEL_ONLY_SPEEDUP = 2.2;
    public static final double TARGET_BOUND_FRACTION = 0.95;
    public static final long TARGET_STATE_BYTES = 250_000L;

    static String f(double v, int d) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, "%." + d + "f", v);
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    public Optional<PipelineBench.Result> backlog(int s, int k) {
        return backlog.stream().filter(r -> r.streams() == s && r.k() == k).findFirst();
    }

    public Optional<ModelOnlyBench.Result> modelOnly(int s, int k) {
        return modelOnly.stream().filter(r -> r.streams() == s && r.k() == k).findFirst();
    }

    public Optional<ModelOnlyBench.Profile> profile(int k) {
        return profiles.stream().filter(p -> p.k() == k).findFirst();
    }

    int lowK() {
        return intervals.stream().mapToInt(Integer::intValue).min().orElse(1);
    }

    int highK() {
        return intervals.stream().mapToInt(Integer::intValue).max().orElse(5);
    }

    public String throughputTable() {
        int k1 = lowK();
        int k5 = highK();
        StringBuilder sb = new StringBuilder();
        sb.append("| S | K | frames | end-to-end frames/s | incl. start-up | model-only frames/s | e2e / model-only "
                + "| peak heap | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (PipelineBench.Result r : backlog) {
            double mo = modelOnly(r.streams(), r.k()).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            sb.append("| ").append(r.streams()).append(" | ").append(r.k()).append(" | ").append(r.masksReceived())
                    .append(r.complete() ? "" : " (incomplete)")
                    .append(" | ").append(f(r.fps(), 1)).append(" | ").append(f(r.wallFps(), 1))
                    .append(" | ").append(f(mo, 1)).append(" | ").append(f(100 * r.fps() / mo, 0)).append("%")
                    .append(" | ").append(mb(r.peakHeapBytes())).append(" | ").append(mb(r.peakRssBytes()))
                    .append(" |\n");
        }
        sb.append("\nRatios, K=").append(k5).append(" over K=").append(k1).append(" (same invocation):\n\n");
        sb.append("| S | end-to-end K=").append(k5).append("/K=").append(k1).append(" | model-only K=").append(k5)
                .append("/K=").append(k1).append(" | end-to-end / model-only at K=").append(k5).append(" |\n")
                .append("|---:|---:|---:|---:|\n");
        for (int s : streams()) {
            double e1 = backlog(s, k1).map(PipelineBench.Result::fps).orElse(Double.NaN);
            double e5 = backlog(s, k5).map(PipelineBench.Result::fps).orElse(Double.NaN);
            double m1 = modelOnly(s, k1).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            double m5 = modelOnly(s, k5).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            sb.append("| ").append(s).append(" | ").append(f(e5 / e1, 2)).append("x | ").append(f(m5 / m1, 2))
                    .append("x | ").append(f(100 * e5 / m5, 0)).append("% |\n");
        }
        return sb.toString();
    }

    List<Integer> streams() {
        return backlog.stream().map(PipelineBench.Result::streams).distinct().toList();
    }

    public String latencyTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| S | K | guarantee | offered frames/s | masks | p50 ms | p95 ms | p99 ms | max ms | operator "
                + "processing p50 ms | duplicates |\n|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (PipelineBench.Result r : paced) {
            LatencyStats.Summary l = r.latencyMs();
            LatencyStats.Summary p = r.processingMs();
            sb.append("| ").append(r.streams()).append(" | ").append(r.k()).append(" | ").append(r.guarantee())
                    .append(" | ").append(f(r.offeredFps(), 1)).append(" | ").append(r.masksReceived()).append("/")
                    .append(r.framesSent())
                    .append(" | ").append(l == null ? "n/a" : f(l.p50(), 0))
                    .append(" | ").append(l == null ? "n/a" : f(l.p95(), 0))
                    .append(" | ").append(l == null ? "n/a" : f(l.p99(), 0))
                    .append(" | ").append(l == null ? "n/a" : f(l.max(), 0))
                    .append(" | ").append(p == null ? "n/a" : f(p.p50(), 1))
                    .append(" | ").append(r.duplicates()).append(" |\n");
        }
        return sb.toString();
    }

    public String stateTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| mask precision | bytes per stream | key image | queries | class logits | mask logits | cursor "
                + "| serialize ms | deserialize ms |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (StateProbe.Size s : state) {
            sb.append("| ").append(s.precision()).append(" | ").append(s.totalBytes()).append(" (")
                    .append(mb(s.totalBytes())).append(") | ").append(s.imageBytes()).append(" | ")
                    .append(s.queriesBytes()).append(" | ").append(s.classLogitsBytes()).append(" | ")
                    .append(s.maskBytes()).append(" | ").append(s.cursorBytes()).append(" | ")
                    .append(f(s.serializeMs(), 3)).append(" | ").append(f(s.deserializeMs(), 3)).append(" |\n");
        }
        return sb.toString();
    }

    /** Produce cost per frame on the benchmark's producer (backlog runs: send + flush over frames). */
    public double produceMsPerFrame() {
        return median(backlog.stream().filter(r -> r.produceSeconds() > 0)
                .mapToDouble(r -> 1000 * r.produceSeconds() / r.framesSent()).toArray());
    }

    /** Median over the backlog runs of the consumer's JSON parse time per mask. */
    public double consumeParseMsPerMask() {
        return median(backlog.stream().mapToDouble(PipelineBench.Result::consumeMsPerMask)
                .filter(v -> !Double.isNaN(v)).toArray());
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] c = v.clone();
        java.util.Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    public String profileTable() {
        StringBuilder sb = new StringBuilder("| stage (ms per frame) |");
        for (ModelOnlyBench.Profile p : profiles) {
            sb.append(" K=").append(p.k()).append(" |");
        }
        sb.append("\n|---|").append("---:|".repeat(profiles.size())).append('\n');
        row(sb, "decode (JPEG -> RGB, FrameDecoder)", ModelOnlyBench.Profile::decodeMs);
        row(sb, "resize to model input (bilinear)", ModelOnlyBench.Profile::resizeMs);
        row(sb, "tensors (host arrays -> OnnxTensor, inputs of one call)", ModelOnlyBench.Profile::tensorsMs);
        row(sb, "inference, amortised over the key schedule", ModelOnlyBench.Profile::inferencePerFrameMs);
        row(sb, "  segmentor call (per key frame)", ModelOnlyBench.Profile::segmentorMs);
        row(sb, "  propagator call (per propagated frame)", ModelOnlyBench.Profile::propagatorMs);
        row(sb, "label map resize to frame size", ModelOnlyBench.Profile::labelResizeMs);
        row(sb, "PNG encode (LabelMapPng)", ModelOnlyBench.Profile::pngEncodeMs);
        row(sb, "JSON document (MaskDocument.toJson)", ModelOnlyBench.Profile::documentMs);
        row(sb, "**sum of stages**", ModelOnlyBench.Profile::totalMs);
        // the job's default compaction: what a key frame costs to write and a propagated frame to read (RocksDB)
        String def = defaultCompaction();
        double ser = state.stream().filter(s -> s.precision().equals(def)).mapToDouble(
                s -> s.serializeMs() + s.deserializeMs()).findFirst().orElse(Double.NaN);
        sb.append("| state serialization round trip (per key frame, ").append(def).append("; RocksDB only) |");
        for (ModelOnlyBench.Profile p : profiles) {
            sb.append(' ').append(f(ser, 3)).append(" (").append(f(ser / p.k(), 3)).append("/frame) |");
        }
        sb.append("\n| Kafka produce (benchmark producer: send + flush of the backlog, per frame, median of runs) |");
        sb.append((" " + f(produceMsPerFrame(), 3) + " |").repeat(profiles.size()));
        sb.append("\n| mask document parse (benchmark consumer, per mask, median of runs) |");
        sb.append((" " + f(consumeParseMsPerMask(), 3) + " |").repeat(profiles.size()));
        sb.append('\n');
        return sb.toString();
    }

    private void row(StringBuilder sb, String name, java.util.function.ToDoubleFunction<ModelOnlyBench.Profile> fn) {
        sb.append("| ").append(name).append(" |");
        for (ModelOnlyBench.Profile p : profiles) {
            sb.append(' ').append(f(fn.applyAsDouble(p), 3)).append(" |");
        }
        sb.append('\n');
    }

    /** Time per operator type inside each graph (ONNX Runtime profiler). */
    public String graphTable() {
        if (graphs == null || graphs.isEmpty()) {
            return "(not measured)\n";
        }
        StringBuilder sb = new StringBuilder("| graph | ms per run (wall) | ms in nodes | operator types by time "
                + "(ms per run, share of node time, nodes) |\n|---|---:|---:|---|\n");
        for (GraphProfile.Graph g : graphs) {
            sb.append("| ").append(g.graph()).append(" | ").append(f(g.msPerRun(), 2)).append(" | ")
                    .append(f(g.nodeMsPerRun(), 2)).append(" | ");
            List<String> parts = new java.util.ArrayList<>();
            for (GraphProfile.OpShare op : g.ops().stream().limit(8).toList()) {
                parts.add(String.format(Locale.ROOT, "%s %.2f ms (%.0f%%, %d)", op.op(), op.msPerRun(),
                        100 * op.share(), op.nodes()));
            }
            sb.append(String.join("; ", parts)).append(" |\n");
        }
        return sb.toString();
    }

    /** Model-only frames/s by ONNX Runtime intra-op thread count (the {@code batch} field holds the threads). */
    public String threadTable() {
        if (threadSweep == null || threadSweep.isEmpty()) {
            return "(not measured)\n";
        }
        StringBuilder sb = new StringBuilder("| intra-op threads | K | model-only frames/s (S=1) | ms/frame |\n"
                + "|---:|---:|---:|---:|\n");
        for (ModelOnlyBench.Result r : threadSweep) {
            sb.append("| ").append(r.batch()).append(" | ").append(r.k()).append(" | ").append(f(r.fps(), 1))
                    .append(" | ").append(f(r.msPerFrame(), 1)).append(" |\n");
        }
        return sb.toString();
    }

    /** Targets: met or missed, by how much. */
    public String targets() {
        int k1 = lowK();
        int k5 = highK();
        StringBuilder sb = new StringBuilder();
        sb.append("| target | S | measured | verdict |\n|---|---:|---:|---|\n");
        for (int s : streams()) {
            double m1 = modelOnly(s, k1).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            double m5 = modelOnly(s, k5).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            double ratio = m5 / m1;
            sb.append("| model-only frames/s K=").append(k5).append(" >= ").append(TARGET_MODEL_ONLY_SPEEDUP)
                    .append("x K=").append(k1).append(" | ").append(s).append(" | ").append(f(ratio, 2)).append("x | ")
                    .append(verdict(ratio, TARGET_MODEL_ONLY_SPEEDUP, "x")).append(" |\n");
        }
        for (int s : streams()) {
            double e5 = backlog(s, k5).map(PipelineBench.Result::fps).orElse(Double.NaN);
            double m5 = modelOnly(s, k5).map(ModelOnlyBench.Result::fps).orElse(Double.NaN);
            double frac = e5 / m5;
            sb.append("| end-to-end >= ").append(f(100 * TARGET_BOUND_FRACTION, 0))
                    .append("% of the model-only bound at K=").append(k5).append(" | ").append(s)
                    .append(" | ").append(f(100 * frac, 0)).append("% of bound | ")
                    .append(verdict(frac, TARGET_BOUND_FRACTION, "pct")).append(" |\n");
        }
        String def = defaultCompaction();
        for (StateProbe.Size st : state) {
            boolean isDefault = st.precision().equals(def);
            sb.append("| state <= ").append(f(TARGET_STATE_BYTES / 1e6, 2)).append(" MB per stream (").append(st.precision())
                    .append(isDefault ? ", the default" : "").append(") | all | ").append(mb(st.totalBytes()))
                    .append(" | ")
                    .append(st.totalBytes() <= TARGET_STATE_BYTES ? "met"
                            : "missed by " + f((st.totalBytes() - TARGET_STATE_BYTES) / 1e6, 2) + " MB ("
                                    + f(100.0 * st.totalBytes() / TARGET_STATE_BYTES - 100, 0) + "% over)")
                    .append(" |\n");
        }
        return sb.toString();
    }

    /** Label ({@link StateProbe#label}) of the job's default state compaction. */
    static String defaultCompaction() {
        return StateProbe.label(new io.mpvss.state.StateCompaction(
                io.mpvss.config.JobOptions.STATE_MASK_PRECISION.defaultValue(),
                io.mpvss.config.JobOptions.STATE_KEY_IMAGE.defaultValue(),
                io.mpvss.config.JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY.defaultValue()));
    }

    static String verdict(double v, double target, String unit) {
        if (Double.isNaN(v)) {
            return "not measured";
        }
        if (v >= target) {
            return "met";
        }
        return unit.equals("x") ? "missed by " + f(target - v, 2) + "x (" + f(100 * (1 - v / target), 0)
                + "% short)" : "missed by " + f(100 * (target - v), 0) + " points";
    }

    public String toMarkdown() {
        return toMarkdown(true);
    }

    public String toMarkdown(boolean withTargets) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Model %s, input %dx%d (WxH), ONNX Runtime on %s; operator batch %d; frames from "
                        + "%s (mean %.1f KB); backlog runs %s; paced runs at %.0f%% of the backlog rate of the same S and K, "
                        + "checkpoint interval %d ms; %.1f min in all.%n%n", model, modelWidth, modelHeight,
                executionProvider, batch, frames, meanFrameBytes / 1024, throughputGuarantee, 100 * pacedFraction,
                checkpointMs, minutes));
        sb.append("Job settings on top of the defaults: `").append(settings).append("`.\n\n");
        sb.append("### Throughput (backlog drain)\n\n").append(throughputTable());
        sb.append("\n### Latency (paced; capture ts -> mask received by a read_committed consumer)\n\n")
                .append(latencyTable());
        sb.append("\n### State per stream\n\n").append(stateTable());
        sb.append("\n### Profile\n\n").append(profileTable());
        sb.append("\n### Inside the graphs (ONNX Runtime profiler, one frame, batch 1)\n\n").append(graphTable());
        sb.append("\n### ONNX Runtime intra-op threads (model-only, one stream)\n\n").append(threadTable());
        if (withTargets) {
            sb.append("\n### Targets\n\n").append(targets());
        }
        return sb.toString();
    }
}
