package io.mpvss.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The ONNX Runtime half of the model-ops parity check: runs a bundle's graphs in ONNX Runtime Java on the input
 * vectors that model-ops wrote with PyTorch and compares with PyTorch's outputs.
 *
 * <p>Layout: {@code <dir>/<case>/<graph>/inputs/<tensor>.npy} and {@code <dir>/<case>/<graph>/outputs/<tensor>.npy}
 * for graph in segmentor, propagator; cases from {@code <dir>/vectors.json} when it lists them, else every
 * subdirectory. Rules: every float output within {@value #MAX_ABS_DIFF} (max |diff|); {@code semantic} equal on at
 * least {@value #MIN_SEMANTIC_AGREEMENT} of pixels (argmax near-ties may break differently across engines, see
 * the model card); an output that is optional in the contract (flow) is skipped when either side lacks it.
 */
public final class ParityCheck {

    public static final double MAX_ABS_DIFF = 1e-3;
    public static final double MIN_SEMANTIC_AGREEMENT = 0.999;

    private ParityCheck() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: ParityCheck <bundleDir> <vectorsDir>");
            System.exit(2);
        }
        boolean ok = run(Paths.get(args[0]), Paths.get(args[1]), System.out);
        System.exit(ok ? 0 : 1);
    }

    /** Runs the check, prints one line per tensor and a verdict; returns true when everything passed. */
    public static boolean run(Path bundleDir, Path vectorsDir, PrintStream out) throws IOException {
        if (!Files.isDirectory(vectorsDir)) {
            throw new IOException(vectorsDir + ": parity vectors directory does not exist");
        }
        Map<String, List<String>> cases = cases(vectorsDir);
        if (cases.isEmpty()) {
            throw new IOException(vectorsDir + ": no parity cases found");
        }
        boolean ok = true;
        int checked = 0;
        try (ModelBundle bundle = ModelBundle.open(bundleDir, InferenceOptions.cpu())) {
            out.printf(Locale.ROOT, "parity: %s on %s, %d case(s)%n", bundle.modelId(), vectorsDir, cases.size());
            for (Map.Entry<String, List<String>> ce : cases.entrySet()) {
                String c = ce.getKey();
                for (String graph : ce.getValue()) {
                    Path g = vectorsDir.resolve(c).resolve(graph);
                    if (!Files.isDirectory(g)) {
                        out.printf(Locale.ROOT, "FAIL %s/%s: directory missing%n", c, graph);
                        ok = false;
                        continue;
                    }
                    Map<String, Tensor> inputs = readDir(g.resolve("inputs"));
                    Map<String, Tensor> expected = readDir(g.resolve("outputs"));
                    Map<String, Tensor> actual;
                    try {
                        actual = bundle.run(graph, inputs, expected.keySet());
                    } catch (RuntimeException e) {
                        out.printf(Locale.ROOT, "FAIL %s/%s: run failed: %s%n", c, graph, e.getMessage());
                        ok = false;
                        continue;
                    }
                    for (Map.Entry<String, Tensor> e : expected.entrySet()) {
                        String name = e.getKey();
                        Tensor want = e.getValue();
                        Tensor got = actual.get(name);
                        if (got == null) {
                            if (name.equals(BundleContract.FLOW)) {
                                out.printf(Locale.ROOT, "skip %s/%s %s: optional output not in the graph%n", c, graph, name);
                            } else {
                                out.printf(Locale.ROOT, "FAIL %s/%s %s: graph has no such output%n", c, graph, name);
                                ok = false;
                            }
                            continue;
                        }
                        checked++;
                        ok &= compare(c + "/" + graph + " " + name, want, got, out);
                        if (name.equals(BundleContract.SEMANTIC)) {
                            reportDecisive(g.resolve("aux").resolve("semantic_top2_gap.npy"), want, got, out);
                        }
                    }
                    for (String required : List.of(BundleContract.SEMANTIC, BundleContract.MASK_LOGITS)) {
                        if (!expected.containsKey(required)) {
                            out.printf(Locale.ROOT, "FAIL %s/%s %s: expected vector missing%n", c, graph, required);
                            ok = false;
                        }
                    }
                }
            }
        }
        out.printf(Locale.ROOT, "parity %s: %d tensor(s) compared%n", ok ? "PASSED" : "FAILED", checked);
        return ok;
    }

    static boolean compare(String what, Tensor want, Tensor got, PrintStream out) {
        if (!java.util.Arrays.equals(want.shape(), got.shape()) || want.isFloat() != got.isFloat()) {
            out.printf(Locale.ROOT, "FAIL %s: expected %s, found %s%n", what, want, got);
            return false;
        }
        if (want.isFloat()) {
            double max = 0;
            float[] a = want.f32();
            float[] b = got.f32();
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs((double) a[i] - b[i]);
                if (!(d <= max)) {
                    max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                }
            }
            boolean pass = max <= MAX_ABS_DIFF;
            out.printf(Locale.ROOT, "%s %s %s: max|diff| = %.3g (limit %.0e)%n", pass ? "ok  " : "FAIL", what, want,
                    max, MAX_ABS_DIFF);
            return pass;
        }
        byte[] a = want.u8();
        byte[] b = got.u8();
        long same = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i]) {
                same++;
            }
        }
        double agree = a.length == 0 ? 1 : (double) same / a.length;
        boolean pass = agree >= MIN_SEMANTIC_AGREEMENT;
        out.printf(Locale.ROOT, "%s %s %s: %.4f%% of pixels equal (limit %.1f%%)%n", pass ? "ok  " : "FAIL", what,
                want, agree * 100, MIN_SEMANTIC_AGREEMENT * 100);
        return pass;
    }

    private static Map<String, Tensor> readDir(Path dir) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + ": missing");
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".npy")) {
                    m.put(n.substring(0, n.length() - 4), NpyReader.read(p));
                }
            }
        }
        return m;
    }

    /** Informational: agreement on pixels whose top-2 class score gap exceeds 1e-4 (not near-ties). */
    private static void reportDecisive(Path gapFile, Tensor want, Tensor got, PrintStream out) throws IOException {
        if (!Files.isRegularFile(gapFile)) {
            return;
        }
        Tensor gap = NpyReader.read(gapFile);
        if (!gap.isFloat() || gap.elements() != want.elements()) {
            return;
        }
        long n = 0;
        long same = 0;
        for (int i = 0; i < gap.f32().length; i++) {
            if (gap.f32()[i] > 1e-4f) {
                n++;
                if (want.u8()[i] == got.u8()[i]) {
                    same++;
                }
            }
        }
        out.printf(Locale.ROOT, "     (on %d pixels with top-2 gap > 1e-4: %.4f%% equal)%n", n,
                n == 0 ? 100.0 : 100.0 * same / n);
    }

    /**
     * Cases and their graphs. From vectors.json ({@code cases} and {@code extra_cases}: strings, or objects with a
     * "name" and the graphs they have as keys), read defensively: if absent, unreadable or naming nothing, every
     * subdirectory is a case with the graph subdirectories it has.
     */
    static Map<String, List<String>> cases(Path dir) throws IOException {
        List<String> graphs = List.of(BundleContract.SEGMENTOR, BundleContract.PROPAGATOR);
        Map<String, List<String>> cases = new LinkedHashMap<>();
        Path index = dir.resolve("vectors.json");
        if (Files.isRegularFile(index)) {
            try {
                JsonNode root = new ObjectMapper().readTree(index.toFile());
                List<JsonNode> lists = new ArrayList<>();
                if (root != null && root.isArray()) {
                    lists.add(root);
                } else if (root != null && root.isObject()) {
                    for (String k : List.of("cases", "extra_cases")) {
                        if (root.has(k) && root.get(k).isArray()) {
                            lists.add(root.get(k));
                        }
                    }
                }
                for (JsonNode list : lists) {
                    for (JsonNode c : list) {
                        String name = c.isTextual() ? c.asText()
                                : c.has("name") ? c.get("name").asText() : c.has("case") ? c.get("case").asText() : null;
                        if (name == null) {
                            continue;
                        }
                        List<String> gs = new ArrayList<>();
                        for (String g : graphs) {
                            if (!c.isObject() || c.has(g)) {
                                gs.add(g);
                            }
                        }
                        if (gs.isEmpty()) {
                            gs.addAll(graphs);
                        }
                        cases.put(name, gs);
                    }
                }
            } catch (IOException e) {
                cases.clear();
            }
        }
        if (cases.isEmpty()) {
            try (Stream<Path> sub = Files.list(dir)) {
                for (Path p : sub.filter(Files::isDirectory).sorted().toList()) {
                    List<String> gs = graphs.stream().filter(g -> Files.isDirectory(p.resolve(g))).toList();
                    cases.put(p.getFileName().toString(), gs.isEmpty() ? graphs : gs);
                }
            }
        }
        return cases;
    }
}
