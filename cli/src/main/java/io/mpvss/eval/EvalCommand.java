package io.mpvss.eval;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.mpvss.cli.Args;
import io.mpvss.cli.LocalJob;
import io.mpvss.cli.ReportFiles;
import io.mpvss.cli.RepoPaths;
import io.mpvss.cli.UsageException;
import io.mpvss.config.JobOptions;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.job.MpvssJob;
import io.mpvss.metrics.LabelClips;
import io.mpvss.metrics.LatencyStats;
import io.mpvss.metrics.MaskScores;
import io.mpvss.model.ModelManifest;

/**
 * {@code mpvss eval}: quality against cost of the product's own pipeline ({@link MpvssJob#build}: decode, keyed
 * {@code MaskPropagation} operator, ONNX graphs) on a labelled dataset, at several key intervals K.
 *
 * <p>Each K is one bounded Flink job on a local MiniCluster: every clip is one camera stream, frames are fed in
 * capture order, and every mask document the job emits is decoded and scored against the clip's label PNGs: mIoU and
 * per-class IoU, VSPW video consistency mVC_8/mVC_16, GFLOPs per frame from the manifest's MAC counts, and the
 * operator's measured processing time per frame. Writes {@code eval.json}, {@code eval.md} (tables) and
 * {@code tradeoff.png} (mIoU against GFLOPs/frame) to the output folder.
 */
public final class EvalCommand {

    public static final String USAGE = String.join("\n",
            "usage: mpvss eval --clips DIR [options]",
            "  --clips DIR          labelled clips: DIR/<clip>/frames/000000.jpg, DIR/<clip>/labels/000000.png",
            "  --model.dir DIR      model bundle (default model-ops/bundle of this repository)",
            "  --intervals LIST     key intervals K to run (default 1,2,3,5,10)",
            "  --out DIR            output folder for eval.json, eval.md, tradeoff.png (default target/eval)",
            "  --max-clips N        use at most N clips (default all)",
            "  --max-frames N       use at most N frames per clip (default all)",
            "  --compare KEY=V1,V2  also run K=--compare-k once per value of KEY (e.g. state.mask-precision=fp32,fp16);",
            "                       the value that is KEY's default reuses the K=--compare-k run",
            "  --compare-k K        key interval of the --compare runs (default 5)",
            "  --frame-interval-ms  capture-time step between frames of a clip (default 40, i.e. 25 fps)",
            "  --title TEXT         plot title",
            "  --<job option> VALUE any job option or Flink key for every run, e.g. --inference.threads 2",
            "                       (see `mpvss run --help`)",
            "The held-out synthetic test split at the bundle's resolution (HxW from its manifest):",
            "  /usr/bin/python3 model-ops/scripts/synth.py --split test --clips 20 --frames 40 --height H --width W \\",
            "      --format jpg --out target/test-split");

    private EvalCommand() {
    }

    /** Options of one evaluation. */
    public static final class Options {
        public Path data;
        public Path model;
        public List<Integer> intervals = List.of(1, 2, 3, 5, 10);
        public Path out = Path.of("target/eval");
        public int maxClips = Integer.MAX_VALUE;
        public int maxFrames = Integer.MAX_VALUE;
        /** Job options and Flink keys for every run. */
        public Map<String, String> settings = new LinkedHashMap<>();
        public String compareKey;
        public List<String> compareValues = List.of();
        public int compareK = 5;
        public long frameIntervalMs = 40;
        public String title;

        /** Reads the options; every other option with a dot in its key is a job setting. */
        public static Options from(Args args) {
            Options o = new Options();
            o.data = args.getFolder("clips", null);
            o.model = RepoPaths.modelDir(args);
            o.intervals = args.getIntList("intervals", o.intervals);
            o.out = args.getPath("out", o.out);
            o.maxClips = args.getPositiveInt("max-clips", o.maxClips);
            o.maxFrames = args.getPositiveInt("max-frames", o.maxFrames);
            String compare = args.get("compare", null);
            if (compare != null) {
                int e = compare.indexOf('=');
                if (e <= 0) {
                    throw new UsageException("--compare expects KEY=V1,V2, got '" + compare + "'");
                }
                o.compareKey = compare.substring(0, e);
                o.compareValues = List.of(compare.substring(e + 1).split(","));
            }
            o.compareK = args.getPositiveInt("compare-k", o.compareK);
            o.frameIntervalMs = args.getLong("frame-interval-ms", o.frameIntervalMs);
            o.title = args.get("title", null);
            o.settings.putAll(args.jobSettings());
            args.rejectUnknown();
            if (o.data == null) {
                throw new UsageException("--clips DIR is required");
            }
            for (int k : o.intervals) {
                if (k < 1) {
                    throw new UsageException("key intervals must be >= 1, got " + k);
                }
            }
            return o;
        }
    }

