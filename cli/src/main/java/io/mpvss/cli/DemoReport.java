package io.mpvss.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.mpvss.format.LabelMapPng;
import io.mpvss.metrics.ConfusionMatrix;
import io.mpvss.metrics.LabelClips;
import io.mpvss.metrics.LatencyStats;
import io.mpvss.metrics.MaskScores;
import io.mpvss.model.ModelManifest;

/** The demo's numbers: counts, throughput, latency, mIoU against the clips' labels, DLQ; as JSON and Markdown. */
final class DemoReport {

    private final Map<String, Object> json = new LinkedHashMap<>();
    private final StringBuilder md = new StringBuilder();
    private final Map<String, Map<String, Long>> classPixels = new HashMap<>();
    private String miouText = "n/a";

    private DemoReport() {
    }

    private static String key(String stream, long seq) {
        return stream + "\u0000" + seq;
    }

    /** The class pixel counts of a received map (computed while scoring). */
    Map<String, Long> classPixels(DemoCommand.Received r) {
        return classPixels.getOrDefault(key(r.stream(), r.seq()), Map.of());
    }

    String miouText() {
        return miouText;
    }

    String markdown() {
        return md.toString();
    }

    void write(Path dir) throws IOException {
        ReportFiles.write(dir, "summary", json, md.toString());
    }

    private static Object num(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? null : Math.round(v * 1000) / 1000.0;
    }

    private static Map<String, Object> stats(LatencyStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", s.count());
        m.put("p50", num(s.p50()));
        m.put("p95", num(s.p95()));
        m.put("p99", num(s.p99()));
        m.put("mean", num(s.mean()));
        m.put("max", num(s.max()));
        return m;
    }

