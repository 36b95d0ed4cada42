package io.mpvss.metrics;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

/**
 * Reader of the MPVSS dataset layout, one folder per clip:
 *
 * <pre>
 *   &lt;root&gt;/&lt;clip&gt;/frames/000000.jpg|png   RGB frames, in file-name order
 *   &lt;root&gt;/&lt;clip&gt;/labels/000000.png       optional: 8-bit, pixel = class id, 255 = ignore
 * </pre>
 *
 * A label belongs to the frame with the same file stem; frames without a label are allowed (sparse annotation).
 */
public final class LabelClips {

    private LabelClips() {
    }

    /** One clip of the dataset. */
    public record Clip(String id, Path dir, List<Frame> frames) {
        /** Number of frames with a ground-truth label. */
        public long labelledFrames() {
            return frames.stream().filter(Frame::hasLabel).count();
        }
    }

    /**
     * One frame of a clip.
     *
     * @param index position in the clip (0-based, file-name order)
     * @param name file stem, e.g. {@code 000000}
     * @param image the image file
     * @param label the label file, or null
     */
    public record Frame(int index, String name, Path image, Path label) {
        public boolean hasLabel() {
            return label != null;
        }
    }

    /** A label map: class id per pixel, row-major, unsigned bytes. */
    public record LabelMap(int width, int height, byte[] labels) {
        public int at(int x, int y) {
            return labels[y * width + x] & 0xFF;
        }
    }

    /**
     * Lists the clips under {@code root}: every sub-folder with a {@code frames/} folder holding at least one image,
     * sorted by name. Alternatively {@code root} may itself be one clip folder.
     *
     * @throws NoSuchFileException if {@code root} does not exist
     * @throws IOException if no clip is found (message says what was expected)
     */
    public static List<Clip> list(Path root) throws IOException {
        if (!Files.exists(root)) {
            throw new NoSuchFileException(root.toString(), null, "no such clips folder");
        }
        if (!Files.isDirectory(root)) {
            throw new NotDirectoryException(root.toString());
        }
        if (Files.isDirectory(root.resolve("frames"))) {
            return List.of(read(root));
        }
        List<Clip> clips = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path dir : s.filter(Files::isDirectory).sorted().toList()) {
                if (Files.isDirectory(dir.resolve("frames"))) {
                    Clip c = read(dir);
                    if (!c.frames().isEmpty()) {
                        clips.add(c);
                    }
                }
            }
        }
        if (clips.isEmpty()) {
            throw new IOException("no clips in " + root + " (expected <clip>/frames/*.jpg|png)");
        }
        return Collections.unmodifiableList(clips);
    }

    /** Reads one clip folder ({@code dir/frames}, optional {@code dir/labels}). */
    public static Clip read(Path dir) throws IOException {
        Path fdir = dir.resolve("frames");
        Path ldir = dir.resolve("labels");
        List<Path> images = listImages(fdir);
        List<Frame> frames = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            Path img = images.get(i);
            String stem = stem(img);
            Path label = ldir.resolve(stem + ".png");
            frames.add(new Frame(i, stem, img, Files.isRegularFile(label) ? label : null));
        }
        return new Clip(dir.getFileName().toString(), dir, Collections.unmodifiableList(frames));
    }

    /** The image files (jpg, jpeg, png) of a folder, sorted by name. */
    public static List<Path> listImages(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "no such folder");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(LabelClips::isImage).sorted().toList();
        }
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png");
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /**
     * Reads an 8-bit label PNG (grayscale or palette: the stored value is the class id).
     *
     * @throws IOException if the file is not a single-channel 8-bit image
     */
    public static LabelMap readLabel(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        if (img == null) {
            throw new IOException("not a readable image: " + png);
        }
        return toLabelMap(img, png.toString());
    }

    /** Converts an 8-bit gray or indexed image to a label map (values kept as stored, not colour-converted). */
    public static LabelMap toLabelMap(BufferedImage img, String what) throws IOException {
        Raster r = img.getRaster();
        boolean gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY;
        boolean indexed = img.getColorModel() instanceof IndexColorModel;
        if (r.getNumBands() != 1 || !(gray || indexed) || r.getSampleModel().getSampleSize(0) > 8) {
            throw new IOException(what + ": expected an 8-bit single-channel label image (class id per pixel), got "
                    + r.getNumBands() + " band(s) of " + r.getSampleModel().getSampleSize(0) + " bits");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            r.getSamples(0, y, w, 1, 0, row);
            for (int x = 0; x < w; x++) {
                out[y * w + x] = (byte) row[x];
            }
        }
        return new LabelMap(w, h, out);
    }

    /** Reads an RGB image (jpg/png) as a BufferedImage, failing with the file name if it cannot be decoded. */
    public static BufferedImage readImage(Path file) {
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new IOException("not a readable image: " + file);
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
