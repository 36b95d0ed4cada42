package io.mpvss.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed {@code manifest.json} of a model bundle (contract {@code mpvss/1}). Parsing is strict about the keys
 * the job needs and ignores the rest (e.g. free-form {@code metrics}); every error names the file and the key.
 */
public record ModelManifest(
        String name,
        String version,
        String contract,
        int height,
        int width,
        int queries,
        int queryDim,
        List<ClassInfo> classes,
        int keyInterval,
        int opset,
        GraphInfo segmentor,
        GraphInfo propagator) {

    public static final String FILE = "manifest.json";

    /** One class of the label space. */
    public record ClassInfo(int id, String name, int[] color) {
        /** The colour as 0xRRGGBB. */
        public int rgb() {
            return (color[0] << 16) | (color[1] << 8) | color[2];
        }
    }

    /** One graph file of the bundle. */
    public record GraphInfo(String file, String sha256, double gmacsPerFrame) {}

    /** {@code name@version}: the model id written into every mask document and kept in state. */
    public String modelId() {
        return name + "@" + version;
    }

    /** Number of classes K (class_logits has K+1 entries, the last one being "no object"). */
    public int numClasses() {
        return classes.size();
    }

    public String[] classNames() {
        return classes.stream().map(ClassInfo::name).toArray(String[]::new);
    }

    /**
     * The model card: the free-form {@code metrics} object of the bundle's manifest (quality and cost measured by
     * model-ops), by key, in file order; empty when there is none. Not part of the contract, so not a component.
     */
    public static Map<String, JsonNode> metrics(Path bundleDir) {
        Path file = bundleDir.resolve(FILE);
        try {
            JsonNode m = new ObjectMapper().readTree(file.toFile()).path("metrics");
            Map<String, JsonNode> r = new LinkedHashMap<>();
            m.fields().forEachRemaining(e -> r.put(e.getKey(), e.getValue()));
            return r;
        } catch (IOException e) {
            throw new InvalidBundleException(file + ": not readable as JSON: " + e.getMessage(), e);
        }
    }

    public static ModelManifest read(Path bundleDir) {
        Path file = bundleDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidBundleException(file + ": missing (a model bundle needs " + FILE
                    + ", segmentor.onnx and propagator.onnx)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidBundleException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new InvalidBundleException(file + ": expected a JSON object");
        }
        String where = file.toString();
        JsonNode input = obj(root, "input", where);
        List<ClassInfo> classes = new ArrayList<>();
        JsonNode cs = root.get("classes");
        if (cs == null || !cs.isArray() || cs.isEmpty()) {
            throw new InvalidBundleException(where + ": 'classes' must be a non-empty array");
        }
        for (int i = 0; i < cs.size(); i++) {
            JsonNode c = cs.get(i);
            String at = where + ": classes[" + i + "]";
            JsonNode color = c.get("color");
            if (color == null || !color.isArray() || color.size() != 3) {
                throw new InvalidBundleException(at + ".color: expected [r,g,b], found " + color);
            }
            int[] rgb = new int[3];
            for (int k = 0; k < 3; k++) {
                rgb[k] = color.get(k).asInt(-1);
                if (!color.get(k).isIntegralNumber() || rgb[k] < 0 || rgb[k] > 255) {
                    throw new InvalidBundleException(at + ".color: expected integers 0..255, found " + color);
                }
            }
            classes.add(new ClassInfo(integer(c, "id", at), text(c, "name", at), rgb));
        }
        JsonNode graphs = obj(root, "graphs", where);
        return new ModelManifest(
                text(root, "name", where),
                text(root, "version", where),
                text(root, "contract", where),
                integer(input, "height", where + ": input"),
                integer(input, "width", where + ": input"),
                integer(root, "queries", where),
                integer(root, "query_dim", where),
                List.copyOf(classes),
                integer(root, "key_interval", where),
                root.has("opset") ? integer(root, "opset", where) : 0,
                graph(graphs, "segmentor", where),
                graph(graphs, "propagator", where));
    }

    private static GraphInfo graph(JsonNode graphs, String name, String where) {
        JsonNode g = obj(graphs, name, where + ": graphs");
        String at = where + ": graphs." + name;
        JsonNode gm = g.get("gmacs_per_frame");
        return new GraphInfo(text(g, "file", at), text(g, "sha256", at), gm == null ? Double.NaN : gm.asDouble());
    }

    private static JsonNode obj(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isObject()) {
            throw new InvalidBundleException(where + ": '" + key + "' missing or not an object");
        }
        return v;
    }

    private static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new InvalidBundleException(where + ": '" + key + "' missing or not a non-empty string, found " + v);
        }
        return v.asText();
    }

    private static int integer(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isIntegralNumber()) {
            throw new InvalidBundleException(where + ": '" + key + "' missing or not an integer, found " + v);
        }
        return v.asInt();
    }
}
