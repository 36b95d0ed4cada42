package io.mpvss.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.render.ContactSheet;
import io.mpvss.render.FrameInfo;
import io.mpvss.render.OverlayRenderer;
import io.mpvss.render.Palette;

/**
 * Writes one overlay PNG per mask document ({@code <out>/overlays/<stream>/<seq>.png}) on a small thread pool and
 * collects the contact sheet's tiles (every {@code sheetStep}-th seq).
 */
final class OverlayWriter implements AutoCloseable {

    private final Path overlays;
    private final OverlayRenderer renderer;
    private final ContactSheet sheet;
    private final int sheetStep;
    private final BiFunction<String, Long, BufferedImage> frames;
    private final ExecutorService pool;
    private final List<Future<?>> pending = new ArrayList<>();
    private int written;

    /**
     * @param frames the original frame of (stream, seq), or null for colour-only overlays
     * @param threads rendering threads
     */
    OverlayWriter(Path out, Palette palette, int sheetStep, BiFunction<String, Long, BufferedImage> frames,
                  int threads, int minWidth) throws IOException {
        this.overlays = out.resolve("overlays");
        Files.createDirectories(overlays);
        this.renderer = new OverlayRenderer(palette).minWidth(minWidth);
        this.sheet = new ContactSheet(palette, 240, 10);
        this.sheetStep = Math.max(1, sheetStep);
        this.frames = frames;
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "mpvss-render");
            t.setDaemon(true);
            return t;
        });
    }

    ContactSheet sheet() {
        return sheet;
    }

    static String safe(String stream) {
        String s = stream.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.isEmpty() || s.startsWith(".") ? "_" + s : s;
    }

    /** Queues the overlay of {@code doc}. */
    synchronized void submit(MaskDocument doc) {
        pending.add(pool.submit(() -> {
            render(doc);
            return null;
        }));
    }

    private void render(MaskDocument doc) throws IOException {
        LabelMapPng.Image lm = LabelMapPng.read(doc.getLabelMapPng());
        BufferedImage frame = frames == null ? null : frames.apply(doc.getStream(), doc.getSeq());
        FrameInfo info = new FrameInfo(doc.getStream(), doc.getSeq(), doc.getCaptureTs(), doc.isKeyFrame(),
                doc.getKeySeq(), doc.getKeyReason(), doc.getModel(), doc.getProcessingMs(), doc.classPixels());
        BufferedImage img = renderer.render(frame, lm.labels(), lm.width(), lm.height(), info);
        Path dir = overlays.resolve(safe(doc.getStream()));
        Files.createDirectories(dir);
        writePng(img, dir.resolve(String.format(Locale.ROOT, "%06d.png", doc.getSeq())));
        if (doc.getSeq() % sheetStep == 0) {
            sheet.add(doc.getStream(), doc.getSeq(), doc.isKeyFrame(), doc.getKeySeq(), frame, lm.labels(),
                    lm.width(), lm.height());
        }
        synchronized (this) {
            written++;
        }
    }

    synchronized int written() {
        return written;
    }

    /** Waits for all queued overlays; rethrows the first failure. */
    void await() throws Exception {
        List<Future<?>> l;
        synchronized (this) {
            l = new ArrayList<>(pending);
        }
        for (Future<?> f : l) {
            f.get();
        }
    }

    /** Writes the contact sheet (tiles in seq order per stream) to {@code file}; false if there are no tiles. */
    boolean writeSheet(Path file, String title, String subtitle) throws IOException {
        if (sheet.size() == 0) {
            return false;
        }
        sheet.title(title, subtitle);
        writePng(sheet.render(), file);
        return true;
    }

    /**
     * Writes a PNG with a moderate deflate level: about 2.5x faster than ImageIO's default for the same size on
     * these images (measured: 42 ms vs 107 ms for a 1024x624 overlay).
     */
    static void writePng(BufferedImage img, Path file) throws IOException {
        Files.deleteIfExists(file); // the stream below writes into an existing file without truncating it
        ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream os = ImageIO.createImageOutputStream(file.toFile())) {
            w.setOutput(os);
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(0.5f);
            w.write(null, new IIOImage(img, null, null), p);
        } finally {
            w.dispose();
        }
    }

    @Override
    public void close() throws InterruptedException {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
    }
}