    public static int run(Args args, PrintStream log) throws Exception {
        Options o = Options.from(args);
        EvalReport report = evaluate(o, log);
        ReportFiles.write(o.out, "eval", report, report.toMarkdown());
        report.plot(o.title).writePng(o.out.resolve("tradeoff.png"), 900, 560);
        log.println();
        log.print(report.toMarkdown());
        log.println("wrote " + o.out.resolve("eval.json") + ", " + o.out.resolve("eval.md") + ", "
                + o.out.resolve("tradeoff.png"));
        return 0;
    }

    /** The clips to use (at most --max-clips, each cut to --max-frames). */
    static List<LabelClips.Clip> clips(Options o) throws IOException {
        List<LabelClips.Clip> clips = new ArrayList<>();
        for (LabelClips.Clip c : LabelClips.list(o.data)) {
            if (clips.size() >= o.maxClips) {
                break;
            }
            List<LabelClips.Frame> frames = c.frames().subList(0, Math.min(o.maxFrames, c.frames().size()));
            clips.add(new LabelClips.Clip(c.id(), c.dir(), frames));
        }
        return clips;
    }

    /** Runs every K (and the --compare variants) and scores them. */
    public static EvalReport evaluate(Options o, PrintStream log) throws Exception {
        List<LabelClips.Clip> clips = clips(o);
        ModelManifest manifest = ModelManifest.read(o.model);
        CostModel cost = CostModel.of(manifest);
        int frames = clips.stream().mapToInt(c -> c.frames().size()).sum();
        log.printf(Locale.ROOT, "eval: %d clips, %d frames from %s; model %s (%dx%d); S=%.3f GMAC, P=%.3f GMAC%n",
                clips.size(), frames, o.data, manifest.modelId(), manifest.width(), manifest.height(),
                cost.segmentorGmacs(), cost.propagatorGmacs());
        GroundTruth gt = GroundTruth.read(clips);
        Run run = new Run(o, clips, gt, List.of(manifest.classNames()), cost, log);

        List<EvalResult> results = new ArrayList<>();
        for (int k : o.intervals) {
            results.add(run.once(k, "default", Map.of()));
        }
        List<EvalResult> compare = new ArrayList<>();
        if (o.compareKey != null) {
            // the run of K=compareK with the default value of the compared setting is reused, not repeated
            String def = o.settings.containsKey(o.compareKey) ? o.settings.get(o.compareKey)
                    : defaultOf(o.compareKey);
            for (String v : o.compareValues) {
                EvalResult same = v.equals(def) ? results.stream().filter(r -> r.k() == o.compareK).findFirst()
                        .orElse(null) : null;
                if (same != null) {
                    log.printf("eval K=%d [%s=%s]: the default run above%n", o.compareK, o.compareKey, v);
                    compare.add(same.withVariant(o.compareKey + "=" + v + " (default)"));
                } else {
                    compare.add(run.once(o.compareK, o.compareKey + "=" + v, Map.of(o.compareKey, v)));
                }
            }
        }
        Map<String, Object> modelCard = new LinkedHashMap<>(ModelManifest.metrics(o.model));
        return new EvalReport(o.data.toString(), o.model.toString(), manifest.modelId(), manifest.width(),
                manifest.height(), clips.size(), frames, cost.segmentorGmacs(), cost.propagatorGmacs(),
                List.of(manifest.classNames()), o.settings, results, compare, modelCard);
    }

