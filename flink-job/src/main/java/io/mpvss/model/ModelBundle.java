package io.mpvss.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An opened model bundle (manifest + segmentor.onnx + propagator.onnx) with its ONNX Runtime sessions.
 *
 * <p>Sessions are expensive (graph optimisation, weights in memory, on GPU a CUDA context), so there is one per
 * graph per JVM, i.e. per TaskManager: {@link #open} hands out a reference to a shared, ref-counted pair of
 * sessions keyed by bundle path, the files' sha256 and the inference options; the last {@link #close} frees them.
 * ONNX Runtime sessions are safe to run from several threads, so Flink slots share them.
 *
 * <p>{@link #open} checks everything before anyone uses the model: manifest keys, contract string, sha256 of each
 * graph, each graph's declared inputs/outputs (names, dtypes, static dims against the manifest), then a warm-up
 * run whose real output shapes are checked too. A failure is an {@link InvalidBundleException} naming the file,
 * tensor, expected and found.
 */
public final class ModelBundle implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelBundle.class);

    private static final Map<String, Shared> SHARED = new HashMap<>();

    /**
     * ONNX Runtime's own logger is set to FATAL: everything that goes wrong in it also surfaces as an exception that
     * we report with context, and without this a CPU-only machine prints ONNX Runtime's multi-line CUDA load error
     * next to our one-line fallback notice.
     */
    static OrtEnvironment env() {
        return OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, "mpvss");
    }
    /** Why CUDA could not be used in this JVM, once known; later sessions go straight to CPU. */
    private static volatile String cudaUnavailable;
    private static final AtomicBoolean CUDA_FALLBACK_LOGGED = new AtomicBoolean();

    private final Path dir;
    private final ModelManifest manifest;
    private final Shared shared;
    private final String key;
    private boolean closed;

    private ModelBundle(Path dir, ModelManifest manifest, Shared shared, String key) {
        this.dir = dir;
        this.manifest = manifest;
        this.shared = shared;
        this.key = key;
    }

    /** Opens (or joins the shared sessions of) the bundle in {@code dir}. */
    public static ModelBundle open(Path dir, InferenceOptions options) {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(abs)) {
            throw new InvalidBundleException(abs + ": model bundle directory does not exist (set model.dir)");
        }
        ModelManifest m = ModelManifest.read(abs);
        String manifestFile = abs.resolve(ModelManifest.FILE).toString();
        BundleContract.checkManifest(m, manifestFile);
        Path seg = graphFile(abs, m.segmentor(), BundleContract.SEGMENTOR);
        Path prop = graphFile(abs, m.propagator(), BundleContract.PROPAGATOR);
        String segSha = sha256(seg);
        String propSha = sha256(prop);
        checkSha(seg, m.segmentor().sha256(), segSha);
        checkSha(prop, m.propagator().sha256(), propSha);
        String key = abs + "|" + sha256(abs.resolve(ModelManifest.FILE)) + "|" + segSha + "|" + propSha + "|"
                + options.cacheKey();
        synchronized (SHARED) {
            Shared s = SHARED.get(key);
            if (s == null) {
                s = Shared.create(m, seg, prop, options);
                SHARED.put(key, s);
            }
            s.refs++;
            return new ModelBundle(abs, m, s, key);
        }
    }

    /** Checks a bundle completely (as {@link #open}) and releases it; for clients before job submission. */
    public static ModelManifest validate(Path dir, InferenceOptions options) {
        try (ModelBundle b = open(dir, options)) {
            return b.manifest();
        }
    }

    /** Number of distinct session pairs alive in this JVM (for tests of the sharing). */
    public static int liveSessionPairs() {
        synchronized (SHARED) {
            return SHARED.size();
        }
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public Path dir() {
        return dir;
    }

    /** {@code name@version}. */
    public String modelId() {
        return manifest.modelId();
    }

    /** "CUDA" or "CPU": where the sessions run. */
    public String executionProvider() {
        return shared.provider;
    }

    /** Model-resolution image size in bytes (H*W*3). */
    public int imageBytes() {
        return manifest.height() * manifest.width() * 3;
    }

    /** Segments one model-resolution RGB frame (H*W*3 bytes). */
    public SegmentorOutput segment(byte[] rgb) {
        return segment(List.of(rgb)).get(0);
    }

    /** Segments a batch of model-resolution RGB frames in one call. */
    public List<SegmentorOutput> segment(List<byte[]> images) {
        int b = images.size();
        ModelManifest m = manifest;
        Map<String, Tensor> in = Map.of(BundleContract.IMAGE,
                Tensor.u8(concat(images, imageBytes()), b, m.height(), m.width(), 3));
        Map<String, Tensor> out = run(BundleContract.SEGMENTOR, in,
                Set.of(BundleContract.QUERIES, BundleContract.CLASS_LOGITS, BundleContract.MASK_LOGITS,
                        BundleContract.SEMANTIC));
        List<SegmentorOutput> res = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            res.add(new SegmentorOutput(
                    slice(out.get(BundleContract.QUERIES).f32(), i, b),
                    slice(out.get(BundleContract.CLASS_LOGITS).f32(), i, b),
                    slice(out.get(BundleContract.MASK_LOGITS).f32(), i, b),
                    slice(out.get(BundleContract.SEMANTIC).u8(), i, b)));
        }
        return res;
    }

    /** Propagates one frame from its key frame. */
    public PropagatorOutput propagate(PropagatorInput input) {
        return propagate(List.of(input)).get(0);
    }

    /** Propagates a batch of frames (each from its own key frame) in one call. */
    public List<PropagatorOutput> propagate(List<PropagatorInput> inputs) {
        int b = inputs.size();
        ModelManifest m = manifest;
        int n = m.queries();
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put(BundleContract.KEY_IMAGE, Tensor.u8(concat(inputs.stream().map(PropagatorInput::keyImage).toList(),
                imageBytes()), b, m.height(), m.width(), 3));
        in.put(BundleContract.IMAGE, Tensor.u8(concat(inputs.stream().map(PropagatorInput::image).toList(),
                imageBytes()), b, m.height(), m.width(), 3));
        in.put(BundleContract.KEY_QUERIES, Tensor.f32(concatF(inputs.stream().map(PropagatorInput::keyQueries).toList(),
                n * m.queryDim()), b, n, m.queryDim()));
        in.put(BundleContract.KEY_CLASS_LOGITS, Tensor.f32(concatF(
                inputs.stream().map(PropagatorInput::keyClassLogits).toList(), n * (m.numClasses() + 1)),
                b, n, m.numClasses() + 1));
        in.put(BundleContract.KEY_MASK_LOGITS, Tensor.f32(concatF(
                inputs.stream().map(PropagatorInput::keyMaskLogits).toList(), maskElements()),
                b, n, m.height() / 4, m.width() / 4));
        Map<String, Tensor> out = run(BundleContract.PROPAGATOR, in,
                Set.of(BundleContract.SEMANTIC, BundleContract.MASK_LOGITS));
        List<PropagatorOutput> res = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            res.add(new PropagatorOutput(slice(out.get(BundleContract.SEMANTIC).u8(), i, b),
                    slice(out.get(BundleContract.MASK_LOGITS).f32(), i, b)));
        }
        return res;
    }

    /** N*(H/4)*(W/4): elements of one frame's mask logits. */
    public int maskElements() {
        return manifest.queries() * (manifest.height() / 4) * (manifest.width() / 4);
    }

    /**
     * Runs one graph on host tensors and returns the requested outputs that the graph has (an optional output it
     * lacks is simply absent). The low-level entry point used by the parity check.
     */
    public Map<String, Tensor> run(String graph, Map<String, Tensor> inputs, Set<String> outputs) {
        OrtSession session = graph.equals(BundleContract.SEGMENTOR) ? shared.segmentor : shared.propagator;
        return runSession(session, inputs, outputs);
    }

    static Map<String, Tensor> runSession(OrtSession session, Map<String, Tensor> inputs, Set<String> outputs) {
        OrtEnvironment env = env();
        Map<String, OnnxTensor> onnx = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> e : inputs.entrySet()) {
                Tensor t = e.getValue();
                onnx.put(e.getKey(), t.isFloat()
                        ? OnnxTensor.createTensor(env, FloatBuffer.wrap(t.f32()), t.shape())
                        : OnnxTensor.createTensor(env, ByteBuffer.wrap(t.u8()), t.shape(), OnnxJavaType.UINT8));
            }
            Set<String> wanted = new java.util.LinkedHashSet<>(outputs);
            wanted.retainAll(session.getOutputNames());
            try (OrtSession.Result result = session.run(onnx, wanted)) {
                Map<String, Tensor> res = new LinkedHashMap<>();
                for (String name : wanted) {
                    OnnxValue v = result.get(name).orElseThrow();
                    OnnxTensor t = (OnnxTensor) v;
                    long[] shape = t.getInfo().getShape();
                    if (t.getInfo().type == OnnxJavaType.FLOAT) {
                        FloatBuffer fb = t.getFloatBuffer();
                        float[] a = new float[fb.remaining()];
                        fb.get(a);
                        res.put(name, Tensor.f32(a, shape));
                    } else if (t.getInfo().type == OnnxJavaType.UINT8) {
                        ByteBuffer bb = t.getByteBuffer();
                        byte[] a = new byte[bb.remaining()];
                        bb.get(a);
                        res.put(name, Tensor.u8(a, shape));
                    } else {
                        throw new InferenceException("output '" + name + "' has unsupported type " + t.getInfo().type,
                                null);
                    }
                }
                return res;
            }
        } catch (OrtException e) {
            throw new InferenceException("ONNX Runtime failed: " + e.getMessage(), e);
        } finally {
            for (OnnxTensor t : onnx.values()) {
                t.close();
            }
        }
    }

    @Override
    public void close() {
        synchronized (SHARED) {
            if (closed) {
                return;
            }
            closed = true;
            if (--shared.refs == 0) {
                SHARED.remove(key);
                shared.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static Path graphFile(Path dir, ModelManifest.GraphInfo g, String which) {
        Path p = dir.resolve(g.file()).normalize();
        if (!p.startsWith(dir)) {
            throw new InvalidBundleException(dir.resolve(ModelManifest.FILE) + ": graphs." + which + ".file '"
                    + g.file() + "' points outside the bundle directory");
        }
        if (!Files.isRegularFile(p)) {
            throw new InvalidBundleException(p + ": missing (" + which + " graph named in manifest.json)");
        }
        return p;
    }

    private static void checkSha(Path file, String expected, String found) {
        if (!expected.toLowerCase(Locale.ROOT).equals(found)) {
            throw new InvalidBundleException(file + ": sha256 expected " + expected + " (manifest.json), found " + found);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new InvalidBundleException(file + ": cannot read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] concat(List<byte[]> parts, int each) {
        if (parts.size() == 1 && parts.get(0).length == each) {
            return parts.get(0);
        }
        byte[] out = new byte[parts.size() * each];
        for (int i = 0; i < parts.size(); i++) {
            byte[] p = parts.get(i);
            if (p.length != each) {
                throw new IllegalArgumentException("input " + i + " has " + p.length + " bytes, expected " + each);
            }
            System.arraycopy(p, 0, out, i * each, each);
        }
        return out;
    }

    private static float[] concatF(List<float[]> parts, int each) {
        if (parts.size() == 1 && parts.get(0).length == each) {
            return parts.get(0);
        }
        float[] out = new float[parts.size() * each];
        for (int i = 0; i < parts.size(); i++) {
            float[] p = parts.get(i);
            if (p.length != each) {
                throw new IllegalArgumentException("input " + i + " has " + p.length + " values, expected " + each);
            }
            System.arraycopy(p, 0, out, i * each, each);
        }
        return out;
    }

    private static float[] slice(float[] a, int i, int b) {
        if (b == 1) {
            return a;
        }
        int n = a.length / b;
        float[] out = new float[n];
        System.arraycopy(a, i * n, out, 0, n);
        return out;
    }

    private static byte[] slice(byte[] a, int i, int b) {
        if (b == 1) {
            return a;
        }
        int n = a.length / b;
        byte[] out = new byte[n];
        System.arraycopy(a, i * n, out, 0, n);
        return out;
    }

    // ------------------------------------------------------------------------------------------ shared sessions

    /** One pair of sessions shared by every ModelBundle opened on the same files and options. */
    private static final class Shared {
        final OrtSession segmentor;
        final OrtSession propagator;
        final String provider;
        int refs;

        private Shared(OrtSession segmentor, OrtSession propagator, String provider) {
            this.segmentor = segmentor;
            this.propagator = propagator;
            this.provider = provider;
        }

        static Shared create(ModelManifest m, Path seg, Path prop, InferenceOptions options) {
            OrtEnvironment env = env();
            OrtSession s = null;
            OrtSession p = null;
            try {
                String provider = "CPU";
                try (OrtSession.SessionOptions so = sessionOptions(options)) {
                    provider = so == null ? "CPU" : providerOf(options);
                    OrtSession.SessionOptions use = so == null ? cpuOptions(options) : so;
                    try {
                        s = env.createSession(seg.toString(), use);
                        p = env.createSession(prop.toString(), use);
                    } finally {
                        if (use != so) {
                            use.close();
                        }
                    }
                }
                BundleContract.checkGraph(seg.toString(), BundleContract.segmentorInputs(m), s.getInputInfo(),
                        BundleContract.segmentorOutputs(m), s.getOutputInfo());
                BundleContract.checkGraph(prop.toString(), BundleContract.propagatorInputs(m), p.getInputInfo(),
                        BundleContract.propagatorOutputs(m), p.getOutputInfo());
                warmUp(m, seg, prop, s, p);
                LOG.info("Model {} loaded from {} ({} execution provider, segmentor {} GMAC, propagator {} GMAC)",
                        m.modelId(), seg.getParent(), provider, m.segmentor().gmacsPerFrame(),
                        m.propagator().gmacsPerFrame());
                return new Shared(s, p, provider);
            } catch (OrtException e) {
                closeQuietly(s, p);
                throw new InvalidBundleException((s == null ? seg : prop) + ": ONNX Runtime cannot load it: "
                        + e.getMessage(), e);
            } catch (RuntimeException e) {
                closeQuietly(s, p);
                throw e;
            }
        }

        /** A batch-1 run of both graphs on a blank frame; checks the real output shapes against the contract. */
        private static void warmUp(ModelManifest m, Path seg, Path prop, OrtSession s, OrtSession p) {
            int h = m.height();
            int w = m.width();
            Tensor img = Tensor.u8(new byte[h * w * 3], 1, h, w, 3);
            Map<String, Tensor> so;
            try {
                so = runSession(s, Map.of(BundleContract.IMAGE, img), new java.util.HashSet<>(s.getOutputNames()));
            } catch (InferenceException e) {
                throw new InvalidBundleException(seg + ": warm-up run failed: " + e.getMessage(), e);
            }
            checkRuntime(seg.toString(), BundleContract.segmentorOutputs(m), so);
            Map<String, Tensor> in = new LinkedHashMap<>();
            in.put(BundleContract.KEY_IMAGE, img);
            in.put(BundleContract.IMAGE, img);
            in.put(BundleContract.KEY_QUERIES, so.get(BundleContract.QUERIES));
            in.put(BundleContract.KEY_CLASS_LOGITS, so.get(BundleContract.CLASS_LOGITS));
            in.put(BundleContract.KEY_MASK_LOGITS, so.get(BundleContract.MASK_LOGITS));
            Map<String, Tensor> po;
            try {
                po = runSession(p, in, new java.util.HashSet<>(p.getOutputNames()));
            } catch (InferenceException e) {
                throw new InvalidBundleException(prop + ": warm-up run failed: " + e.getMessage(), e);
            }
            checkRuntime(prop.toString(), BundleContract.propagatorOutputs(m), po);
        }

        private static void checkRuntime(String file, List<BundleContract.TensorSpec> specs, Map<String, Tensor> out) {
            for (BundleContract.TensorSpec spec : specs) {
                Tensor t = out.get(spec.name());
                if (t != null) {
                    BundleContract.checkShape(file, "output (warm-up run)", spec, t.shape(), true);
                }
            }
        }

        void close() {
            closeQuietly(segmentor, propagator);
        }

        private static void closeQuietly(OrtSession... sessions) {
            for (OrtSession x : sessions) {
                if (x != null) {
                    try {
                        x.close();
                    } catch (OrtException e) {
                        LOG.warn("closing an ONNX Runtime session failed", e);
                    }
                }
            }
        }
    }

    private static String providerOf(InferenceOptions o) {
        return o.device() == InferenceOptions.Device.CPU ? "CPU" : "CUDA";
    }

    private static OrtSession.SessionOptions cpuOptions(InferenceOptions o) throws OrtException {
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        if (o.threads() > 0) {
            so.setIntraOpNumThreads(o.threads());
        }
        return so;
    }

    /**
     * Session options for the requested device; {@code null} means "CUDA is not available, use CPU" (auto only).
     * The CUDA attempt is made once per JVM: its failure is remembered and logged in one line.
     */
    private static OrtSession.SessionOptions sessionOptions(InferenceOptions o) throws OrtException {
        if (o.device() == InferenceOptions.Device.CPU) {
            return cpuOptions(o);
        }
        if (o.device() == InferenceOptions.Device.AUTO && cudaUnavailable != null) {
            return null;
        }
        OrtSession.SessionOptions so = cpuOptions(o);
        try {
            so.addCUDA(o.cudaDeviceId());
            return so;
        } catch (OrtException | RuntimeException | LinkageError e) {
            so.close();
            String reason = String.valueOf(e.getMessage()).lines().findFirst().orElse(e.toString()).trim();
            if (o.device() == InferenceOptions.Device.CUDA) {
                throw new IllegalStateException("inference.device=cuda but the CUDA execution provider is "
                        + "unavailable: " + reason, e);
            }
            cudaUnavailable = reason;
            if (CUDA_FALLBACK_LOGGED.compareAndSet(false, true)) {
                LOG.warn("CUDA execution provider unavailable ({}); running ONNX Runtime on CPU", reason);
            }
            return null;
        }
    }
}
