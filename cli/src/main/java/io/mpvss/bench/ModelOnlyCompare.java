package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

import ai.onnxruntime.*;

import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;

/**
 * Side-by-side model-only comparison of bundles (issue 9): the project's own model-only loop
 * ({@link ModelOnlyBench#run}: ModelBundle, the operator's key schedule, S = batch streams so every call is a full
 * batch) for every bundle x K, round robin, so that load from other processes hits all of them alike; the best
 * round counts. Prints ms/frame per K and the K over K=1 speed-up of each bundle. With --profile also ONNX
 * Runtime's profiler on each propagator (real frame, real segmentor outputs), node time split into: input
 * normalisation, flow module (/flow/...), warp (flow upsampling + GridSample), semantic inference (after GridSample).
 *
 * Run from the repository root after a build (mvn -B -ntp -q -DskipTests package):
 *   java -cp cli/target/classes:flink-job/target/classes:$(cat cli/target/classpath.txt) \
 *       io.mpvss.bench.ModelOnlyCompare --bundles model-ops/bundle,/tmp/b2 --clips model-ops/demo-clips \
 *       --threads 1 --batch 1 --ks 1,5 --frames-per-k 40 --rounds 5 [--profile 20] [--session-sweep 20]
 * --session-sweep N: raw ONNX Runtime on each bundle's propagator and segmentor (batch 1, the same real inputs),
 *   N runs x rounds per setting: optimisation level all/extended/basic, memory pattern on/off, intra-op 1/2,
 *   2 intra-op threads without spinning (session.intra_op.allow_spinning=0), sequential vs parallel execution with
 *   2 inter-op threads.
 */
public class ModelOnlyCompare {
    public static void main(String[] args) throws Exception {
        BenchMain.run("ModelOnlyCompare", null, args, ModelOnlyCompare::bench);
    }

    static void bench(Args a) throws Exception {
        List<Path> bundles = new ArrayList<>();
        for (String s : a.getList("bundles", List.of(RepoPaths.BUNDLED_MODEL))) bundles.add(Path.of(s));
        Path framesDir = RepoPaths.clipsDir(a);
        int[] threads = a.getIntList("threads", List.of(1)).stream().mapToInt(Integer::intValue).toArray();
        int[] batches = a.getIntList("batch", List.of(1)).stream().mapToInt(Integer::intValue).toArray();
        int[] ks = a.getIntList("ks", List.of(1, 5)).stream().mapToInt(Integer::intValue).toArray();
        int perK = a.getPositiveInt("frames-per-k", 40);
        int rounds = a.getPositiveInt("rounds", 5);
        int profileRuns = a.getInt("profile", 0);
        int sweepRuns = a.getInt("session-sweep", 0);
        int calls = a.getInt("calls", 0);
        boolean loop = a.getBoolean("loop", true);
        a.rejectUnknown();
        BenchFrames frames = BenchFrames.load(framesDir, 4, 200);
        PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
        System.out.printf(Locale.ROOT, "# %s, %d cores, load %s%n", new Date(), Runtime.getRuntime().availableProcessors(),
                Files.readString(Path.of("/proc/loadavg")).trim());
        for (int th : threads) {
            for (int b : batches) {
                if (calls > 0) {
                    perCall(bundles, frames, th, b, ks, calls);
                }
                if (!loop) {
                    continue;
                }
                List<ModelBundle> open = new ArrayList<>();
                for (Path p : bundles) open.add(ModelBundle.open(p, new InferenceOptions(InferenceOptions.Device.CPU, th, 0)));
                double[][][] ms = new double[bundles.size()][ks.length][rounds];
                for (int r = 0; r < rounds; r++) {
                    for (int ki = 0; ki < ks.length; ki++) {
                        for (int bi = 0; bi < open.size(); bi++) {
                            int k = ks[ki];
                            int n = Math.max(k, perK / b / k * k);  // whole key periods
                            ModelOnlyBench.Result res = ModelOnlyBench.run(open.get(bi), frames, b, k, n, Math.min(n, 2 * k), b, quiet);
                            ms[bi][ki][r] = res.msPerFrame();
                        }
                    }
                }
                for (int bi = 0; bi < open.size(); bi++) {
                    StringBuilder sb = new StringBuilder();
                    double base = Double.NaN;
                    for (int ki = 0; ki < ks.length; ki++) {
                        double[] x = ms[bi][ki].clone();
                        Arrays.sort(x);
                        if (ks[ki] == 1) base = x[0];
                        sb.append(String.format(Locale.ROOT, "  K=%d best %.2f ms/frame (median %.2f)", ks[ki], x[0], x[x.length / 2]));
                    }
                    for (int ki = 0; ki < ks.length; ki++) {
                        if (ks[ki] != 1) {
                            double[] x = ms[bi][ki].clone();
                            Arrays.sort(x);
                            sb.append(String.format(Locale.ROOT, "  K%d/K1 speed-up %.2fx", ks[ki], base / x[0]));
                        }
                    }
                    System.out.printf(Locale.ROOT, "threads=%d batch=%d %s%s%n", th, b, bundles.get(bi), sb);
                }
                for (ModelBundle mb : open) mb.close();
            }
        }
        if (profileRuns > 0) {
            for (int th : threads) {
                for (Path p : bundles) profile(p, frames, th, profileRuns);
            }
        }
        if (sweepRuns > 0) {
            for (Path p : bundles) sweep(p, frames, sweepRuns, rounds);
        }
    }

