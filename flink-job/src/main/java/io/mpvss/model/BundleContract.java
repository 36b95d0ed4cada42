package io.mpvss.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model bundle contract {@value #CONTRACT}, in one place: graph names, tensor names, dtypes and shape rules
 * (DESIGN.md, "Model bundle contract"). Everything else reads the contract from here.
 *
 * <pre>
 * segmentor.onnx   in  image u8[B,H,W,3]
 *                  out queries f32[B,N,C], class_logits f32[B,N,K+1], mask_logits f32[B,N,H/4,W/4], semantic u8[B,H,W]
 * propagator.onnx  in  key_image u8[B,H,W,3], image u8[B,H,W,3], key_queries f32[B,N,C],
 *                      key_class_logits f32[B,N,K+1], key_mask_logits f32[B,N,H/4,W/4]
 *                  out semantic u8[B,H,W], mask_logits f32[B,N,H/4,W/4], optional flow f32[B,N,2,H/8,W/8]
 * </pre>
 *
 * B must be dynamic (cross-stream batching). Other dims must equal the manifest's where the graph declares them
 * statically; symbolic dims (common in exports, e.g. after einsum) are accepted at load and checked on the
 * warm-up run's real output shapes instead, so a bundle is never accepted unverified.
 */
public final class BundleContract {

    public static final String CONTRACT = "mpvss/1";
    public static final int MIN_OPSET = 16;
    /** H and W must be multiples of this (mask logits at 1/4, flow at 1/8). */
    public static final int STRIDE = 8;

    public static final String SEGMENTOR = "segmentor";
    public static final String PROPAGATOR = "propagator";

    public static final String IMAGE = "image";
    public static final String QUERIES = "queries";
    public static final String CLASS_LOGITS = "class_logits";
    public static final String MASK_LOGITS = "mask_logits";
    public static final String SEMANTIC = "semantic";
    public static final String KEY_IMAGE = "key_image";
    public static final String KEY_QUERIES = "key_queries";
    public static final String KEY_CLASS_LOGITS = "key_class_logits";
    public static final String KEY_MASK_LOGITS = "key_mask_logits";
    public static final String FLOW = "flow";

    /** Marks the batch dim in {@link TensorSpec#dims()}. */
    public static final long BATCH = -1;

    /** Element types of the contract. */
    public enum DType {
        U8(OnnxJavaType.UINT8, "u8"),
        F32(OnnxJavaType.FLOAT, "f32");

        final OnnxJavaType ort;
        final String shortName;

        DType(OnnxJavaType ort, String shortName) {
            this.ort = ort;
            this.shortName = shortName;
        }
    }

    /** One graph input or output as the contract wants it. */
    public record TensorSpec(String name, DType dtype, long[] dims, boolean optional) {
        public String describe() {
            StringBuilder sb = new StringBuilder(dtype.shortName).append('[');
            for (int i = 0; i < dims.length; i++) {
                sb.append(i > 0 ? "," : "").append(dims[i] == BATCH ? "B" : Long.toString(dims[i]));
            }
            return sb.append(']').toString();
        }
    }

    private BundleContract() {}

    public static List<TensorSpec> segmentorInputs(ModelManifest m) {
        return List.of(image(IMAGE, m));
    }

    public static List<TensorSpec> segmentorOutputs(ModelManifest m) {
        return List.of(
                new TensorSpec(QUERIES, DType.F32, new long[] {BATCH, m.queries(), m.queryDim()}, false),
                new TensorSpec(CLASS_LOGITS, DType.F32, new long[] {BATCH, m.queries(), m.numClasses() + 1}, false),
                masks(MASK_LOGITS, m),
                new TensorSpec(SEMANTIC, DType.U8, new long[] {BATCH, m.height(), m.width()}, false));
    }

    public static List<TensorSpec> propagatorInputs(ModelManifest m) {
        return List.of(
                image(KEY_IMAGE, m),
                image(IMAGE, m),
                new TensorSpec(KEY_QUERIES, DType.F32, new long[] {BATCH, m.queries(), m.queryDim()}, false),
                new TensorSpec(KEY_CLASS_LOGITS, DType.F32, new long[] {BATCH, m.queries(), m.numClasses() + 1}, false),
                masks(KEY_MASK_LOGITS, m));
    }

    public static List<TensorSpec> propagatorOutputs(ModelManifest m) {
        return List.of(
                new TensorSpec(SEMANTIC, DType.U8, new long[] {BATCH, m.height(), m.width()}, false),
                masks(MASK_LOGITS, m),
                new TensorSpec(FLOW, DType.F32,
                        new long[] {BATCH, m.queries(), 2, m.height() / 4 / 2, m.width() / 4 / 2}, true));
    }

    private static TensorSpec image(String name, ModelManifest m) {
        return new TensorSpec(name, DType.U8, new long[] {BATCH, m.height(), m.width(), 3}, false);
    }

    private static TensorSpec masks(String name, ModelManifest m) {
        return new TensorSpec(name, DType.F32, new long[] {BATCH, m.queries(), m.height() / 4, m.width() / 4}, false);
    }

    /** The manifest's own rules (before any graph is opened). */
    public static void checkManifest(ModelManifest m, String file) {
        if (!CONTRACT.equals(m.contract())) {
            throw new InvalidBundleException(file + ": contract: expected '" + CONTRACT + "', found '" + m.contract() + "'");
        }
        if (m.height() <= 0 || m.width() <= 0 || m.height() % STRIDE != 0 || m.width() % STRIDE != 0) {
            throw new InvalidBundleException(file + ": input: expected height and width positive multiples of "
                    + STRIDE + ", found " + m.height() + "x" + m.width());
        }
        if (m.queries() <= 0 || m.queryDim() <= 0) {
            throw new InvalidBundleException(file + ": expected queries and query_dim > 0, found "
                    + m.queries() + " and " + m.queryDim());
        }
        if (m.numClasses() >= 255) {
            throw new InvalidBundleException(file + ": classes: at most 254 classes fit an 8-bit label map with 255 = "
                    + "no prediction, found " + m.numClasses());
        }
        Set<String> names = new HashSet<>();
        for (int i = 0; i < m.classes().size(); i++) {
            ModelManifest.ClassInfo c = m.classes().get(i);
            if (c.id() != i) {
                throw new InvalidBundleException(file + ": classes[" + i + "].id: expected " + i
                        + " (ids contiguous from 0, in order), found " + c.id());
            }
            if (!names.add(c.name())) {
                throw new InvalidBundleException(file + ": classes[" + i + "].name: duplicate name '" + c.name() + "'");
            }
        }
        if (m.keyInterval() < 1) {
            throw new InvalidBundleException(file + ": key_interval: expected >= 1, found " + m.keyInterval());
        }
        if (m.opset() != 0 && m.opset() < MIN_OPSET) {
            throw new InvalidBundleException(file + ": opset: expected >= " + MIN_OPSET + ", found " + m.opset());
        }
    }

    /** Checks a graph's declared inputs and outputs against the specs. */
    public static void checkGraph(String file, List<TensorSpec> inputs, Map<String, NodeInfo> foundInputs,
            List<TensorSpec> outputs, Map<String, NodeInfo> foundOutputs) {
        checkSide(file, "input", inputs, foundInputs);
        checkSide(file, "output", outputs, foundOutputs);
    }

    private static void checkSide(String file, String side, List<TensorSpec> specs, Map<String, NodeInfo> found) {
        Set<String> expected = new HashSet<>();
        for (TensorSpec s : specs) {
            expected.add(s.name());
            NodeInfo n = found.get(s.name());
            if (n == null) {
                if (s.optional()) {
                    continue;
                }
                throw new InvalidBundleException(file + ": " + side + " '" + s.name() + "': expected " + s.describe()
                        + ", found no such " + side + " (graph has " + found.keySet() + ")");
            }
            if (!(n.getInfo() instanceof TensorInfo t)) {
                throw new InvalidBundleException(file + ": " + side + " '" + s.name() + "': expected tensor "
                        + s.describe() + ", found " + n.getInfo());
            }
            if (t.type != s.dtype().ort) {
                throw new InvalidBundleException(file + ": " + side + " '" + s.name() + "': expected dtype "
                        + s.dtype().shortName + " (" + s.describe() + "), found " + t.type);
            }
            checkShape(file, side, s, t.getShape(), false);
        }
        List<String> extra = new ArrayList<>();
        for (String name : found.keySet()) {
            if (!expected.contains(name)) {
                extra.add(name);
            }
        }
        if (!extra.isEmpty()) {
            throw new InvalidBundleException(file + ": " + side + "s: expected only " + expected + ", found extra "
                    + extra);
        }
    }

    /**
     * Checks one shape. Declared (load-time) shapes use -1 for symbolic dims: the batch dim must be symbolic,
     * other symbolic dims are accepted. Runtime shapes ({@code runtime=true}) must match exactly, batch aside.
     */
    public static void checkShape(String file, String side, TensorSpec s, long[] shape, boolean runtime) {
        if (shape.length != s.dims().length) {
            throw new InvalidBundleException(file + ": " + side + " '" + s.name() + "': expected rank "
                    + s.dims().length + " " + s.describe() + ", found rank " + shape.length + " " + fmt(shape));
        }
        for (int i = 0; i < shape.length; i++) {
            long e = s.dims()[i];
            long f = shape[i];
            if (e == BATCH) {
                if (!runtime && f != -1) {
                    throw new InvalidBundleException(file + ": " + side + " '" + s.name()
                            + "': dim 0 (batch) expected dynamic, found static " + f + " (export with dynamic_axes)");
                }
                continue;
            }
            if (f == -1 && !runtime) {
                continue;
            }
            if (e != f) {
                throw new InvalidBundleException(file + ": " + side + " '" + s.name() + "': dim " + i + " expected "
                        + e + " " + s.describe() + ", found " + f + " " + fmt(shape)
                        + " (manifest: input " + "HxW, queries N, query_dim C, classes K)");
            }
        }
    }

    static String fmt(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? "," : "").append(shape[i] == -1 ? "?" : Long.toString(shape[i]));
        }
        return sb.append(']').toString();
    }
}
