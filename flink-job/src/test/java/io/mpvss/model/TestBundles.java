package io.mpvss.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.stream.Stream;

/**
 * Finds the model bundle the tests run on: the system property {@code mpvss.test.bundle} if set, else the repo's
 * {@code model-ops/bundle/} (found by walking up from the working directory). Tests run real exported graphs, never
 * a fake; without a bundle they fail with a message saying how to provide one.
 */
public final class TestBundles {

    private TestBundles() {}

    public static Path dir() {
        String prop = System.getProperty("mpvss.test.bundle");
        if (prop != null && !prop.isBlank()) {
            return Paths.get(prop).toAbsolutePath();
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path b = p.resolve("model-ops").resolve("bundle");
            if (Files.isDirectory(p.resolve("model-ops"))) {
                if (Files.isRegularFile(b.resolve("manifest.json"))) {
                    return b;
                }
                break;
            }
        }
        throw new IllegalStateException("no model bundle for the tests: model-ops/bundle/manifest.json is missing; "
                + "export one (model-ops/scripts/export.py) or run with -Dmpvss.test.bundle=DIR");
    }

    /** A writable copy of the bundle (for tests that break it on purpose). */
    public static Path copyTo(Path target) throws IOException {
        Path src = dir();
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (Files.isRegularFile(f) && (n.endsWith(".onnx") || n.endsWith(".json"))) {
                    Files.copy(f, target.resolve(n));
                }
            }
        }
        return target;
    }
}