    /**
     * Per-call times through ModelBundle (segment / propagate of a full batch of real frames), the bundles
     * interleaved call by call, {@code calls} calls each; on a loaded machine the low percentiles are the calls that
     * ran undisturbed. Per-frame time at K from them: (S + (K-1) P) / K / batch.
     */
    static void perCall(List<Path> bundles, BenchFrames frames, int threads, int batch, int[] ks, int calls) {
        List<ModelBundle> open = new ArrayList<>();
        for (Path p : bundles) open.add(ModelBundle.open(p, new InferenceOptions(InferenceOptions.Device.CPU, threads, 0)));
        ModelManifest m = open.get(0).manifest();
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> curs = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            keys.add(BenchFrames.modelRgb(frames.frame(s, 0), m.width(), m.height()));
            curs.add(BenchFrames.modelRgb(frames.frame(s, 3), m.width(), m.height()));
        }
        List<List<io.mpvss.model.PropagatorInput>> pin = new ArrayList<>();
        for (ModelBundle mb : open) {
            List<io.mpvss.model.PropagatorInput> in = new ArrayList<>();
            List<io.mpvss.model.SegmentorOutput> so = mb.segment(keys);
            for (int s = 0; s < batch; s++) {
                in.add(new io.mpvss.model.PropagatorInput(keys.get(s), curs.get(s), so.get(s).queries(),
                        so.get(s).classLogits(), so.get(s).maskLogits()));
            }
            pin.add(in);
            for (int i = 0; i < 3; i++) { mb.segment(keys); mb.propagate(in); }
        }
        double[][] seg = new double[open.size()][calls];
        double[][] prop = new double[open.size()][calls];
        for (int c = 0; c < calls; c++) {
            for (int i = 0; i < open.size(); i++) {
                long t0 = System.nanoTime();
                open.get(i).segment(keys);
                long t1 = System.nanoTime();
                open.get(i).propagate(pin.get(i));
                long t2 = System.nanoTime();
                seg[i][c] = (t1 - t0) / 1e6;
                prop[i][c] = (t2 - t1) / 1e6;
            }
        }
        for (int i = 0; i < open.size(); i++) {
            double[] s = seg[i].clone();
            double[] p = prop[i].clone();
            Arrays.sort(s);
            Arrays.sort(p);
            StringBuilder sb = new StringBuilder();
            for (double q : new double[] {0.0, 0.1, 0.25}) {
                double S = s[(int) (q * (calls - 1))];
                double P = p[(int) (q * (calls - 1))];
                sb.append(String.format(Locale.ROOT, " | p%02d: S %.2f P %.2f ms/call P/S %.3f", (int) (q * 100), S, P, P / S));
                for (int k : ks) {
                    if (k != 1) sb.append(String.format(Locale.ROOT, " K%d/K1 %.2fx", k, S / ((S + (k - 1) * P) / k)));
                }
            }
            System.out.printf(Locale.ROOT, "per-call threads=%d batch=%d %s (%d calls)%s%n", threads, batch, bundles.get(i), calls, sb);
        }
        for (ModelBundle mb : open) mb.close();
    }

    /** Real inputs: frame 0 of clip 0 as key, frame 3 as current, the segmentor's outputs of the key. */
    static Map<String, Map<String, OnnxTensor>> inputs(OrtEnvironment env, Path bundle, BenchFrames frames) throws Exception {
        ModelManifest m = ModelManifest.read(bundle);
        int h = m.height(), w = m.width();
        byte[] key = BenchFrames.modelRgb(frames.frame(0, 0), w, h);
        byte[] cur = BenchFrames.modelRgb(frames.frame(0, 3), w, h);
        long[] img = {1, h, w, 3};
        Map<String, OnnxTensor> seg = new LinkedHashMap<>();
        seg.put("image", OnnxTensor.createTensor(env, ByteBuffer.wrap(key), img, OnnxJavaType.UINT8));
        Map<String, OnnxTensor> prop = new LinkedHashMap<>();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession s = env.createSession(bundle.resolve("segmentor.onnx").toString(), so);
             OrtSession.Result r = s.run(seg)) {
            prop.put("key_image", OnnxTensor.createTensor(env, ByteBuffer.wrap(key), img, OnnxJavaType.UINT8));
            prop.put("image", OnnxTensor.createTensor(env, ByteBuffer.wrap(cur), img, OnnxJavaType.UINT8));
            for (String[] nm : new String[][] {{"queries", "key_queries"}, {"class_logits", "key_class_logits"}, {"mask_logits", "key_mask_logits"}}) {
                OnnxTensor t = (OnnxTensor) r.get(nm[0]).get();
                FloatBuffer fb = t.getFloatBuffer();
                float[] x = new float[fb.remaining()];
                fb.get(x);
                prop.put(nm[1], OnnxTensor.createTensor(env, FloatBuffer.wrap(x), t.getInfo().getShape()));
            }
        }
        return Map.of("segmentor", seg, "propagator", prop);
    }

    static void profile(Path bundle, BenchFrames frames, int threads, int runs) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, OnnxTensor> in = inputs(env, bundle, frames).get("propagator");
        // node name -> part, from the graph's node order
        Path dir = Files.createTempDirectory("mpvss-prof");
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            so.setIntraOpNumThreads(threads);
            so.enableProfiling(dir.resolve("p").toString());
            String trace;
            try (OrtSession s = env.createSession(bundle.resolve("propagator.onnx").toString(), so)) {
                for (int i = 0; i < runs + 2; i++) try (OrtSession.Result r = s.run(in)) { }
                trace = s.endProfiling();
            }
            Map<String, Double> part = new LinkedHashMap<>();
            Map<String, Double> op = new TreeMap<>();
            double total = 0;
            // per run (events in execution order, a run ends with its "model_run" event): nodes before the first
            // /flow/ node normalise the inputs; /flow/ nodes are the flow module; then the warp up to GridSample
            // (class-probability Softmax/Slice are semantic inference); everything after GridSample is semantic
            int state = 0;
            for (OrtTrace.Event e : OrtTrace.read(Path.of(trace))) {
                if (e.runEnd()) {
                    state = 0;
                    continue;
                }
                String opn = e.op();
                double d = e.micros();
                String p;
                if (e.node().contains("/flow/")) {
                    p = "flow module";
                    state = 1;
                } else if (state == 0) {
                    p = "normalise";
                } else if (state == 1) {
                    p = opn.equals("Softmax") || opn.equals("Slice") ? "semantic" : "warp";
                    if (opn.equals("GridSample")) state = 2;
                } else {
                    p = "semantic";
                }
                part.merge(p, d, Double::sum);
                op.merge(p + ":" + opn, d, Double::sum);
                total += d;
            }
            Files.deleteIfExists(Path.of(trace));
            int n = runs + 2;
            System.out.printf(Locale.ROOT, "profile %s propagator, %d thread(s), %d runs: node time %.2f ms/run%n", bundle, threads, n, total / 1000 / n);
            for (Map.Entry<String, Double> x : part.entrySet())
                System.out.printf(Locale.ROOT, "  %-12s %6.2f ms/run  %5.1f%%%n", x.getKey(), x.getValue() / 1000 / n, 100 * x.getValue() / total);
            List<Map.Entry<String, Double>> ops = new ArrayList<>(op.entrySet());
            ops.sort((x, y) -> Double.compare(y.getValue(), x.getValue()));
            for (Map.Entry<String, Double> x : ops.subList(0, Math.min(14, ops.size())))
                System.out.printf(Locale.ROOT, "    %-28s %6.2f ms/run  %5.1f%%%n", x.getKey(), x.getValue() / 1000 / n, 100 * x.getValue() / total);
        } finally {
            try (var st = Files.list(dir)) { st.forEach(f -> f.toFile().delete()); }
            Files.deleteIfExists(dir);
        }
    }

    static void sweep(Path bundle, BenchFrames frames, int runs, int rounds) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, Map<String, OnnxTensor>> ins = inputs(env, bundle, frames);
        String[] names = {"all/mem/1t", "extended/mem/1t", "basic/mem/1t", "all/nomem/1t", "all/mem/2t",
                "all/mem/2t/nospin", "all/mem/1t/parallel2"};
        for (String g : List.of("segmentor", "propagator")) {
            List<OrtSession> ss = new ArrayList<>();
            for (String nm : names) {
                OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                so.setOptimizationLevel(nm.startsWith("all") ? OrtSession.SessionOptions.OptLevel.ALL_OPT
                        : nm.startsWith("extended") ? OrtSession.SessionOptions.OptLevel.EXTENDED_OPT : OrtSession.SessionOptions.OptLevel.BASIC_OPT);
                so.setMemoryPatternOptimization(!nm.contains("nomem"));
                so.setIntraOpNumThreads(nm.contains("/2t") ? 2 : 1);
                if (nm.contains("nospin")) {
                    so.addConfigEntry("session.intra_op.allow_spinning", "0");
                }
                if (nm.contains("parallel")) {
                    so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.PARALLEL);
                    so.setInterOpNumThreads(2);
                }
                OrtSession s = env.createSession(bundle.resolve(g + ".onnx").toString(), so);
                for (int i = 0; i < 3; i++) try (OrtSession.Result r = s.run(ins.get(g))) { }
                ss.add(s);
            }
            double[][] t = new double[names.length][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < names.length; i++) {
                    long t0 = System.nanoTime();
                    for (int j = 0; j < runs; j++) try (OrtSession.Result res = ss.get(i).run(ins.get(g))) { }
                    t[i][r] = (System.nanoTime() - t0) / 1e6 / runs;
                }
            }
            for (int i = 0; i < names.length; i++) {
                double[] x = t[i].clone();
                Arrays.sort(x);
                System.out.printf(Locale.ROOT, "session %s %-10s %-22s best %7.2f ms  p10 %7.2f ms  median %7.2f ms (batch 1, %d rounds of %d runs)%n", bundle, g, names[i], x[0], x[x.length / 10], x[x.length / 2], rounds, runs);
                ss.get(i).close();
            }
        }
    }
}
