package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.mpvss.config.JobOptions;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.state.StateCompaction;

/**
 * {@code mpvss bench}: throughput and latency of the real pipeline (embedded Kafka broker + Flink MiniCluster +
 * the product's job), against the model-only bound (the same graphs in a tight loop), plus state bytes per stream and
 * memory. Writes {@code bench.json} and {@code bench.md} to the output folder.
 */
public final class BenchCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss bench --frames DIR [options]",
            "  --frames DIR            clips to stream (DIR/<clip>/frames/*.jpg; demo clips or the test split)",
            "  --model DIR             model bundle (default model-ops/bundle)",
            "  --streams LIST          camera streams S per run (default 1,8,64)",
            "  --intervals LIST        key intervals compared side by side (default 1,5)",
            "  --frames-total N        backlog frames per run, split over the streams (default 320)",
            "  --min-frames-per-stream N  at least this many frames per stream (default 5)",
            "  --model-only-frames-total N  frames per model-only run, split over the streams (default 200)",
            "  --model-only-repeats N  model-only runs per S and K, the best counts (default 2)",
            "  --backlog-repeats N     end-to-end backlog runs per S and K, the best counts (default 2)",
            "  --paced-intervals LIST  key intervals of the paced latency runs (default 5)",
            "  --paced-streams LIST    streams for the paced latency runs (default: --streams; 'none' to skip)",
            "  --paced-seconds N       length of each paced run (default 8)",
            "  --paced-fraction F      paced rate = F x the backlog frames/s of the same S and K (default 0.5)",
            "  --guarantees LIST       delivery guarantees of the paced runs (default exactly-once,at-least-once)",
            "  --throughput-guarantee G  guarantee of the backlog runs (default at-least-once)",
            "  --checkpoint-ms N       checkpoint interval (default 1000)",
            "  --partitions N          partitions of the frames/masks topics (default 2)",
            "  --batch N               batch size of the model-only loop (default: the operator's)",
            "  --profile-frames N      frames of the per-stage profile (default 100)",
            "  --graph-runs N          runs of each graph under ONNX Runtime's profiler (default 10; 0 = skip)",
            "  --thread-sweep LIST     model-only S=1 with these ONNX Runtime intra-op thread counts (default 1,2)",
            "  --set KEY=VALUE         job/Flink setting for every run (repeatable)",
            "  --max-clips N           clips loaded from --frames (default 16)",
            "  --timeout-s N           give up on a run after N seconds (default 120)",
            "  --out DIR               output folder (default target/bench)");

    /**
     * Frames per inference call in the operator: {@code MaskPropagation.processElement} runs the segmentor or the
     * propagator on the one frame it was given, so the model-only loop uses batch 1 too.
     */
    public static final int OPERATOR_BATCH = 1;

    private BenchCommand() {
    }

    public static void main(String[] args) throws Exception {
        int rc;
        try {
            rc = run(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("mpvss bench: " + e.getMessage());
            System.err.println(USAGE);
            rc = 2;
        }
        System.exit(rc);
    }

    /** Options. */
    public static final class Options {
        public Path frames;
        public Path model = Path.of("model-ops/bundle");
        public List<Integer> streams = List.of(1, 8, 64);
        public List<Integer> intervals = List.of(1, 5);
        public int framesTotal = 320;
        public int minFramesPerStream = 5;
        public int modelOnlyFramesTotal = 200;
        public int modelOnlyRepeats = 2;
        public int backlogRepeats = 2;
        public List<Integer> pacedIntervals = List.of(5);
        public List<Integer> pacedStreams;
        public double pacedSeconds = 8;
        public double pacedFraction = 0.5;
        public List<String> guarantees = List.of("exactly-once", "at-least-once");
        public String throughputGuarantee = "at-least-once";
        public long checkpointMs = 1000;
        public int partitions = 2;
        public int batch = -1;
        public int profileFrames = 100;
        public int graphRuns = 10;
        public List<Integer> threadSweep = List.of(1, 2);
        public int threadSweepFrames = 40;
        public Map<String, String> settings = new LinkedHashMap<>();
        public int maxClips = 16;
        public long timeoutS = 120;
        public Path out = Path.of("target/bench");

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
                if (eq > 0 && !a.startsWith("--set")) {
                    v = a.substring(eq + 1);
                    a = a.substring(0, eq);
                } else {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    v = args[++i];
                }
                switch (a) {
                    case "--frames" -> o.frames = Path.of(v);
                    case "--model" -> o.model = Path.of(v);
                    case "--streams" -> o.streams = ints(v);
                    case "--intervals" -> o.intervals = ints(v);
                    case "--frames-total" -> o.framesTotal = Integer.parseInt(v);
                    case "--min-frames-per-stream" -> o.minFramesPerStream = Integer.parseInt(v);
                    case "--model-only-frames-total" -> o.modelOnlyFramesTotal = Integer.parseInt(v);
                    case "--model-only-repeats" -> o.modelOnlyRepeats = Math.max(1, Integer.parseInt(v));
                    case "--backlog-repeats" -> o.backlogRepeats = Math.max(1, Integer.parseInt(v));
                    case "--paced-intervals" -> o.pacedIntervals = ints(v);
                    case "--paced-streams" -> o.pacedStreams = v.equals("none") ? List.of() : ints(v);
                    case "--paced-seconds" -> o.pacedSeconds = Double.parseDouble(v);
                    case "--paced-fraction" -> o.pacedFraction = Double.parseDouble(v);
                    case "--guarantees" -> o.guarantees = List.of(v.split(","));
                    case "--throughput-guarantee" -> o.throughputGuarantee = v;
                    case "--checkpoint-ms" -> o.checkpointMs = Long.parseLong(v);
                    case "--partitions" -> o.partitions = Integer.parseInt(v);
                    case "--batch" -> o.batch = Integer.parseInt(v);
                    case "--profile-frames" -> o.profileFrames = Integer.parseInt(v);
                    case "--graph-runs" -> o.graphRuns = Integer.parseInt(v);
                    case "--thread-sweep" -> o.threadSweep = v.equals("none") ? List.of() : ints(v);
                    case "--max-clips" -> o.maxClips = Integer.parseInt(v);
                    case "--timeout-s" -> o.timeoutS = Long.parseLong(v);
                    case "--out" -> o.out = Path.of(v);
                    case "--set" -> {
                        int e = v.indexOf('=');
                        if (e <= 0) {
                            throw new IllegalArgumentException("--set expects KEY=VALUE, got '" + v + "'");
                        }
                        o.settings.put(v.substring(0, e), v.substring(e + 1));
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (o.frames == null) {
                throw new IllegalArgumentException("--frames is required");
            }
            if (o.pacedStreams == null) {
                o.pacedStreams = o.streams;
            }
            return o;
        }

        static List<Integer> ints(String csv) {
            List<Integer> r = new ArrayList<>();
            for (String s : csv.split(",")) {
                if (!s.isBlank()) {
                    r.add(Integer.parseInt(s.trim()));
                }
            }
            return r;
        }
    }

    public static int run(String[] args, PrintStream log) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            if ("help".equals(e.getMessage())) {
                log.println(USAGE);
                return 0;
            }
            throw e;
        }
        BenchReport report = bench(o, log);
        Files.createDirectories(o.out);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(o.out.resolve("bench.json").toFile(), report);
        Files.writeString(o.out.resolve("bench.md"), report.toMarkdown(), StandardCharsets.UTF_8);
        log.println();
        log.print(report.toMarkdown());
        log.println("wrote " + o.out.resolve("bench.json") + ", " + o.out.resolve("bench.md"));
        return 0;
    }

    /** Backlog frames per stream at S streams. */
    static int framesPerStream(Options o, int streams, int k) {
        return perStream(o, streams, o.framesTotal);
    }

    /** Frames per stream when {@code total} frames are split over S streams. */
    static int framesPerStream(Options o, int streams, int k, int total) {
        return perStream(o, streams, total);
    }

    private static int perStream(Options o, int streams, int total) {
        int n = Math.max(o.minFramesPerStream, (int) Math.ceil((double) total / streams));
        // whole key intervals, so that every K sees the same key-frame fraction
        int lcm = 1;
        for (int kk : o.intervals) {
            lcm = lcm(lcm, kk);
        }
        return (int) Math.ceil((double) n / lcm) * lcm;
    }

    private static int lcm(int a, int b) {
        int x = a;
        int y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    public static BenchReport bench(Options o, PrintStream log) throws Exception {
        long t0 = System.nanoTime();
        BenchFrames frames = BenchFrames.load(o.frames, o.maxClips, 1000);
        log.printf(Locale.ROOT, "bench: %d clips from %s (mean frame %.1f KB)%n", frames.clipCount(), o.frames,
                frames.meanBytes() / 1024);
        String device = o.settings.getOrDefault("inference.device", "auto");
        int threads = Integer.parseInt(o.settings.getOrDefault("inference.threads", "0"));
        InferenceOptions inf = new InferenceOptions(InferenceOptions.Device.valueOf(device.trim().toUpperCase(Locale.ROOT)), threads, 0);
        int batch = o.batch > 0 ? o.batch : OPERATOR_BATCH;

        List<ModelOnlyBench.Result> modelOnly = new ArrayList<>();
        List<ModelOnlyBench.Profile> profiles = new ArrayList<>();
        List<StateProbe.Size> state = new ArrayList<>();
        List<GraphProfile.Graph> graphs = new ArrayList<>();
        String modelId;
        String provider;
        int mw;
        int mh;
        try (ModelBundle bundle = ModelBundle.open(o.model, inf)) {
            modelId = bundle.modelId();
            provider = bundle.executionProvider();
            mw = bundle.manifest().width();
            mh = bundle.manifest().height();
            log.printf(Locale.ROOT, "bench: model %s (%dx%d, N=%d) on %s%n", modelId, mw, mh,
                    bundle.manifest().queries(), provider);
            // 1. state per stream, with the operator's serializer on real state
            // the job's compaction as --set gives it (its defaults otherwise), against none and the other variants
            org.apache.flink.configuration.Configuration sc =
                    org.apache.flink.configuration.Configuration.fromMap(o.settings);
            StateCompaction def = new StateCompaction(sc.get(JobOptions.STATE_MASK_PRECISION),
                    sc.get(JobOptions.STATE_KEY_IMAGE), sc.get(JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY));
            for (StateCompaction c : StateProbe.variants(def)) {
                StateProbe.Size s = StateProbe.measure(bundle, frames.frame(0, 0), c, 20);
                state.add(s);
                log.printf(Locale.ROOT, "state %s: %d bytes per stream (key frame %d + cursor %d)%n", s.precision(),
                        s.totalBytes(), s.keyFrameStateBytes(), s.cursorBytes());
            }
            // 2. model-only bound with the operator's schedule and batch size: the best of --model-only-repeats
            //    runs (a bound is what the graphs can do; a run slowed by other load on the machine is not it),
            //    K values interleaved so that a load change hits both
            for (int s : o.streams) {
                Map<Integer, ModelOnlyBench.Result> best = new LinkedHashMap<>();
                for (int rep = 0; rep < o.modelOnlyRepeats; rep++) {
                    for (int k : o.intervals) {
                        int n = framesPerStream(o, s, k, o.modelOnlyFramesTotal);
                        ModelOnlyBench.Result r = ModelOnlyBench.run(bundle, frames, s, k, n, Math.min(n, 2 * k),
                                batch, log);
                        log.printf(Locale.ROOT, "model-only S=%d K=%d batch=%d (run %d): %.1f frames/s (%.2f "
                                + "ms/frame)%n", s, k, batch, rep + 1, r.fps(), r.msPerFrame());
                        best.merge(k, r, (a, b) -> a.fps() >= b.fps() ? a : b);
                    }
                }
                modelOnly.addAll(best.values());
            }
            // 3. stage profile
            for (int k : o.intervals) {
                ModelOnlyBench.Profile p = ModelOnlyBench.profile(bundle, frames, k, o.profileFrames);
                profiles.add(p);
                log.printf(Locale.ROOT, "profile K=%d: decode %.2f, resize %.2f, tensors %.2f, inference %.2f "
                                + "(segmentor %.2f, propagator %.2f), labels %.2f, png %.2f, json %.2f ms/frame%n", k,
                        p.decodeMs(), p.resizeMs(), p.tensorsMs(), p.inferencePerFrameMs(), p.segmentorMs(),
                        p.propagatorMs(), p.labelResizeMs(), p.pngEncodeMs(), p.documentMs());
            }
            // 4. where the graphs spend their time, by operator type (ONNX Runtime's profiler)
            if (o.graphRuns > 0) {
                graphs.addAll(GraphProfile.profile(bundle.dir(), bundle.manifest(),
                        BenchFrames.modelRgb(frames.frame(0, 0), mw, mh), BenchFrames.modelRgb(frames.frame(0, 1), mw, mh),
                        threads, o.graphRuns));
                for (GraphProfile.Graph g : graphs) {
                    log.printf(Locale.ROOT, "graph %s: %.2f ms per run; top operators: %s%n", g.graph(), g.msPerRun(),
                            g.ops().stream().limit(4).map(x -> String.format(Locale.ROOT, "%s %.0f%%", x.op(),
                                    100 * x.share())).toList());
                }
            }
        }

        // 5. ONNX Runtime intra-op threads: model-only S=1 at each K, 1 thread against 2 (one per core)
        List<ModelOnlyBench.Result> threadSweep = new ArrayList<>();
        for (int t : o.threadSweep) {
            try (ModelBundle b = ModelBundle.open(o.model, new InferenceOptions(inf.device(), t, 0))) {
                for (int k : o.intervals) {
                    int n = framesPerStream(o, 1, k, o.threadSweepFrames);
                    ModelOnlyBench.Result r = ModelOnlyBench.run(b, frames, 1, k, n, Math.min(n, 2 * k), batch, log);
                    threadSweep.add(new ModelOnlyBench.Result(r.streams(), r.k(), t, r.frames(), r.keyFrames(),
                            r.seconds(), r.fps(), r.msPerFrame()));
                    log.printf(Locale.ROOT, "model-only S=1 K=%d with %d ONNX Runtime thread(s): %.1f frames/s%n", k, t,
                            r.fps());
                }
            }
        }

        // 6. the real pipeline
        List<PipelineBench.Result> backlog = new ArrayList<>();
        List<PipelineBench.Result> paced = new ArrayList<>();
        Map<String, String> settings = new LinkedHashMap<>(o.settings);
        settings.put("model.dir", o.model.toString());
        Duration timeout = Duration.ofSeconds(o.timeoutS);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            // backlog drain, K values interleaved, the best of --backlog-repeats runs per S and K (the same rule as
            // the model-only bound, so that both sides of the ratios are treated alike on a shared machine)
            for (int s : o.streams) {
                Map<Integer, PipelineBench.Result> best = new LinkedHashMap<>();
                for (int rep = 0; rep < o.backlogRepeats; rep++) {
                    for (int k : o.intervals) {
                        int n = framesPerStream(o, s, k);
                        PipelineBench.Result r = PipelineBench.run(kafka, frames, new PipelineBench.Run("backlog",
                                o.throughputGuarantee, s, k, n, 0, 0, o.checkpointMs, o.partitions, settings,
                                timeout), log);
                        best.merge(k, r, (a, b) -> !a.complete() && b.complete() ? b
                                : a.complete() && !b.complete() ? a : a.fps() >= b.fps() ? a : b);
                    }
                }
                backlog.addAll(best.values());
            }
            for (int s : o.pacedStreams) {
                for (String g : o.guarantees) {
                    for (int k : o.pacedIntervals) {
                        // the same relative load for every K: a fraction of this K's own backlog rate at this S
                        double base = backlog.stream().filter(r -> r.streams() == s && r.k() == k)
                                .mapToDouble(PipelineBench.Result::fps).findFirst().orElse(Double.NaN);
                        if (Double.isNaN(base)) {
                            log.println("bench: no backlog run for S=" + s + " K=" + k + ", skipping its paced runs");
                            continue;
                        }
                        double rate = Math.max(1, o.pacedFraction * base);
                        // whole key intervals per stream, about --paced-seconds long
                        int n = Math.max(k, (int) Math.round(rate * o.pacedSeconds / s));
                        n = (int) Math.ceil((double) n / k) * k;
                        paced.add(PipelineBench.run(kafka, frames, new PipelineBench.Run("paced", g, s, k, n, rate,
                                1, o.checkpointMs, o.partitions, settings, timeout), log));
                    }
                }
            }
        }
        double minutes = (System.nanoTime() - t0) / 60e9;
        log.printf(Locale.ROOT, "bench: done in %.1f min%n", minutes);
        return new BenchReport(modelId, provider, mw, mh, o.frames.toString(), frames.meanBytes(), batch,
                o.intervals, o.throughputGuarantee, o.checkpointMs, o.pacedFraction, settings, state, modelOnly,
                profiles, graphs, threadSweep, backlog, paced, minutes);
    }
}
