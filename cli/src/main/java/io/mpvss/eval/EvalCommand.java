package io.mpvss.eval;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.config.JobOptions;
import io.mpvss.job.MpvssJob;
import io.mpvss.metrics.ConfusionMatrix;
import io.mpvss.metrics.LabelClips;
import io.mpvss.metrics.LatencyStats;

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

    static final String USAGE = String.join("\n",
            "usage: mpvss eval --data DIR [options]",
            "  --data DIR           labelled clips: DIR/<clip>/frames/000000.jpg, DIR/<clip>/labels/000000.png",
            "  --model DIR          model bundle (default model-ops/bundle)",
            "  --intervals LIST     key intervals K to run (default 1,2,3,5,10)",
            "  --out DIR            output folder for eval.json, eval.md, tradeoff.png (default target/eval)",
            "  --max-clips N        use at most N clips (default all)",
            "  --max-frames N       use at most N frames per clip (default all)",
            "  --set KEY=VALUE      job/Flink setting for every run (repeatable), e.g. --set inference.threads=2",
            "  --compare KEY=V1,V2  also run K=--compare-k once per value of KEY (e.g. state.mask-precision=fp32,fp16);",
            "                       the value that is KEY's default reuses the K=--compare-k run",
            "  --compare-k K        key interval of the --compare runs (default 5)",
            "  --frame-interval-ms  capture-time step between frames of a clip (default 40, i.e. 25 fps)",
            "  --title TEXT         plot title",
            "The held-out synthetic test split at the bundle's resolution (HxW from its manifest):",
            "  /usr/bin/python3 model-ops/scripts/synth.py --split test --clips 20 --frames 40 --height H --width W \\",
            "      --format jpg --out target/test-split");

    private EvalCommand() {
    }

    public static void main(String[] args) throws Exception {
        int rc;
        try {
            rc = run(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("mpvss eval: " + e.getMessage());
            System.err.println(USAGE);
            rc = 2;
        }
        System.exit(rc);
    }

    /** Options of one evaluation. */
    public static final class Options {
        public Path data;
        public Path model = Path.of("model-ops/bundle");
        public List<Integer> intervals = List.of(1, 2, 3, 5, 10);
        public Path out = Path.of("target/eval");
        public int maxClips = Integer.MAX_VALUE;
        public int maxFrames = Integer.MAX_VALUE;
        public Map<String, String> settings = new LinkedHashMap<>();
        public String compareKey;
        public List<String> compareValues = List.of();
        public int compareK = 5;
        public long frameIntervalMs = 40;
        public String title;

        public static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    throw new IllegalArgumentException("help");
                }
                if (!a.startsWith("--")) {
                    throw new IllegalArgumentException("unexpected argument '" + a + "'");
                }
                String v;
                int eq = a.indexOf('=');
                if (eq > 0 && !a.equals("--set") && !a.equals("--compare")) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--data" -> o.data = Path.of(v);
                    case "--model" -> o.model = Path.of(v);
                    case "--intervals" -> o.intervals = parseInts(v);
                    case "--out" -> o.out = Path.of(v);
                    case "--max-clips" -> o.maxClips = Integer.parseInt(v);
                    case "--max-frames" -> o.maxFrames = Integer.parseInt(v);
                    case "--set" -> {
                        int e = v.indexOf('=');
                        if (e <= 0) {
                            throw new IllegalArgumentException("--set expects KEY=VALUE, got '" + v + "'");
                        }
                        o.settings.put(v.substring(0, e), v.substring(e + 1));
                    }
                    case "--compare" -> {
                        int e = v.indexOf('=');
                        if (e <= 0) {
                            throw new IllegalArgumentException("--compare expects KEY=V1,V2, got '" + v + "'");
                        }
                        o.compareKey = v.substring(0, e);
                        o.compareValues = List.of(v.substring(e + 1).split(","));
                    }
                    case "--compare-k" -> o.compareK = Integer.parseInt(v);
                    case "--frame-interval-ms" -> o.frameIntervalMs = Long.parseLong(v);
                    case "--title" -> o.title = v;
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.data == null) {
                throw new IllegalArgumentException("--data is required");
            }
            for (int k : o.intervals) {
                if (k < 1) {
                    throw new IllegalArgumentException("key intervals must be >= 1, got " + k);
                }
            }
            return o;
        }
    }

    static List<Integer> parseInts(String csv) {
        List<Integer> r = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                r.add(Integer.parseInt(s.trim()));
            }
        }
        if (r.isEmpty()) {
            throw new IllegalArgumentException("empty list '" + csv + "'");
        }
        return r;
    }

    public static int run(String[] args, PrintStream log) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            if (e.getMessage().equals("help")) {
                log.println(USAGE);
                return 0;
            }
            throw e;
        }
        EvalReport report = evaluate(o, log);
        Files.createDirectories(o.out);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        json.writeValue(o.out.resolve("eval.json").toFile(), report);
        Files.writeString(o.out.resolve("eval.md"), report.toMarkdown(), StandardCharsets.UTF_8);
        report.plot(o.title).writePng(o.out.resolve("tradeoff.png"), 900, 560);
        log.println();
        log.print(report.toMarkdown());
        log.println("wrote " + o.out.resolve("eval.json") + ", " + o.out.resolve("eval.md") + ", "
                + o.out.resolve("tradeoff.png"));
        return 0;
    }

    /** Runs every K (and the --compare variants) and scores them. */
    public static EvalReport evaluate(Options o, PrintStream log) throws Exception {
        List<LabelClips.Clip> clips = new ArrayList<>();
        for (LabelClips.Clip c : LabelClips.list(o.data)) {
            if (clips.size() >= o.maxClips) {
                break;
            }
            List<LabelClips.Frame> frames = c.frames().subList(0, Math.min(o.maxFrames, c.frames().size()));
            clips.add(new LabelClips.Clip(c.id(), c.dir(), frames));
        }
        CostModel cost = CostModel.fromBundle(o.model);
        JsonNode manifest = new ObjectMapper().readTree(o.model.resolve("manifest.json").toFile());
        List<String> classNames = new ArrayList<>();
        manifest.path("classes").forEach(c -> classNames.add(c.path("name").asText()));
        if (classNames.isEmpty()) {
            throw new IOException(o.model.resolve("manifest.json") + " lists no classes");
        }
        int frames = clips.stream().mapToInt(c -> c.frames().size()).sum();
        log.printf(Locale.ROOT, "eval: %d clips, %d frames from %s; model %s@%s (%dx%d); S=%.3f GMAC, P=%.3f GMAC%n",
                clips.size(), frames, o.data, manifest.path("name").asText(), manifest.path("version").asText(),
                manifest.path("input").path("width").asInt(), manifest.path("input").path("height").asInt(),
                cost.segmentorGmacs(), cost.propagatorGmacs());

        // ground truth once, shared by every run
        Map<String, List<byte[]>> gt = new HashMap<>();
        for (LabelClips.Clip c : clips) {
            List<byte[]> maps = new ArrayList<>();
            for (LabelClips.Frame f : c.frames()) {
                maps.add(f.hasLabel() ? LabelClips.readLabel(f.label()).labels() : null);
            }
            gt.put(EvalFrames.streamId(c.id()), maps);
        }

        List<EvalResult> results = new ArrayList<>();
        for (int k : o.intervals) {
            results.add(runOnce(o, clips, gt, classNames, cost, k, "default", Map.of(), log));
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
                    compare.add(new EvalResult(same.k(), o.compareKey + "=" + v + " (default)", same.overrides(),
                            same.frames(), same.scoredFrames(), same.keyFrames(), same.miou(), same.pixelAccuracy(),
                            same.perClassIoU(), same.mvc8(), same.mvc16(), same.gmacsPerFrame(),
                            same.gflopsPerFrame(), same.msPerFrame(), same.msKeyFrame(), same.msNonKeyFrame(),
                            same.msP50(), same.wallSeconds(), same.deadLetters()));
                } else {
                    compare.add(runOnce(o, clips, gt, classNames, cost, o.compareK, o.compareKey + "=" + v,
                            Map.of(o.compareKey, v), log));
                }
            }
        }
        return new EvalReport(o.data.toString(), o.model.toString(), manifest.path("name").asText() + "@"
                + manifest.path("version").asText(), manifest.path("input").path("width").asInt(),
                manifest.path("input").path("height").asInt(), clips.size(), frames, cost.segmentorGmacs(),
                cost.propagatorGmacs(), classNames, o.settings, results, compare, modelCardMetrics(manifest));
    }

    /** The default of a job option ({@link JobOptions}) by key, or null. */
    static String defaultOf(String key) {
        for (java.lang.reflect.Field f : JobOptions.class.getFields()) {
            if (ConfigOption.class.isAssignableFrom(f.getType())) {
                try {
                    ConfigOption<?> opt = (ConfigOption<?>) f.get(null);
                    if (opt.key().equals(key) && opt.hasDefaultValue()) {
                        return String.valueOf(opt.defaultValue());
                    }
                } catch (IllegalAccessException e) {
                    // not readable: no default known
                }
            }
        }
        return null;
    }

    private static Map<String, Object> modelCardMetrics(JsonNode manifest) {
        Map<String, Object> m = new LinkedHashMap<>();
        manifest.path("metrics").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }

    static EvalResult runOnce(Options o, List<LabelClips.Clip> clips, Map<String, List<byte[]>> gt,
                              List<String> classNames, CostModel cost, int k, String variant,
                              Map<String, String> extra, PrintStream log) throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("model.dir", o.model.toString());
        settings.put("parallelism.default", "1");
        settings.putAll(o.settings);
        settings.putAll(extra);
        settings.put("key.interval", Integer.toString(k));
        Configuration conf = Configuration.fromMap(settings);

        EvalFrames source = new EvalFrames(clips, 1_700_000_000_000L, o.frameIntervalMs);
        int total = source.size();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        DataStream<FrameRecord> frames = env.fromSource(
                new DataGeneratorSource<>(source, total, TypeInformation.of(FrameRecord.class)),
                WatermarkStrategy.noWatermarks(), "eval-frames").setParallelism(1);
        MpvssJob.Outputs outs = MpvssJob.build(frames, conf);
        DataStream<MaskDocument> all = outs.masks().union(outs.deadLetters().map(EvalCommand::deadLetterMarker)
                .returns(MaskDocument.class));

        ConfusionMatrix cm = new ConfusionMatrix(classNames.size());
        Map<String, List<byte[]>> pred = new HashMap<>();
        for (Map.Entry<String, List<byte[]>> e : gt.entrySet()) {
            List<byte[]> l = new ArrayList<>();
            for (int i = 0; i < e.getValue().size(); i++) {
                l.add(null);
            }
            pred.put(e.getKey(), l);
        }
        LatencyStats ms = new LatencyStats();
        LatencyStats msKey = new LatencyStats();
        LatencyStats msNonKey = new LatencyStats();
        long received = 0;
        long scored = 0;
        long keyFrames = 0;
        long dead = 0;
        long t0 = System.nanoTime();
        long lastLog = t0;
        String tag = "eval K=" + k + ("default".equals(variant) ? "" : " [" + variant + "]");
        log.printf(Locale.ROOT, "%s: starting (%d frames)%n", tag, total);
        LocalQueueSink<MaskDocument> sink = LocalQueueSink.create("eval-" + k + "-" + System.nanoTime());
        all.sinkTo(sink).name("eval-results").setParallelism(1);
        BlockingQueue<MaskDocument> queue = sink.queue();
        CompletableFuture<Void> job = CompletableFuture.runAsync(() -> {
            try {
                env.execute("mpvss-eval-K" + k);
            } catch (Exception e) {
                throw new CompletionException(e);
            }
        });
        try {
            while (true) {
                MaskDocument d = queue.poll(200, TimeUnit.MILLISECONDS);
                if (d == null) {
                    if (job.isDone() && queue.isEmpty()) {
                        job.join(); // rethrows the job's failure
                        break;
                    }
                    continue;
                }
                if (d.getStream() != null && d.getStream().startsWith(DLQ_MARK)) {
                    dead++;
                    log.println(tag + ": dead letter " + d.getStream().substring(DLQ_MARK.length()));
                    continue;
                }
                received++;
                ms.add(d.getProcessingMs());
                if (d.isKeyFrame()) {
                    keyFrames++;
                    msKey.add(d.getProcessingMs());
                } else {
                    msNonKey.add(d.getProcessingMs());
                }
                List<byte[]> g = gt.get(d.getStream());
                int idx = (int) d.getSeq();
                if (g == null || idx < 0 || idx >= g.size()) {
                    throw new IllegalStateException("mask for unknown frame " + d.getStream() + "#" + d.getSeq());
                }
                byte[] p = LabelMapPng.decode(d.getLabelMapPng());
                pred.get(d.getStream()).set(idx, p);
                if (g.get(idx) != null) {
                    if (g.get(idx).length != p.length) {
                        throw new IllegalStateException("label map of " + d.getStream() + "#" + d.getSeq() + " has "
                                + p.length + " pixels, ground truth " + g.get(idx).length);
                    }
                    cm.add(g.get(idx), p);
                    scored++;
                }
                long now = System.nanoTime();
                if (now - lastLog > 5_000_000_000L) {
                    lastLog = now;
                    log.printf(Locale.ROOT, "%s: %d/%d frames (%.0f%%), %.1f frames/s%n", tag, received, total,
                            100.0 * received / total, received / ((now - t0) / 1e9));
                }
            }
        } catch (CompletionException e) {
            throw e.getCause() instanceof Exception ex ? ex : e;
        } finally {
            sink.release();
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        if (received != total) {
            log.printf("%s: WARNING %d masks for %d frames%n", tag, received, total);
        }
        VideoConsistency vc8 = new VideoConsistency(8);
        VideoConsistency vc16 = new VideoConsistency(16);
        for (Map.Entry<String, List<byte[]>> e : gt.entrySet()) {
            List<byte[]> g = e.getValue();
            List<byte[]> p = pred.get(e.getKey());
            // the longest prefix where both ground truth and prediction exist
            int n = 0;
            while (n < g.size() && g.get(n) != null && p.get(n) != null) {
                n++;
            }
            vc8.addClip(g.subList(0, n), p.subList(0, n));
            vc16.addClip(g.subList(0, n), p.subList(0, n));
        }
        Map<String, Double> perClass = new LinkedHashMap<>();
        for (int c = 0; c < classNames.size(); c++) {
            perClass.put(classNames.get(c), cm.iou(c));
        }
        EvalResult r = new EvalResult(k, variant, settings, received, scored, keyFrames, cm.meanIoU(),
                cm.pixelAccuracy(), perClass, vc8.mean(), vc16.mean(), cost.gmacsPerFrame(k), cost.gflopsPerFrame(k),
                ms.isEmpty() ? Double.NaN : ms.mean(), msKey.isEmpty() ? Double.NaN : msKey.mean(),
                msNonKey.isEmpty() ? Double.NaN : msNonKey.mean(), ms.isEmpty() ? Double.NaN : ms.p50(), wall, dead);
        log.printf(Locale.ROOT, "%s: done in %.1f s: mIoU %.2f%%, mVC8 %.2f%%, mVC16 %.2f%%, %.3f GFLOPs/frame, "
                        + "%.2f ms/frame (key %.2f, propagated %.2f), %d key frames%n", tag, wall, 100 * r.miou(),
                100 * r.mvc8(), 100 * r.mvc16(), r.gflopsPerFrame(), r.msPerFrame(), r.msKeyFrame(),
                r.msNonKeyFrame(), keyFrames);
        return r;
    }

    static final String DLQ_MARK = "\u0000dlq:";

    private static MaskDocument deadLetterMarker(FrameRecord r) {
        MaskDocument d = new MaskDocument();
        d.setStream(DLQ_MARK + r.key + " " + r.headerString("mpvss.error.class") + ": "
                + r.headerString("mpvss.error.message"));
        return d;
    }
}