    /** The default of a job option ({@link JobOptions}) by key, or null. */
    static String defaultOf(String key) {
        for (ConfigOption<?> opt : JobOptions.all()) {
            if (opt.key().equals(key) && opt.hasDefaultValue()) {
                return String.valueOf(opt.defaultValue());
            }
        }
        return null;
    }

    /** The label maps of every clip, read once and shared by every run; by stream id, in frame order. */
    record GroundTruth(Map<String, List<LabelClips.LabelMap>> byStream) {

        static GroundTruth read(List<LabelClips.Clip> clips) throws IOException {
            Map<String, List<LabelClips.LabelMap>> gt = new HashMap<>();
            for (LabelClips.Clip c : clips) {
                List<LabelClips.LabelMap> maps = new ArrayList<>();
                for (LabelClips.Frame f : c.frames()) {
                    maps.add(f.hasLabel() ? LabelClips.readLabel(f.label()) : null);
                }
                gt.put(EvalFrames.streamId(c.id()), maps);
            }
            return new GroundTruth(gt);
        }

        /** The frame's label map, or null if it has none; fails for a frame that was never sent. */
        LabelClips.LabelMap of(String stream, long seq) {
            List<LabelClips.LabelMap> g = byStream.get(stream);
            if (g == null || seq < 0 || seq >= g.size()) {
                throw new IllegalStateException("mask for unknown frame " + stream + "#" + seq);
            }
            return g.get((int) seq);
        }
    }

