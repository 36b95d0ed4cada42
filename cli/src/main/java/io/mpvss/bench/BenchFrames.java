package io.mpvss.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.metrics.LabelClips;

/**
 * Encoded camera frames for the benchmarks: the clips of a dataset folder (demo clips or the test split), stream s
 * cycling through clip {@code s mod clips}, frame t through the clip's frames {@code t mod length}, so that every
 * stream sees real motion at the bundled resolution.
 */
public final class BenchFrames {

    private final List<List<byte[]>> clips;
    private final List<String> clipIds;

    private BenchFrames(List<List<byte[]>> clips, List<String> clipIds) {
        this.clips = clips;
        this.clipIds = clipIds;
    }

    /** Loads at most {@code maxClips} clips and {@code maxFrames} frames of each into memory. */
    public static BenchFrames load(Path root, int maxClips, int maxFrames) throws IOException {
        List<List<byte[]>> clips = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (LabelClips.Clip c : LabelClips.list(root)) {
            if (clips.size() >= maxClips) {
                break;
            }
            List<byte[]> frames = new ArrayList<>();
            for (LabelClips.Frame f : c.frames()) {
                if (frames.size() >= maxFrames) {
                    break;
                }
                frames.add(Files.readAllBytes(f.image()));
            }
            clips.add(frames);
            ids.add(c.id());
        }
        return new BenchFrames(clips, ids);
    }

    public int clipCount() {
        return clips.size();
    }

    public List<String> clipIds() {
        return clipIds;
    }

    /** The encoded frame that stream {@code s} sends as its {@code t}-th frame. */
    public byte[] frame(int s, long t) {
        List<byte[]> c = clips.get(s % clips.size());
        return c.get((int) (t % c.size()));
    }

    /** Mean encoded size in bytes. */
    public double meanBytes() {
        return clips.stream().flatMap(List::stream).mapToInt(b -> b.length).average().orElse(0);
    }

    /** Decodes one encoded frame with the product's decoder. */
    public static FrameDecoder.Rgb decode(byte[] encoded) {
        try {
            return FrameDecoder.decode(FrameRecord.of("bench", 0, 0, encoded), Long.MAX_VALUE);
        } catch (InvalidFrameException e) {
            throw new IllegalStateException("benchmark frame does not decode: " + e.getMessage(), e);
        }
    }

    /** Decoded and resized to the model's input size (bilinear, as the operator does). */
    public static byte[] modelRgb(byte[] encoded, int width, int height) {
        FrameDecoder.Rgb rgb = decode(encoded);
        return FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), width, height);
    }
}
