package io.mpvss.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import io.mpvss.model.BundleContract;
import io.mpvss.model.ModelManifest;

/**
 * Where the two graphs spend their time, by ONNX operator type: ONNX Runtime's own profiler on the bundle's
 * segmentor.onnx and propagator.onnx (CPU, optimisation level ALL as in {@code ModelBundle}), fed with a real frame
 * and the segmentor's real outputs. Explains why time per frame does not follow the MAC counts.
 */
public final class GraphProfile {

    private GraphProfile() {
    }

    /** Share of one graph's node time taken by one operator type. */
    public record OpShare(String op, double msPerRun, double share, int nodes) {
    }

    /** One graph's profile. */
    public record Graph(String graph, int runs, double msPerRun, double nodeMsPerRun, List<OpShare> ops) {
    }

    public static List<Graph> profile(Path bundleDir, ModelManifest m, byte[] keyRgb, byte[] rgb, int threads, int runs)
            throws OrtException, IOException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<Graph> out = new ArrayList<>();
        Path dir = Files.createTempDirectory("mpvss-ort-profile-");
        long[] img = {1, m.height(), m.width(), 3};
        Map<String, OnnxTensor> segIn = new LinkedHashMap<>();
        Map<String, OnnxTensor> propIn = new LinkedHashMap<>();
        try {
            segIn.put(BundleContract.IMAGE, OnnxTensor.createTensor(env, ByteBuffer.wrap(keyRgb), img,
                    OnnxJavaType.UINT8));
            float[][] key = new float[3][];
            Graph seg = run(env, bundleDir.resolve(m.segmentor().file()), BundleContract.SEGMENTOR, segIn, threads,
                    runs, dir, result -> {
                        key[0] = floats(result, BundleContract.QUERIES);
                        key[1] = floats(result, BundleContract.CLASS_LOGITS);
                        key[2] = floats(result, BundleContract.MASK_LOGITS);
                    });
            out.add(seg);
            int n = m.queries();
            propIn.put(BundleContract.KEY_IMAGE, OnnxTensor.createTensor(env, ByteBuffer.wrap(keyRgb), img,
                    OnnxJavaType.UINT8));
            propIn.put(BundleContract.IMAGE, OnnxTensor.createTensor(env, ByteBuffer.wrap(rgb), img,
                    OnnxJavaType.UINT8));
            propIn.put(BundleContract.KEY_QUERIES, OnnxTensor.createTensor(env, FloatBuffer.wrap(key[0]),
                    new long[] {1, n, m.queryDim()}));
            propIn.put(BundleContract.KEY_CLASS_LOGITS, OnnxTensor.createTensor(env, FloatBuffer.wrap(key[1]),
                    new long[] {1, n, m.numClasses() + 1}));
            propIn.put(BundleContract.KEY_MASK_LOGITS, OnnxTensor.createTensor(env, FloatBuffer.wrap(key[2]),
                    new long[] {1, n, m.height() / 4, m.width() / 4}));
            out.add(run(env, bundleDir.resolve(m.propagator().file()), BundleContract.PROPAGATOR, propIn, threads,
                    runs, dir, r -> { }));
        } finally {
            segIn.values().forEach(OnnxTensor::close);
            propIn.values().forEach(OnnxTensor::close);
            PipelineBench.deleteRecursively(dir);
        }
        return out;
    }

    private static float[] floats(OrtSession.Result r, String name) {
        OnnxValue v = r.get(name).orElseThrow(() -> new IllegalStateException("segmentor has no output " + name));
        FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
        float[] a = new float[fb.remaining()];
        fb.get(a);
        return a;
    }

    private static Graph run(OrtEnvironment env, Path file, String name, Map<String, OnnxTensor> in, int threads,
                             int runs, Path dir, java.util.function.Consumer<OrtSession.Result> first)
            throws OrtException, IOException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) {
                so.setIntraOpNumThreads(threads);
            }
            // warm-up without the profiler
            try (OrtSession s = env.createSession(file.toString(), so)) {
                for (int i = 0; i < 2; i++) {
                    try (OrtSession.Result r = s.run(in)) {
                        if (i == 0) {
                            first.accept(r);
                        }
                    }
                }
            }
            so.enableProfiling(dir.resolve(name).toString());
            String trace;
            long t0;
            long t1;
            try (OrtSession s = env.createSession(file.toString(), so)) {
                try (OrtSession.Result r = s.run(in)) {
                    r.size(); // first run after load is not counted (allocations)
                }
                t0 = System.nanoTime();
                for (int i = 0; i < runs; i++) {
                    try (OrtSession.Result r = s.run(in)) {
                        r.size();
                    }
                }
                t1 = System.nanoTime();
                trace = s.endProfiling();
            }
            return parse(name, Path.of(trace), runs + 1, (t1 - t0) / 1e6 / runs);
        }
    }

    /** Aggregates the "Node" events of an ONNX Runtime profile by op type. */
    static Graph parse(String graph, Path trace, int runsInTrace, double msPerRun) throws IOException {
        Map<String, Double> us = new HashMap<>();
        Map<String, java.util.Set<String>> nodes = new HashMap<>();
        double total = 0;
        for (OrtTrace.Event e : OrtTrace.read(trace)) {
            if (e.runEnd()) {
                continue;
            }
            us.merge(e.op(), e.micros(), Double::sum);
            nodes.computeIfAbsent(e.op(), k -> new java.util.HashSet<>()).add(e.node());
            total += e.micros();
        }
        double t = total;
        List<OpShare> ops = new ArrayList<>();
        for (Map.Entry<String, Double> e : us.entrySet()) {
            ops.add(new OpShare(e.getKey(), e.getValue() / 1000 / runsInTrace, e.getValue() / t,
                    nodes.get(e.getKey()).size()));
        }
        ops.sort(Comparator.comparingDouble(OpShare::msPerRun).reversed());
        Files.deleteIfExists(trace);
        return new Graph(graph, runsInTrace - 1, msPerRun, total / 1000 / runsInTrace, ops);
    }
}
