package io.mpvss.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository (for the demo's bundled model and clips): -Dmpvss.home, else up from the working dir. */
public final class RepoPaths {

    /** The bundled model (demo and tests), relative to the repository root: the tools' default model. */
    public static final String BUNDLED_MODEL = "model-ops/bundle";

    private RepoPaths() {
    }

    /** The repository root, or null if neither -Dmpvss.home nor a parent of the working directory is one. */
    static Path root() {
        String home = System.getProperty("mpvss.home");
        if (home != null && isRoot(Path.of(home))) {
            return Path.of(home).toAbsolutePath().normalize();
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            if (isRoot(dir)) {
                return dir;
            }
            dir = dir.getParent();
        }
        return null;
    }

    static boolean isRoot(Path dir) {
        return Files.isDirectory(dir.resolve("model-ops")) && Files.isDirectory(dir.resolve("flink-job"))
                && Files.isRegularFile(dir.resolve("pom.xml"));
    }

    /**
     * An explicit path as given (relative to the working directory), or the default resolved against the repository
     * root (relative to the working directory if there is no repository).
     */
    public static Path resolve(String explicit, String defaultRelativeToRoot) {
        if (explicit != null) {
            return Path.of(explicit).toAbsolutePath().normalize();
        }
        Path root = root();
        return (root == null ? Path.of(defaultRelativeToRoot) : root.resolve(defaultRelativeToRoot))
                .toAbsolutePath().normalize();
    }
}
