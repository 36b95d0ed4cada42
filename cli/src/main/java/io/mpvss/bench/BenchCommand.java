package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.mpvss.cli.Args;
import io.mpvss.cli.ReportFiles;
import io.mpvss.cli.RepoPaths;
import io.mpvss.cli.UsageException;
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

    public static final String USAGE = String.join("\n",
            "usage: mpvss bench --clips DIR [options]",
            "  --clips DIR             clips to stream (DIR/<clip>/frames/*.jpg; demo clips or the test split)",
            "  --model.dir DIR         model bundle (default model-ops/bundle of this repository)",
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
            "  --max-clips N           clips loaded from --clips (default 16)",
            "  --timeout DURATION      give up on a run after this long (default 120s)",
            "  --out DIR               output folder (default target/bench)",
            "  --<job option> VALUE    any job option or Flink key for every run, e.g. --inference.threads 1",
            "                          (see `mpvss run --help`)");

    /**
     * Frames per inference call in the operator: {@code MaskPropagation.processElement} runs the segmentor or the
     * propagator on the one frame it was given, so the model-only loop uses batch 1 too.
     */
    public static final int OPERATOR_BATCH = 1;

    private BenchCommand() {
    }

    /** Options. */
    public static final class Options {
        public Path frames;
        public Path model;
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
        /** Job options and Flink keys for every run. */
        public Map<String, String> settings = new LinkedHashMap<>();
        public int maxClips = 16;
        public Duration timeout = Duration.ofSeconds(120);
        public Path out = Path.of("target/bench");

        /** Reads the options; every other option with a dot in its key is a job setting. */
        public static Options from(Args args) {
            Options o = new Options();
            o.frames = args.getFolder("clips", null);
            o.model = RepoPaths.modelDir(args);
            o.streams = args.getIntList("streams", o.streams);
            o.intervals = args.getIntList("intervals", o.intervals);
            o.framesTotal = args.getPositiveInt("frames-total", o.framesTotal);
            o.minFramesPerStream = args.getPositiveInt("min-frames-per-stream", o.minFramesPerStream);
            o.modelOnlyFramesTotal = args.getPositiveInt("model-only-frames-total", o.modelOnlyFramesTotal);
            o.modelOnlyRepeats = args.getPositiveInt("model-only-repeats", o.modelOnlyRepeats);
            o.backlogRepeats = args.getPositiveInt("backlog-repeats", o.backlogRepeats);
            o.pacedIntervals = args.getIntList("paced-intervals", o.pacedIntervals);
            o.pacedStreams = args.getIntListOrNone("paced-streams", o.streams);
            o.pacedSeconds = args.getDouble("paced-seconds", o.pacedSeconds);
            o.pacedFraction = args.getDouble("paced-fraction", o.pacedFraction);
            o.guarantees = args.getList("guarantees", o.guarantees);
            o.throughputGuarantee = args.get("throughput-guarantee", o.throughputGuarantee);
            o.checkpointMs = args.getLong("checkpoint-ms", o.checkpointMs);
            o.partitions = args.getPositiveInt("partitions", o.partitions);
            o.batch = args.getInt("batch", o.batch);
            o.profileFrames = args.getPositiveInt("profile-frames", o.profileFrames);
            o.graphRuns = args.getInt("graph-runs", o.graphRuns);
            o.threadSweep = args.getIntListOrNone("thread-sweep", o.threadSweep);
            o.maxClips = args.getPositiveInt("max-clips", o.maxClips);
            o.timeout = args.getDuration("timeout", o.timeout);
            o.out = args.getPath("out", o.out);
            o.settings.putAll(args.jobSettings());
            args.rejectUnknown();
            if (o.frames == null) {
                throw new UsageException("--clips DIR is required");
            }
            return o;
        }
    }

    public static int run(Args args, PrintStream log) throws Exception {
        Options o = Options.from(args);
        BenchReport report = bench(o, log);
        ReportFiles.write(o.out, "bench", report, report.toMarkdown());
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

    /** What the runs on the model alone measured (one open bundle). */
    private record ModelOnly(String modelId, String provider, int width, int height, List<StateProbe.Size> state,
                             List<ModelOnlyBench.Result> bound, List<ModelOnlyBench.Profile> profiles,
                             List<GraphProfile.Graph> graphs) {
    }

    /** What the runs of the real pipeline measured. */
    private record Pipeline(List<PipelineBench.Result> backlog, List<PipelineBench.Result> paced) {
    }

    public static BenchReport bench(Options o, PrintStream log) throws Exception {
        long t0 = System.nanoTime();
        BenchFrames frames = BenchFrames.load(o.frames, o.maxClips, 1000);
        log.printf(Locale.ROOT, "bench: %d clips from %s (mean frame %.1f KB)%n", frames.clipCount(), o.frames,
                frames.meanBytes() / 1024);
        String device = o.settings.getOrDefault("inference.device", "auto");
        int threads = Integer.parseInt(o.settings.getOrDefault("inference.threads", "0"));
        InferenceOptions inf = new InferenceOptions(InferenceOptions.Device.valueOf(device.trim()
                .toUpperCase(Locale.ROOT)), threads, 0);
        int batch = o.batch > 0 ? o.batch : OPERATOR_BATCH;

        ModelOnly model = modelOnly(o, frames, inf, batch, log);
        List<ModelOnlyBench.Result> threadSweep = threadSweep(o, frames, inf, batch, log);
        Map<String, String> settings = new LinkedHashMap<>(o.settings);
        // the report names the model by its id; the path (absolute here) would leak this machine's layout
        settings.put(JobOptions.MODEL_DIR.key(), o.model.toString());
        Pipeline pipeline = pipeline(o, frames, settings, log);
        double minutes = (System.nanoTime() - t0) / 60e9;
        log.printf(Locale.ROOT, "bench: done in %.1f min%n", minutes);
        return new BenchReport(model.modelId(), model.provider(), model.width(), model.height(), o.frames.toString(),
                frames.meanBytes(), batch, o.intervals, o.throughputGuarantee, o.checkpointMs, o.pacedFraction,
                o.settings, model.state(), model.bound(), model.profiles(), model.graphs(), threadSweep,
                pipeline.backlog(), pipeline.paced(), minutes);
    }

    /** State per stream, the model-only bound, the stage profile and the graphs' operators, on one bundle. */
    private static ModelOnly modelOnly(Options o, BenchFrames frames, InferenceOptions inf, int batch,
                                       PrintStream log) throws Exception {
        try (ModelBundle bundle = ModelBundle.open(o.model, inf)) {
            int mw = bundle.manifest().width();
            int mh = bundle.manifest().height();
            log.printf(Locale.ROOT, "bench: model %s (%dx%d, N=%d) on %s%n", bundle.modelId(), mw, mh,
                    bundle.manifest().queries(), bundle.executionProvider());
            return new ModelOnly(bundle.modelId(), bundle.executionProvider(), mw, mh, stateSizes(bundle, frames, o.settings, log),
                    bound(o, bundle, frames, batch, log), profiles(o, bundle, frames, log),
                    graphs(o, bundle, frames, inf.threads(), log));
        }
    }

    /**
     * 1. State per stream, with the operator's serializer on real state: the job's compaction as the settings give
     * it (its defaults otherwise), against none and the other variants.
     */
    private static List<StateProbe.Size> stateSizes(ModelBundle bundle, BenchFrames frames, Map<String, String> settings,
            PrintStream log) throws Exception {
        org.apache.flink.configuration.Configuration sc = org.apache.flink.configuration.Configuration.fromMap(settings);
        StateCompaction def = new StateCompaction(sc.get(JobOptions.STATE_MASK_PRECISION),
                sc.get(JobOptions.STATE_KEY_IMAGE), sc.get(JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY));
        List<StateProbe.Size> state = new ArrayList<>();
        for (StateCompaction c : StateProbe.variants(def)) {
            StateProbe.Size s = StateProbe.measure(bundle, frames.frame(0, 0), c, 20);
            state.add(s);
            log.printf(Locale.ROOT, "state %s: %d bytes per stream (key frame %d + cursor %d)%n", s.precision(),
                    s.totalBytes(), s.keyFrameStateBytes(), s.cursorBytes());
        }
        return state;
    }

    /**
     * 2. The model-only bound with the operator's schedule and batch size: the best of --model-only-repeats runs (a
     * bound is what the graphs can do; a run slowed by other load on the machine is not it), K values interleaved
     * so that a load change hits both.
     */
    private static List<ModelOnlyBench.Result> bound(Options o, ModelBundle bundle, BenchFrames frames, int batch,
                                                     PrintStream log) throws Exception {
        List<ModelOnlyBench.Result> modelOnly = new ArrayList<>();
        for (int s : o.streams) {
            Map<Integer, ModelOnlyBench.Result> best = new LinkedHashMap<>();
            for (int rep = 0; rep < o.modelOnlyRepeats; rep++) {
                for (int k : o.intervals) {
                    int n = framesPerStream(o, s, k, o.modelOnlyFramesTotal);
                    ModelOnlyBench.Result r = ModelOnlyBench.run(bundle, frames, s, k, n, Math.min(n, 2 * k), batch,
                            log);
                    log.printf(Locale.ROOT, "model-only S=%d K=%d batch=%d (run %d): %.1f frames/s (%.2f "
                            + "ms/frame)%n", s, k, batch, rep + 1, r.fps(), r.msPerFrame());
                    best.merge(k, r, (a, b) -> a.fps() >= b.fps() ? a : b);
                }
            }
            modelOnly.addAll(best.values());
        }
        return modelOnly;
    }

    /** 3. Where a frame's time goes, stage by stage. */
    private static List<ModelOnlyBench.Profile> profiles(Options o, ModelBundle bundle, BenchFrames frames,
                                                         PrintStream log) throws Exception {
        List<ModelOnlyBench.Profile> profiles = new ArrayList<>();
        for (int k : o.intervals) {
            ModelOnlyBench.Profile p = ModelOnlyBench.profile(bundle, frames, k, o.profileFrames);
            profiles.add(p);
            log.printf(Locale.ROOT, "profile K=%d: decode %.2f, resize %.2f, tensors %.2f, inference %.2f "
                            + "(segmentor %.2f, propagator %.2f), labels %.2f, png %.2f, json %.2f ms/frame%n", k,
                    p.decodeMs(), p.resizeMs(), p.tensorsMs(), p.inferencePerFrameMs(), p.segmentorMs(),
                    p.propagatorMs(), p.labelResizeMs(), p.pngEncodeMs(), p.documentMs());
        }
        return profiles;
    }

    /** 4. Where the graphs spend their time, by operator type (ONNX Runtime's profiler). */
    private static List<GraphProfile.Graph> graphs(Options o, ModelBundle bundle, BenchFrames frames, int threads,
                                                   PrintStream log) throws Exception {
        if (o.graphRuns <= 0) {
            return List.of();
        }
        int mw = bundle.manifest().width();
        int mh = bundle.manifest().height();
        List<GraphProfile.Graph> graphs = GraphProfile.profile(bundle.dir(), bundle.manifest(),
                BenchFrames.modelRgb(frames.frame(0, 0), mw, mh), BenchFrames.modelRgb(frames.frame(0, 1), mw, mh),
                threads, o.graphRuns);
        for (GraphProfile.Graph g : graphs) {
            log.printf(Locale.ROOT, "graph %s: %.2f ms per run; top operators: %s%n", g.graph(), g.msPerRun(),
                    g.ops().stream().limit(4).map(x -> String.format(Locale.ROOT, "%s %.0f%%", x.op(),
                            100 * x.share())).toList());
        }
        return graphs;
    }

    /** 5. ONNX Runtime intra-op threads: model-only S=1 at each K with each thread count. */
    private static List<ModelOnlyBench.Result> threadSweep(Options o, BenchFrames frames, InferenceOptions inf,
                                                           int batch, PrintStream log) throws Exception {
        List<ModelOnlyBench.Result> threadSweep = new ArrayList<>();
        for (int t : o.threadSweep) {
            try (ModelBundle b = ModelBundle.open(o.model, new InferenceOptions(inf.device(), t, 0))) {
                for (int k : o.intervals) {
                    int n = framesPerStream(o, 1, k, o.threadSweepFrames);
                    ModelOnlyBench.Result r = ModelOnlyBench.run(b, frames, 1, k, n, Math.min(n, 2 * k), batch, log);
                    threadSweep.add(new ModelOnlyBench.Result(r.streams(), r.k(), t, r.frames(), r.keyFrames(),
                            r.seconds(), r.fps(), r.msPerFrame()));
                    log.printf(Locale.ROOT, "model-only S=1 K=%d with %d ONNX Runtime thread(s): %.1f frames/s%n", k,
                            t, r.fps());
                }
            }
        }
        return threadSweep;
    }

    /**
     * 6. The real pipeline: backlog drain, K values interleaved, the best of --backlog-repeats runs per S and K (the
     * same rule as the model-only bound, so that both sides of the ratios are treated alike on a shared machine);
     * then the paced latency runs.
     */
    private static Pipeline pipeline(Options o, BenchFrames frames, Map<String, String> settings, PrintStream log)
            throws Exception {
        List<PipelineBench.Result> backlog = new ArrayList<>();
        List<PipelineBench.Result> paced = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            for (int s : o.streams) {
                Map<Integer, PipelineBench.Result> best = new LinkedHashMap<>();
                for (int rep = 0; rep < o.backlogRepeats; rep++) {
                    for (int k : o.intervals) {
                        int n = framesPerStream(o, s, k);
                        PipelineBench.Result r = PipelineBench.run(kafka, frames, new PipelineBench.Run("backlog",
                                o.throughputGuarantee, s, k, n, 0, 0, o.checkpointMs, o.partitions, settings,
                                o.timeout), log);
                        best.merge(k, r, (a, b) -> !a.complete() && b.complete() ? b
                                : a.complete() && !b.complete() ? a : a.fps() >= b.fps() ? a : b);
                    }
                }
                backlog.addAll(best.values());
            }
            for (int s : o.pacedStreams) {
                for (String g : o.guarantees) {
                    for (int k : o.pacedIntervals) {
                        PipelineBench.Result r = pacedRun(o, kafka, frames, settings, backlog, s, g, k, log);
                        if (r != null) {
                            paced.add(r);
                        }
                    }
                }
            }
        }
        return new Pipeline(backlog, paced);
    }

    /** One paced run at a fraction of this S and K's own backlog rate (the same relative load for every K). */
    private static PipelineBench.Result pacedRun(Options o, EmbeddedKafka kafka, BenchFrames frames,
                                                 Map<String, String> settings, List<PipelineBench.Result> backlog,
                                                 int s, String guarantee, int k, PrintStream log) throws Exception {
        double base = backlog.stream().filter(r -> r.streams() == s && r.k() == k)
                .mapToDouble(PipelineBench.Result::fps).findFirst().orElse(Double.NaN);
        if (Double.isNaN(base)) {
            log.println("bench: no backlog run for S=" + s + " K=" + k + ", skipping its paced runs");
            return null;
        }
        double rate = Math.max(1, o.pacedFraction * base);
        // whole key intervals per stream, about --paced-seconds long
        int n = Math.max(k, (int) Math.round(rate * o.pacedSeconds / s));
        n = (int) Math.ceil((double) n / k) * k;
        return PipelineBench.run(kafka, frames, new PipelineBench.Run("paced", guarantee, s, k, n, rate, 1,
                o.checkpointMs, o.partitions, settings, o.timeout), log);
    }
}
