package io.mpvss.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.mpvss.metrics.LabelClips;

/**
 * Finds the original frame of (stream, seq) under a folder, for blending overlays: the seq-th image (file-name
 * order) of {@code DIR/<stream>/frames/}, {@code DIR/<stream>/}, {@code DIR/frames/} or {@code DIR/} itself,
 * the first of these that exists. Seq numbers are therefore those that {@code mpvss produce} assigns from 0.
 */
final class FrameLookup {

    private final Path root;
    private final Map<String, List<Path>> byStream = new HashMap<>();

    FrameLookup(Path root) {
        this.root = root;
    }

    synchronized List<Path> frames(String stream) {
        return byStream.computeIfAbsent(stream, s -> {
            for (Path dir : new Path[] {root.resolve(s).resolve("frames"), root.resolve(s), root.resolve("frames"),
                    root}) {
                if (Files.isDirectory(dir)) {
                    try {
                        List<Path> l = LabelClips.listImages(dir);
                        if (!l.isEmpty()) {
                            return l;
                        }
                    } catch (IOException ignored) {
                        // try the next layout
                    }
                }
            }
            return List.of();
        });
    }

    /** The frame, or null if there is none for this seq. */
    BufferedImage frame(String stream, long seq) {
        List<Path> l = frames(stream);
        if (seq < 0 || seq >= l.size()) {
            return null;
        }
        try {
            return LabelClips.readImage(l.get((int) seq));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
