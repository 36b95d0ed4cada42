package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.model.PropagatorInput;
import io.mpvss.model.PropagatorOutput;
import io.mpvss.model.SegmentorOutput;

/**
 * The model-only bound: the bundle's two graphs through {@link ModelBundle} in a tight loop, with the operator's key
 * schedule (stream s: segmentor at t mod K == 0, propagator from that key frame otherwise) and batch size, on frames
 * already decoded to model resolution; no Kafka, no Flink, no codecs. Also a stage profile of one frame's path with the
 * product's own classes (decode, resize, tensors, inference, label resize + PNG encode, JSON document).
 */
public final class ModelOnlyBench {

    private ModelOnlyBench() {
    }

    /** Result of one tight loop. */
    public record Result(int streams, int k, int batch, long frames, long keyFrames, double seconds, double fps,
                         double msPerFrame) {
    }

    /** Per-frame stage costs in ms (means over the profiled frames), amortised over the key schedule. */
    public record Profile(int k, int frames, double decodeMs, double resizeMs, double tensorsMs,
                          double segmentorMs, double propagatorMs, double inferencePerFrameMs, double labelResizeMs,
                          double pngEncodeMs, double documentMs, int frameWidth, int frameHeight,
                          double meanFrameBytes, double meanPngBytes, double meanDocumentBytes) {
        /** Sum of the stages per frame (what one thread would spend without overlap). */
        public double totalMs() {
            return decodeMs + resizeMs + inferencePerFrameMs + labelResizeMs + pngEncodeMs + documentMs;
        }
    }

    /** Model-resolution RGB of every frame the loop will use, decoded once up front. */
    static final class Decoded {
        private final Map<byte[], byte[]> cache = new IdentityHashMap<>();
        private final BenchFrames frames;
        private final int w;
        private final int h;

        Decoded(BenchFrames frames, int w, int h) {
            this.frames = frames;
            this.w = w;
            this.h = h;
        }

        byte[] get(int s, long t) {
            byte[] enc = frames.frame(s, t);
            return cache.computeIfAbsent(enc, x -> BenchFrames.modelRgb(x, w, h));
        }
    }

    /**
     * Runs {@code framesPerStream} frames of each of {@code streams} streams (after {@code warmupPerStream} frames
     * that are not timed).
     */
    public static Result run(ModelBundle bundle, BenchFrames frames, int streams, int k, int framesPerStream,
                             int warmupPerStream, int batch, PrintStream log) {
        return runWithCpu(bundle, frames, streams, k, framesPerStream, warmupPerStream, batch, log).result();
    }

    /**
     * A run and the process CPU time its timed frames took, per frame: on a machine shared with other work, wall
     * time measures the scheduler's share as much as the graphs, CPU time measures the graphs (this JVM runs nothing
     * else during the loop; JIT and GC threads are counted too, but are small against inference).
     */
    public record Measured(Result result, double cpuMsPerFrame) {
    }