    private static String ms(LatencyStats s) {
        if (s.isEmpty()) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "p50 %s, p95 %s, p99 %s (max %s)", fmtMs(s.p50()), fmtMs(s.p95()),
                fmtMs(s.p99()), fmtMs(s.max()));
    }

    private static String fmtMs(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f ms", v) : String.format(Locale.ROOT, "%.1f ms", v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    /** The report of a demo run over {@code frames} (by stream) with {@code manifest}'s model. */
    static Builder builder(ModelManifest manifest, Map<String, List<LabelClips.Frame>> frames) {
        return new Builder(manifest, frames);
    }

    /** What the demo set and observed; defaults are the demo's own. */
    static final class Builder {
        private final ModelManifest manifest;
        private final Map<String, List<LabelClips.Frame>> frames;
        private List<DemoCommand.Received> received = List.of();
        private boolean replay;
        private double fps = 10;
        private String guarantee = "exactly-once";
        private String checkpointEvery = "1s";
        private int parallelism = 1;
        private long firstSentMs;
        private long jobStartMs;
        private long lastReceivedMs;
        private long duplicates;
        private DeadLetters dlq = new DeadLetters(0, Map.of(), List.of());
        private int badFrames;

        private Builder(ModelManifest manifest, Map<String, List<LabelClips.Frame>> frames) {
            this.manifest = manifest;
            this.frames = frames;
        }

        /** The masks received, and how many repeats the reader dropped. */
        Builder received(List<DemoCommand.Received> masks, long repeatsDropped) {
            this.received = masks;
            this.duplicates = repeatsDropped;
            return this;
        }

        /** Replay (all frames queued, then a bounded job) or live cameras at {@code camerasFps}. */
        Builder mode(boolean replayMode, double camerasFps) {
            this.replay = replayMode;
            this.fps = camerasFps;
            return this;
        }

        /** The job's delivery guarantee, checkpoint interval and parallelism. */
        Builder job(String deliveryGuarantee, String checkpointInterval, int jobParallelism) {
            this.guarantee = deliveryGuarantee;
            this.checkpointEvery = checkpointInterval;
            this.parallelism = jobParallelism;
            return this;
        }

        /** Wall-clock times (epoch ms): first frame sent, job started, last mask received. */
        Builder timeline(long firstSent, long jobStart, long lastReceived) {
            this.firstSentMs = firstSent;
            this.jobStartMs = jobStart;
            this.lastReceivedMs = lastReceived;
            return this;
        }

        /** What reached the dead-letter topic, and how many corrupt frames were sent to get there. */
        Builder deadLetters(DeadLetters summary, int corruptFramesSent) {
            this.dlq = summary;
            this.badFrames = corruptFramesSent;
            return this;
        }

        DemoReport build() throws IOException {
            return DemoReport.build(this);
        }
    }

    /** A received map decoded, with its ground truth (null: none). */
    private record Decoded(LabelMapPng.Image map, LabelClips.LabelMap truth) {
    }

    /** Decoding is the expensive part: label maps and ground truth in parallel, scored in order afterwards. */
    private static List<Decoded> decode(Map<String, List<LabelClips.Frame>> frames,
                                        List<DemoCommand.Received> received) {
        return received.parallelStream().map(r -> {
            LabelMapPng.Image lm = LabelMapPng.read(r.png());
            List<LabelClips.Frame> fl = frames.get(r.stream());
            LabelClips.LabelMap gt = null;
            if (fl != null && r.seq() >= 0 && r.seq() < fl.size() && fl.get((int) r.seq()).hasLabel()) {
                try {
                    gt = LabelClips.readLabel(fl.get((int) r.seq()).label());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return new Decoded(lm, gt);
        }).toList();
    }

    /** The numbers of a run: scores against the labels, latencies, counts and rates. */
    private record Measured(MaskScores scores, LatencyStats captureToReceived, LatencyStats captureToEmitted,
                            long sent, long received, double steadyFps, double wallSeconds) {

        /** Scores every received map (and notes its class pixels in {@code classPixels}). */
        static Measured of(Builder b, Map<String, Map<String, Long>> classPixels) {
            MaskScores scores = new MaskScores(List.of(b.manifest.classNames()));
            LatencyStats e2e = new LatencyStats();
            LatencyStats inJob = new LatencyStats();
            long firstReceived = Long.MAX_VALUE;
            long lastReceived = Long.MIN_VALUE;
            List<Decoded> decoded = decode(b.frames, b.received);
            for (int idx = 0; idx < b.received.size(); idx++) {
                DemoCommand.Received r = b.received.get(idx);
                Decoded d = decoded.get(idx);
                classPixels.put(key(r.stream(), r.seq()), scores.classPixels(d.map().labels()));
                scores.add(r.stream(), r.key(), r.processingMs(), d.map(), d.truth());
                e2e.add(Math.max(0, r.receivedMs() - r.captureTs()));
                inJob.add(Math.max(0, r.emittedTs() - r.captureTs()));
                firstReceived = Math.min(firstReceived, r.receivedMs());
                lastReceived = Math.max(lastReceived, r.receivedMs());
            }
            long sent = b.frames.values().stream().mapToLong(List::size).sum();
            long n = b.received.size();
            double steadyFps = n > 1 && lastReceived > firstReceived
                    ? (n - 1) * 1000.0 / (lastReceived - firstReceived) : Double.NaN;
            double wallS = (b.lastReceivedMs - (b.replay ? b.jobStartMs : b.firstSentMs)) / 1000.0;
            return new Measured(scores, e2e, inJob, sent, n, steadyFps, wallS);
        }

        double keyFrameRatio() {
            return received == 0 ? Double.NaN : (double) scores.keyFrameCount() / received;
        }

        /** Live cameras offered more frames per second than the job processed (null in replay). */
        Boolean keptUp(Builder b) {
            if (b.replay) {
                return null;
            }
            return Double.isNaN(steadyFps) || steadyFps >= 0.9 * b.fps * b.frames.size();
        }
    }

    private static DemoReport build(Builder b) throws IOException {
        DemoReport rep = new DemoReport();
        Measured m = Measured.of(b, rep.classPixels);
        rep.miouText = m.scores().scored() > 0 ? pct(m.scores().all().meanIoU()) : "n/a";
        json(b, m, rep.json);
        markdown(b, m, rep.md);
        return rep;
    }

    private static void json(Builder b, Measured m, Map<String, Object> j) {
        MaskScores scores = m.scores();
        j.put("model", b.manifest.modelId());
        j.put("model_input", Map.of("height", b.manifest.height(), "width", b.manifest.width()));
        j.put("mode", b.replay ? "replay" : "live");
        j.put("delivery_guarantee", b.guarantee);
        j.put("checkpoint_interval", b.checkpointEvery);
        j.put("parallelism", b.parallelism);
        j.put("fps_per_stream", b.fps);
        j.put("streams", b.frames.size());
        j.put("frames_sent", m.sent());
        j.put("masks_received", m.received());
        j.put("missing", Math.max(0, m.sent() - m.received()));
        j.put("repeats_dropped", b.duplicates);
        j.put("key_frames", scores.keyFrameCount());
        j.put("key_frame_ratio", num(m.keyFrameRatio()));
        j.put("wall_s", num(m.wallSeconds()));
        j.put("frames_per_s", num(m.steadyFps()));
        j.put("input_frames_per_s", b.replay ? null : num(b.fps * b.frames.size()));
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("capture_to_received_ms", stats(m.captureToReceived()));
        lat.put("capture_to_emitted_ms", stats(m.captureToEmitted()));
        lat.put("processing_ms", stats(scores.processingMs()));
        lat.put("processing_ms_key_frames", stats(scores.processingMsKeyFrames()));
        lat.put("processing_ms_propagated", stats(scores.processingMsPropagated()));
        j.put("latency", lat);
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("frames_scored", scores.scored());
        q.put("frames_size_mismatch", scores.sizeMismatches());
        q.put("miou", num(scores.all().meanIoU()));
        q.put("miou_key_frames", num(scores.keyFrames().meanIoU()));
        q.put("miou_propagated", num(scores.propagated().meanIoU()));
        q.put("pixel_accuracy", num(scores.all().pixelAccuracy()));
        Map<String, Object> perClass = new LinkedHashMap<>();
        scores.metrics().perClassIoU().forEach((c, v) -> perClass.put(c, num(v)));
        q.put("per_class_iou", perClass);
        j.put("quality", q);
        List<Map<String, Object>> streams = new ArrayList<>();
        scores.streamCounts().forEach((s, c) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("stream", s);
            e.put("frames", c.frames());
            e.put("key_frames", c.keyFrames());
            ConfusionMatrix cm = scores.stream(s);
            e.put("miou", cm == null ? null : num(cm.meanIoU()));
            streams.add(e);
        });
        j.put("per_stream", streams);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("count", b.dlq.count());
        d.put("by_error_class", b.dlq.byErrorClass());
        d.put("corrupt_frames_injected", Math.max(0, b.badFrames));
        d.put("examples", b.dlq.examples());
        j.put("dead_letters", d);
        if (m.keptUp(b) != null) {
            j.put("kept_up_with_input", m.keptUp(b));
        }
    }

    private static void markdown(Builder b, Measured m, StringBuilder s) {
        MaskScores scores = m.scores();
        ConfusionMatrix all = scores.all();
        long n = m.received();
        s.append("## MPVSS demo summary\n\n| | |\n|---|---|\n");
        row(s, "model", b.manifest.modelId() + String.format(Locale.ROOT, " (%dx%d input, %d classes)",
                b.manifest.width(), b.manifest.height(), b.manifest.numClasses()));
        row(s, "run", (b.replay ? "replay: all frames queued, then a bounded job"
                : String.format(Locale.ROOT, "live: %d cameras at %s fps", b.frames.size(), ProduceCommand.fmt(b.fps)))
                + String.format(Locale.ROOT, "; %s, checkpoint every %s; parallelism %d", b.guarantee,
                b.checkpointEvery, b.parallelism));
        row(s, "frames", String.format(Locale.ROOT, "%d masks received of %d sent, %d streams%s%s", n, m.sent(),
                b.frames.size(), m.sent() > n ? ", **" + (m.sent() - n) + " missing**" : "",
                b.duplicates > 0 ? ", " + b.duplicates + " repeats dropped" : ""));
        row(s, "key frames", String.format(Locale.ROOT, "%d (%s of frames)", scores.keyFrameCount(),
                pct(m.keyFrameRatio())));
        row(s, "throughput", Double.isNaN(m.steadyFps()) ? "n/a" : String.format(Locale.ROOT,
                "%.1f frames/s (first to last mask)%s", m.steadyFps(), b.replay ? ""
                        : String.format(Locale.ROOT, "; input %.0f frames/s", b.fps * b.frames.size())));
        row(s, "latency capture \u2192 mask received", ms(m.captureToReceived()));
        row(s, "latency capture \u2192 emitted by the operator", ms(m.captureToEmitted()));
        LatencyStats key = scores.processingMsKeyFrames();
        LatencyStats prop = scores.processingMsPropagated();
        row(s, "operator time per frame", ms(scores.processingMs()) + String.format(Locale.ROOT,
                "; key frames p50 %s, propagated p50 %s", key.isEmpty() ? "n/a" : fmtMs(key.p50()),
                prop.isEmpty() ? "n/a" : fmtMs(prop.p50())));
        row(s, "mIoU vs. clip labels", scores.scored() == 0 ? "n/a (no labels)" : String.format(Locale.ROOT,
                "**%s** (%d frames); key frames %s, propagated %s; pixel accuracy %s", pct(all.meanIoU()),
                scores.scored(), pct(scores.keyFrames().meanIoU()), pct(scores.propagated().meanIoU()),
                pct(all.pixelAccuracy())));
        row(s, "dead-letter queue", String.format(Locale.ROOT, "%d record(s)%s; %d corrupt frame(s) injected",
                b.dlq.count(), b.dlq.byErrorClass().isEmpty() ? "" : " " + b.dlq.byErrorClass(),
                Math.max(0, b.badFrames)));
        if (b.guarantee.equals("exactly-once")) {
            s.append("\nExactly-once: masks become visible to read_committed consumers when a checkpoint commits, so "
                    + "capture \u2192 received is at least about the checkpoint interval; "
                    + "`--delivery.guarantee at-least-once` trades that for lower latency.\n");
        }
        if (b.replay) {
            s.append("\nReplay: all frames were queued before the job started, so latencies include the queueing.\n");
        } else if (!m.keptUp(b)) {
            s.append(String.format(Locale.ROOT, "%nThe job processed %.1f frames/s, less than the cameras' %.0f: "
                    + "frames queued in Kafka and the latencies above include that queueing. Fewer or slower "
                    + "cameras (`--fps`, `--max-streams`), more cores, a GPU, or a larger `--key.interval` "
                    + "keep up.%n", m.steadyFps(), b.fps * b.frames.size()));
        }
        if (scores.sizeMismatches() > 0) {
            s.append("\n").append(scores.sizeMismatches()).append(" label maps differed in size from their ground "
                    + "truth and were not scored.\n");
        }
        if (scores.scored() > 0) {
            s.append("\n### Per-class IoU\n\n").append(scores.metrics().toMarkdownTable());
        }
        s.append("\n### Per stream\n\n| stream | frames | key frames | mIoU |\n|---|---:|---:|---:|\n");
        scores.streamCounts().forEach((st, c) -> {
            ConfusionMatrix cm = scores.stream(st);
            s.append("| ").append(st).append(" | ").append(c.frames()).append(" | ").append(c.keyFrames())
                    .append(" | ").append(cm == null ? "n/a" : pct(cm.meanIoU())).append(" |\n");
        });
    }

    private static void row(StringBuilder s, String k, String v) {
        s.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }
}
