package io.mpvss.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model bundle contract, read from its one declaration, {@code model-ops/contract/mpvss-1.json} (packed into
 * this jar as {@value #RESOURCE}; the Python exporter reads the same file): graph names, tensor names, dtypes and
 * shape rules. Everything else in the job reads the contract from here.
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

    /** Where the contract's declaration sits on the classpath. */
    public static final String RESOURCE = "/io/mpvss/model/contract/mpvss-1.json";

    private static final JsonNode SPEC = load();

    public static final String CONTRACT = SPEC.path("contract").asText();
    public static final int MIN_OPSET = SPEC.path("min_opset").asInt();
    /** H and W must be multiples of this (mask logits at 1/4, flow at 1/8). */
    public static final int STRIDE = SPEC.path("stride").asInt();

    public static final String SEGMENTOR = "segmentor";
    public static final String PROPAGATOR = "propagator";

    // The names the job binds tensors by; checked against the declaration when this class loads.
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

    static {
        Set<String> declared = new HashSet<>();
        for (String g : List.of(SEGMENTOR, PROPAGATOR)) {
            for (String side : List.of("inputs", "outputs")) {
                SPEC.path("graphs").path(g).path(side).forEach(t -> declared.add(t.path("name").asText()));
            }
        }
        for (String name : List.of(IMAGE, QUERIES, CLASS_LOGITS, MASK_LOGITS, SEMANTIC, KEY_IMAGE, KEY_QUERIES,
                KEY_CLASS_LOGITS, KEY_MASK_LOGITS, FLOW)) {
            if (!declared.contains(name)) {
                throw new IllegalStateException(RESOURCE + " does not declare tensor '" + name + "'");
            }
        }
    }

    /** Element types of the contract. */
    public enum DType {
        U8(OnnxJavaType.UINT8, "u8", "uint8"),
        F32(OnnxJavaType.FLOAT, "f32", "float32");

        final OnnxJavaType ort;
        final String shortName;
        final String specName;

        DType(OnnxJavaType ort, String shortName, String specName) {
            this.ort = ort;
            this.shortName = shortName;
            this.specName = specName;
        }

        static DType of(String specName) {
            for (DType d : values()) {
                if (d.specName.equals(specName)) {
                    return d;
                }
            }
            throw new IllegalStateException(RESOURCE + ": unknown dtype '" + specName + "'");
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

    private static JsonNode load() {
        try (InputStream in = BundleContract.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the bundle contract " + RESOURCE + " is missing from the classpath");
            }
            return new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundle contract " + RESOURCE, e);
        }
    }

    public static List<TensorSpec> segmentorInputs(ModelManifest m) {
        return specs(SEGMENTOR, "inputs", m);
    }

    public static List<TensorSpec> segmentorOutputs(ModelManifest m) {
        return specs(SEGMENTOR, "outputs", m);
    }

    public static List<TensorSpec> propagatorInputs(ModelManifest m) {
        return specs(PROPAGATOR, "inputs", m);
    }

    public static List<TensorSpec> propagatorOutputs(ModelManifest m) {
        return specs(PROPAGATOR, "outputs", m);
    }

    /** A graph's declared tensors with the manifest's sizes put in for the symbols. */
    static List<TensorSpec> specs(String graph, String side, ModelManifest m) {
        Map<String, Long> symbols = Map.of("B", BATCH, "H", (long) m.height(), "W", (long) m.width(),
                "N", (long) m.queries(), "C", (long) m.queryDim(), "K1", (long) m.numClasses() + 1);
        List<TensorSpec> out = new ArrayList<>();
        for (JsonNode t : SPEC.path("graphs").path(graph).path(side)) {
            JsonNode shape = t.path("shape");
            long[] dims = new long[shape.size()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = dim(shape.get(i), symbols);
            }
            out.add(new TensorSpec(t.path("name").asText(), DType.of(t.path("dtype").asText()), dims,
                    t.path("optional").asBoolean(false)));
        }
        return out;
    }

    /** A contract dim: a number, a symbol ("N"), or "X/d" (a symbol divided by d). */
    private static long dim(JsonNode d, Map<String, Long> symbols) {
        if (d.isNumber()) {
            return d.asLong();
        }
        String[] parts = d.asText().split("/");
        Long v = symbols.get(parts[0]);
        if (v == null) {
            throw new IllegalStateException(RESOURCE + ": unknown dim '" + d.asText() + "'");
        }
        return parts.length == 1 || v == BATCH ? v : v / Long.parseLong(parts[1]);
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