    public static Measured runWithCpu(ModelBundle bundle, BenchFrames frames, int streams, int k,
                                      int framesPerStream, int warmupPerStream, int batch, PrintStream log) {
        ModelManifest m = bundle.manifest();
        Decoded dec = new Decoded(frames, m.width(), m.height());
        for (int s = 0; s < streams; s++) {
            for (long t = 0; t < warmupPerStream + framesPerStream; t++) {
                dec.get(s, t);
            }
        }
        byte[][] keyImage = new byte[streams][];
        SegmentorOutput[] keyOut = new SegmentorOutput[streams];
        loop(bundle, dec, streams, k, 0, warmupPerStream, batch, keyImage, keyOut);
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        long lastLog = t0;
        long keys = 0;
        int step = Math.max(1, framesPerStream / 10);
        for (int t = warmupPerStream; t < warmupPerStream + framesPerStream; t += step) {
            int end = Math.min(warmupPerStream + framesPerStream, t + step);
            keys += loop(bundle, dec, streams, k, t, end, batch, keyImage, keyOut);
            long now = System.nanoTime();
            if (now - lastLog > 5_000_000_000L) {
                lastLog = now;
                log.printf(Locale.ROOT, "model-only S=%d K=%d: %d/%d frames%n", streams, k,
                        (long) (end - warmupPerStream) * streams, (long) framesPerStream * streams);
            }
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        double cpuMs = (processCpuNanos() - cpu0) / 1e6;
        long n = (long) framesPerStream * streams;
        return new Measured(new Result(streams, k, batch, n, keys, sec, n / sec, 1000 * sec / n), cpuMs / n);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static long loop(ModelBundle bundle, Decoded dec, int streams, int k, int from, int to, int batch,
                             byte[][] keyImage, SegmentorOutput[] keyOut) {
        long keys = 0;
        for (int t = from; t < to; t++) {
            // key phase is per stream as in the operator: all streams start at seq 0 together
            for (int s0 = 0; s0 < streams; s0 += batch) {
                int s1 = Math.min(streams, s0 + batch);
                boolean key = t % k == 0 || keyOut[s0] == null;
                if (key) {
                    List<byte[]> imgs = new ArrayList<>(s1 - s0);
                    for (int s = s0; s < s1; s++) {
                        imgs.add(dec.get(s, t));
                    }
                    List<SegmentorOutput> outs = bundle.segment(imgs);
                    for (int s = s0; s < s1; s++) {
                        keyImage[s] = imgs.get(s - s0);
                        keyOut[s] = outs.get(s - s0);
                    }
                    keys += s1 - s0;
                } else {
                    List<PropagatorInput> in = new ArrayList<>(s1 - s0);
                    for (int s = s0; s < s1; s++) {
                        in.add(new PropagatorInput(keyImage[s], dec.get(s, t), keyOut[s].queries(),
                                keyOut[s].classLogits(), keyOut[s].maskLogits()));
                    }
                    bundle.propagate(in);
                }
            }
        }
        return keys;
    }

    /**
     * Times each stage of one stream's frames through the product's classes, {@code n} frames at interval K, after
     * an untimed pass over the same frames (JIT warm-up).
     */
    public static Profile profile(ModelBundle bundle, BenchFrames frames, int k, int n) throws OrtException {
        profileOnce(bundle, frames, k, n);
        return profileOnce(bundle, frames, k, n);
    }

    private static Profile profileOnce(ModelBundle bundle, BenchFrames frames, int k, int n) throws OrtException {
        ModelManifest m = bundle.manifest();
        int mw = m.width();
        int mh = m.height();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double decode = 0;
        double resize = 0;
        double tensors = 0;
        double seg = 0;
        double prop = 0;
        double lres = 0;
        double png = 0;
        double doc = 0;
        int segN = 0;
        int propN = 0;
        long pngBytes = 0;
        long docBytes = 0;
        long frameBytes = 0;
        byte[] keyImg = null;
        SegmentorOutput key = null;
        int fw = 0;
        int fh = 0;
        String[] classNames = m.classNames();
        // warm-up: one key and one propagated frame
        byte[] w0 = BenchFrames.modelRgb(frames.frame(0, 0), mw, mh);
        SegmentorOutput wk = bundle.segment(w0);
        bundle.propagate(new PropagatorInput(w0, w0, wk.queries(), wk.classLogits(), wk.maskLogits()));
        for (int t = 0; t < n; t++) {
            byte[] enc = frames.frame(0, t);
            frameBytes += enc.length;
            long a = System.nanoTime();
            FrameDecoder.Rgb rgb = BenchFrames.decode(enc);
            long b = System.nanoTime();
            byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), mw, mh);
            long c = System.nanoTime();
            fw = rgb.width();
            fh = rgb.height();
            byte[] semantic;
            long d;
            long e;
            if (t % k == 0 || key == null) {
                d = System.nanoTime();
                try (OnnxTensor ti = OnnxTensor.createTensor(env, ByteBuffer.wrap(img), new long[] {1, mh, mw, 3},
                        OnnxJavaType.UINT8)) {
                    ti.getInfo();
                }
                e = System.nanoTime();
                key = bundle.segment(img);
                keyImg = img;
                semantic = key.semantic();
                seg += (System.nanoTime() - e) / 1e6;
                segN++;
            } else {
                d = System.nanoTime();
                int nq = m.queries();
                try (OnnxTensor t1 = OnnxTensor.createTensor(env, ByteBuffer.wrap(keyImg),
                        new long[] {1, mh, mw, 3}, OnnxJavaType.UINT8);
                     OnnxTensor t2 = OnnxTensor.createTensor(env, ByteBuffer.wrap(img), new long[] {1, mh, mw, 3},
                             OnnxJavaType.UINT8);
                     OnnxTensor t3 = OnnxTensor.createTensor(env, FloatBuffer.wrap(key.queries()),
                             new long[] {1, nq, m.queryDim()});
                     OnnxTensor t4 = OnnxTensor.createTensor(env, FloatBuffer.wrap(key.classLogits()),
                             new long[] {1, nq, m.numClasses() + 1});
                     OnnxTensor t5 = OnnxTensor.createTensor(env, FloatBuffer.wrap(key.maskLogits()),
                             new long[] {1, nq, mh / 4, mw / 4})) {
                    t5.getInfo();
                }
                e = System.nanoTime();
                PropagatorOutput po = bundle.propagate(new PropagatorInput(keyImg, img, key.queries(),
                        key.classLogits(), key.maskLogits()));
                semantic = po.semantic();
                prop += (System.nanoTime() - e) / 1e6;
                propN++;
            }
            tensors += (e - d) / 1e6;
            long f = System.nanoTime();
            byte[] labels = FrameDecoder.resizeNearest(semantic, mw, mh, fw, fh);
            long g = System.nanoTime();
            byte[] p = LabelMapPng.encode(labels, fw, fh);
            long h = System.nanoTime();
            MaskDocument md = new MaskDocument();
            md.setStream("cam-0");
            md.setSeq(t);
            md.setCaptureTs(System.currentTimeMillis());
            md.setKeyFrame(t % k == 0);
            md.setModel(m.modelId());
            md.setWidth(fw);
            md.setHeight(fh);
            md.setLabelMapPng(p);
            long[] counts = new long[classNames.length];
            for (byte l : labels) {
                int v = l & 0xff;
                if (v < counts.length) {
                    counts[v]++;
                }
            }
            md.setClassNames(classNames);
            md.setClassCounts(counts);
            byte[] json = md.toJson();
            long i = System.nanoTime();
            decode += (b - a) / 1e6;
            resize += (c - b) / 1e6;
            lres += (g - f) / 1e6;
            png += (h - g) / 1e6;
            doc += (i - h) / 1e6;
            pngBytes += p.length;
            docBytes += json.length;
        }
        double segMs = segN == 0 ? Double.NaN : seg / segN;
        double propMs = propN == 0 ? Double.NaN : prop / propN;
        double perFrame = (segN * (segN == 0 ? 0 : segMs) + propN * (propN == 0 ? 0 : propMs)) / n;
        return new Profile(k, n, decode / n, resize / n, tensors / n, segMs, propMs, perFrame, lres / n, png / n,
                doc / n, fw, fh, (double) frameBytes / n, (double) pngBytes / n, (double) docBytes / n);
    }
}
