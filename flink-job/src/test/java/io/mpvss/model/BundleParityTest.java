package io.mpvss.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX Runtime Java against PyTorch on model-ops' parity vectors: one test per {@code bundleDir=vectorsDir} pair of
 * the system property {@code mpvss.parity.dirs} (comma-separated; the repo's test script exports the vectors of the
 * bundled and a fresh tiny model with Python and passes them). Without the property (a plain {@code mvn verify})
 * the test writes the bundled model's vectors itself with model-ops' script ({@code /usr/bin/python3}, set up by
 * model-ops/setup.sh) and checks those: it never skips. A named directory that is missing fails.
 */
class BundleParityTest {

    @TestFactory
    List<DynamicTest> parity() throws IOException, InterruptedException {
        String prop = System.getProperty("mpvss.parity.dirs");
        if (prop == null || prop.isBlank()) {
            prop = resolve("model-ops/bundle") + "=" + bundledModelVectors();
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (String pair : prop.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            String[] kv = pair.trim().split("=", 2);
            tests.add(DynamicTest.dynamicTest(pair.trim(), () -> {
                if (kv.length != 2) {
                    throw new AssertionError("mpvss.parity.dirs entry '" + pair + "' is not bundleDir=vectorsDir");
                }
                Path bundle = resolve(kv[0].trim());
                Path vectors = resolve(kv[1].trim());
                assertTrue(Files.isDirectory(bundle), "bundle directory missing: " + bundle.toAbsolutePath());
                assertTrue(Files.isDirectory(vectors), "vectors directory missing: " + vectors.toAbsolutePath());
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                boolean ok = ParityCheck.run(bundle, vectors, new PrintStream(buf, true, StandardCharsets.UTF_8));
                String report = buf.toString(StandardCharsets.UTF_8);
                System.out.print(report);
                assertTrue(ok, "parity failed:\n" + report);
            }));
        }
        return tests;
    }

    /** Writes the bundled model's vectors with model-ops/scripts/parity_vectors.py (PyTorch); returns their folder. */
    static Path bundledModelVectors() throws IOException, InterruptedException {
        Path script = resolve("model-ops/scripts/parity_vectors.py");
        Path out = Paths.get("target", "parity-vectors", "bundle").toAbsolutePath();
        Process p = new ProcessBuilder("/usr/bin/python3", script.toString(), "--bundle",
                resolve("model-ops/bundle").toString(), "--out", out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError("could not write parity vectors with " + script + " (run model-ops/setup.sh "
                    + "for its Python packages):\n" + log);
        }
        return out;
    }

    /**
     * A relative path is taken from the working directory, else from the nearest parent that has it: Maven runs the
     * tests in flink-job/, the repo's test script names paths from the repo root.
     */
    static Path resolve(String s) {
        Path p = Paths.get(s);
        if (p.isAbsolute() || Files.exists(p)) {
            return p;
        }
        for (Path d = Paths.get("").toAbsolutePath().getParent(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(p))) {
                return d.resolve(p);
            }
        }
        return p;
    }
}
