package io.mpvss.cli;

import java.nio.file.Files;
import java.nio.file.Path;

import io.mpvss.config.JobOptions;

/**
 * Locates the repository (for the demo's bundled model and clips): -Dmpvss.home, else up from the working dir. Also
 * the tools' one reading of --model.dir and their one check that it holds a model bundle.
 */
public final class RepoPaths {

    /** The bundled model (demo and tests), relative to the repository root: the tools' default model. */
    public static final String BUNDLED_MODEL = "model-ops/bundle";
    /** The labelled demo clips, relative to the repository root. */
    public static final String DEMO_CLIPS = "model-ops/demo-clips";

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

    /** The model bundle folder of {@code --model.dir}, else the repository's bundled model. */
    public static Path modelDir(Args args) {
        return resolve(args.get(JobOptions.MODEL_DIR.key(), null), BUNDLED_MODEL);
    }

    /** The labelled clips folder of {@code --clips}, else the repository's demo clips; a usage error if missing. */
    public static Path clipsDir(Args args) {
        Path p = resolve(args.get("clips", null), DEMO_CLIPS);
        if (!Files.isDirectory(p)) {
            throw new UsageException("no such folder: " + p + " (--clips)");
        }
        return p;
    }

    /** Whether {@code dir} holds a model bundle (its manifest.json). */
    public static boolean isModelBundle(Path dir) {
        return Files.isRegularFile(dir.resolve("manifest.json"));
    }

    /** A usage error (exit status 2) unless {@code dir} holds a model bundle. */
    public static void requireModelBundle(Path dir) {
        if (!isModelBundle(dir)) {
            throw new UsageException("no model bundle at " + dir + " (manifest.json missing): the trained bundle comes "
                    + "from model-ops (see model-ops/README.md), or pass --model.dir DIR");
        }
    }
}