    /** One bounded job per K over the same clips, scored as its masks arrive. */
    private record Run(Options o, List<LabelClips.Clip> clips, GroundTruth gt, List<String> classNames,
                       CostModel cost, PrintStream log) {

        EvalResult once(int k, String variant, Map<String, String> extra) throws Exception {
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put(JobOptions.MODEL_DIR.key(), o.model.toString());
            settings.put("parallelism.default", "1");
            settings.putAll(o.settings);
            settings.putAll(extra);
            settings.put(JobOptions.KEY_INTERVAL.key(), Integer.toString(k));
            Configuration conf = Configuration.fromMap(settings);

            EvalFrames source = new EvalFrames(clips, 1_700_000_000_000L, o.frameIntervalMs);
            int total = source.size();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            DataStream<FrameRecord> frames = env.fromSource(
                    new DataGeneratorSource<>(source, total, TypeInformation.of(FrameRecord.class)),
                    WatermarkStrategy.noWatermarks(), "eval-frames").setParallelism(1);
            MpvssJob.Outputs outs = MpvssJob.build(frames, conf);
            DataStream<EvalOutput> all = outs.masks().map(EvalOutput::mask).returns(EvalOutput.class)
                    .union(outs.deadLetters().map(EvalOutput::deadLetter).returns(EvalOutput.class));
            LocalQueueSink<EvalOutput> sink = LocalQueueSink.create("eval-" + k + "-" + System.nanoTime());
            all.sinkTo(sink).name("eval-results").setParallelism(1);

            String tag = "eval K=" + k + ("default".equals(variant) ? "" : " [" + variant + "]");
            log.printf(Locale.ROOT, "%s: starting (%d frames)%n", tag, total);
            Scoring scoring = new Scoring(new MaskScores(classNames), gt, tag, total, log);
            long t0 = System.nanoTime();
            try (LocalJob job = LocalJob.start(env, "mpvss-eval-K" + k)) {
                scoring.drain(sink.queue(), job);
            } finally {
                sink.release();
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            EvalResult r = scoring.result(k, variant, settings, cost, wall);
            log.printf(Locale.ROOT, "%s: done in %.1f s: mIoU %.2f%%, mVC8 %.2f%%, mVC16 %.2f%%, %.3f GFLOPs/frame, "
                            + "%.2f ms/frame (key %.2f, propagated %.2f), %d key frames%n", tag, wall, 100 * r.miou(),
                    100 * r.mvc8(), 100 * r.mvc16(), r.gflopsPerFrame(), r.msPerFrame(), r.msKeyFrame(),
                    r.msNonKeyFrame(), r.keyFrames());
            return r;
        }
    }

    /** The scores of one run: masks through {@link MaskScores}, predictions kept for video consistency. */
    static final class Scoring {
        private final MaskScores scores;
        private final GroundTruth gt;
        private final String tag;
        private final int total;
        private final PrintStream log;
        private final Map<String, byte[][]> predictions = new HashMap<>();
        private long deadLetters;

        Scoring(MaskScores scores, GroundTruth gt, String tag, int total, PrintStream log) {
            this.scores = scores;
            this.gt = gt;
            this.tag = tag;
            this.total = total;
            this.log = log;
            gt.byStream().forEach((s, l) -> predictions.put(s, new byte[l.size()][]));
        }

        /** Takes the job's outputs until it has ended and its queue is empty; throws the job's failure. */
        void drain(BlockingQueue<EvalOutput> queue, LocalJob job) throws Exception {
            long t0 = System.nanoTime();
            long lastLog = t0;
            while (true) {
                EvalOutput out = queue.poll(200, TimeUnit.MILLISECONDS);
                if (out == null) {
                    if (job.terminated() && queue.isEmpty()) {
                        job.awaitResult(); // throws the job's failure
                        break;
                    }
                    continue;
                }
                if (out.isDeadLetter()) {
                    deadLetters++;
                    FrameRecord r = out.deadLetter;
                    log.println(tag + ": dead letter " + r.key + " " + r.headerString(WireFormat.DLQ_ERROR_CLASS)
                            + ": " + r.headerString(WireFormat.DLQ_ERROR_MESSAGE));
                    continue;
                }
                add(out.mask);
                long now = System.nanoTime();
                if (now - lastLog > 5_000_000_000L) {
                    lastLog = now;
                    long n = scores.frames();
                    log.printf(Locale.ROOT, "%s: %d/%d frames (%.0f%%), %.1f frames/s%n", tag, n, total,
                            100.0 * n / total, n / ((now - t0) / 1e9));
                }
            }
            if (scores.frames() != total) {
                log.printf("%s: WARNING %d masks for %d frames%n", tag, scores.frames(), total);
            }
        }

        void add(MaskDocument d) {
            LabelClips.LabelMap truth = gt.of(d.getStream(), d.getSeq());
            LabelMapPng.Image p = LabelMapPng.read(d.getLabelMapPng());
            predictions.get(d.getStream())[(int) d.getSeq()] = p.labels();
            if (scores.add(d.getStream(), d.isKeyFrame(), d.getProcessingMs(), p, truth)
                    == MaskScores.Outcome.SIZE_MISMATCH) {
                throw new IllegalStateException("label map of " + d.getStream() + "#" + d.getSeq() + " is "
                        + p.width() + "x" + p.height() + ", ground truth " + truth.width() + "x" + truth.height());
            }
        }

        EvalResult result(int k, String variant, Map<String, String> settings, CostModel cost, double wall) {
            VideoConsistency vc8 = new VideoConsistency(8);
            VideoConsistency vc16 = new VideoConsistency(16);
            gt.byStream().forEach((stream, g) -> {
                byte[][] p = predictions.get(stream);
                // the longest prefix where both ground truth and prediction exist
                int n = 0;
                while (n < g.size() && g.get(n) != null && p[n] != null) {
                    n++;
                }
                List<byte[]> truth = g.subList(0, n).stream().map(LabelClips.LabelMap::labels).toList();
                List<byte[]> pred = Arrays.asList(p).subList(0, n);
                vc8.addClip(truth, pred);
                vc16.addClip(truth, pred);
            });
            LatencyStats ms = scores.processingMs();
            return new EvalResult(k, variant, settings, scores.frames(), scores.scored(), scores.keyFrameCount(),
                    scores.all().meanIoU(), scores.all().pixelAccuracy(), scores.perClassIoU(), vc8.mean(),
                    vc16.mean(), cost.gmacsPerFrame(k), cost.gflopsPerFrame(k), mean(ms),
                    mean(scores.processingMsKeyFrames()), mean(scores.processingMsPropagated()),
                    ms.isEmpty() ? Double.NaN : ms.p50(), wall, deadLetters);
        }

        private static double mean(LatencyStats s) {
            return s.isEmpty() ? Double.NaN : s.mean();
        }
    }
}
