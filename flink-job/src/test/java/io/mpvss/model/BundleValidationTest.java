package io.mpvss.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad bundle is refused at open with a message naming file, tensor, expected and found. */
class BundleValidationTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    Path copy() throws Exception {
        return TestBundles.copyTo(tmp.resolve("bundle"));
    }

    /** A copy of the good bundle without {@code file}. */
    Path copyWithout(String file) throws Exception {
        Path b = copy();
        Files.delete(b.resolve(file));
        return b;
    }

    Path editManifest(Consumer<ObjectNode> edit) throws Exception {
        return editManifest(copy(), edit);
    }

    static Path editManifest(Path b, Consumer<ObjectNode> edit) throws Exception {
        ObjectNode m = (ObjectNode) JSON.readTree(b.resolve("manifest.json").toFile());
        edit.accept(m);
        JSON.writeValue(b.resolve("manifest.json").toFile(), m);
        return b;
    }

    /** Replaces a tensor name everywhere in a graph (same length, so the protobuf stays valid) and fixes the sha. */
    Path renameInGraph(String graph, String from, String to) throws Exception {
        assertEquals(from.length(), to.length());
        Path b = copy();
        Path f = b.resolve(graph + ".onnx");
        byte[] bytes = Files.readAllBytes(f);
        String s = new String(bytes, StandardCharsets.ISO_8859_1).replace(from, to);
        Files.write(f, s.getBytes(StandardCharsets.ISO_8859_1));
        String sha = ModelBundle.sha256(f);
        return editManifest(b, m -> ((ObjectNode) m.get("graphs").get(graph)).put("sha256", sha));
    }

    static void assertRefused(Path dir, String... fragments) {
        InvalidBundleException e = assertThrows(InvalidBundleException.class,
                () -> ModelBundle.open(dir, InferenceOptions.cpu()).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message lacks '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void goodBundleOpensAndSessionsAreShared() {
        int before = ModelBundle.liveSessionPairs();
        try (ModelBundle a = ModelBundle.open(TestBundles.dir(), InferenceOptions.cpu());
                ModelBundle b = ModelBundle.open(TestBundles.dir(), InferenceOptions.cpu())) {
            assertEquals(before + 1, ModelBundle.liveSessionPairs());
            assertEquals("CPU", a.executionProvider());
            assertEquals(a.modelId(), b.modelId());
        }
        assertEquals(before, ModelBundle.liveSessionPairs());
    }

    @Test
    void autoDeviceFallsBackToCpu() {
        // No CUDA libraries on CI machines: auto must still open (on CPU, one log line). With a GPU it is CUDA.
        try (ModelBundle a = ModelBundle.open(TestBundles.dir(), InferenceOptions.defaults())) {
            assertTrue(List.of("CPU", "CUDA").contains(a.executionProvider()));
            assertEquals(a.manifest().height() * a.manifest().width(),
                    a.segment(new byte[a.imageBytes()]).semantic().length);
        }
    }

    @Test
    void cudaDeviceFailsWhereCudaCannotLoad() {
        String provider;
        try (ModelBundle a = ModelBundle.open(TestBundles.dir(), InferenceOptions.defaults())) {
            provider = a.executionProvider();
        }
        if (provider.equals("CPU")) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ModelBundle.open(TestBundles.dir(),
                    new InferenceOptions(InferenceOptions.Device.CUDA, 0, 0)).close());
            assertTrue(e.getMessage().contains("inference.device=cuda"), e.getMessage());
        }
    }

    @Test
    void missingDirectory() {
        assertRefused(tmp.resolve("nope"), "nope", "does not exist");
    }

    @Test
    void missingManifest() throws Exception {
        assertRefused(copyWithout("manifest.json"), "manifest.json", "missing");
    }

    @Test
    void badJson() throws Exception {
        Path b = copy();
        Files.writeString(b.resolve("manifest.json"), "{\"name\": \"x\",");
        assertRefused(b, "manifest.json", "not valid JSON");
    }

    @Test
    void missingKey() throws Exception {
        assertRefused(editManifest(m -> m.remove("query_dim")), "manifest.json", "'query_dim'", "missing");
    }

    @Test
    void wrongContract() throws Exception {
        assertRefused(editManifest(m -> m.put("contract", "mpvss/0")), "manifest.json", "contract",
                "expected 'mpvss/1'", "found 'mpvss/0'");
    }

    @Test
    void shaMismatch() throws Exception {
        Path b = editManifest(m -> ((ObjectNode) m.get("graphs").get("propagator")).put("sha256", "00ff"));
        assertRefused(b, "propagator.onnx", "sha256 expected 00ff", "found ");
    }

    @Test
    void missingGraphFile() throws Exception {
        assertRefused(copyWithout("segmentor.onnx"), "segmentor.onnx", "missing");
    }

    @Test
    void sizeNotDivisibleByEight() throws Exception {
        assertRefused(editManifest(m -> ((ObjectNode) m.get("input")).put("height", 100)), "manifest.json",
                "multiples of 8", "found 100x");
    }

    @Test
    void manifestQueriesDisagreeWithGraph() throws Exception {
        int n = JSON.readTree(TestBundles.dir().resolve("manifest.json").toFile()).get("queries").asInt();
        assertRefused(editManifest(m -> m.put("queries", n + 1)), "segmentor.onnx", "'queries'", "expected " + (n + 1),
                "found " + n);
    }

    @Test
    void manifestQueryDimDisagreesWithGraph() throws Exception {
        int c = JSON.readTree(TestBundles.dir().resolve("manifest.json").toFile()).get("query_dim").asInt();
        assertRefused(editManifest(m -> m.put("query_dim", c + 1)), "segmentor.onnx", "'queries'",
                "expected " + (c + 1), "found " + c);
    }

    @Test
    void manifestClassesDisagreeWithGraph() throws Exception {
        assertRefused(editManifest(m -> ((ArrayNode) m.get("classes")).remove(m.get("classes").size() - 1)),
                "segmentor.onnx", "'class_logits'", "expected");
    }

    @Test
    void missingGraphOutput() throws Exception {
        assertRefused(renameInGraph("segmentor", "queries", "queriez"), "segmentor.onnx", "output 'queries'",
                "found no such output");
    }

    @Test
    void extraGraphOutput() throws Exception {
        // 'flow' is optional; under another name it is an output the contract does not know
        assertRefused(renameInGraph("propagator", "flow", "flox"), "propagator.onnx", "extra [flox]");
    }

    @Test
    void missingGraphInput() throws Exception {
        assertRefused(renameInGraph("propagator", "key_image", "key_imagf"), "propagator.onnx", "input 'key_image'",
                "found no such input");
    }

    @Test
    void graphsSwapped() throws Exception {
        Path b = editManifest(m -> {
            ObjectNode g = (ObjectNode) m.get("graphs");
            var seg = g.get("segmentor");
            g.set("segmentor", g.get("propagator"));
            g.set("propagator", seg);
        });
        assertRefused(b, "propagator.onnx", "input", "expected");
    }

    @Test
    void wrongDtypeAndStaticDimAreNamed() throws Exception {
        ModelManifest m = ModelManifest.read(TestBundles.dir());
        OrtEnvironment env = ModelBundle.env();
        try (OrtSession s = env.createSession(TestBundles.dir().resolve(m.segmentor().file()).toString())) {
            var f32Image = List.of(new BundleContract.TensorSpec("image", BundleContract.DType.F32,
                    new long[] {BundleContract.BATCH, m.height(), m.width(), 3}, false));
            InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> BundleContract.checkGraph(
                    "segmentor.onnx", f32Image, s.getInputInfo(), BundleContract.segmentorOutputs(m), s.getOutputInfo()));
            assertTrue(e.getMessage().contains("input 'image': expected dtype f32"), e.getMessage());
            assertTrue(e.getMessage().contains("found UINT8"), e.getMessage());
            var wideImage = List.of(new BundleContract.TensorSpec("image", BundleContract.DType.U8,
                    new long[] {BundleContract.BATCH, m.height(), m.width() * 2, 3}, false));
            e = assertThrows(InvalidBundleException.class, () -> BundleContract.checkGraph(
                    "segmentor.onnx", wideImage, s.getInputInfo(), BundleContract.segmentorOutputs(m), s.getOutputInfo()));
            assertTrue(e.getMessage().contains("dim 2 expected " + (m.width() * 2)), e.getMessage());
            assertTrue(e.getMessage().contains("found " + m.width()), e.getMessage());
        }
    }
}
