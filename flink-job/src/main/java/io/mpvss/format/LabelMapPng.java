package io.mpvss.format;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.ImageIO;

/**
 * Label maps as 8-bit grayscale PNG: one byte per pixel, value = class id, 255 = no prediction. PNG because any
 * language can read it and it compresses label maps (large flat regions) about 10-50x, lossless.
 */
public final class LabelMapPng {

    static {
        // ImageIO's default disk cache costs a temp file per stream; everything here is in memory.
        ImageIO.setUseCache(false);
    }

    /** A decoded label map. */
    public record Image(byte[] labels, int width, int height) {}

    private LabelMapPng() {}

    /**
     * Encodes {@code labels} (row-major, {@code width*height} bytes) as an 8-bit grayscale PNG: the wire format of
     * {@code label_map_png}. Written directly rather than by ImageIO, with the settings that suit label maps: PNG
     * filter "Up" on every row but the first (rows of a label map mostly repeat the row above, so the filtered bytes
     * are nearly all zero) and the fastest deflate level, which on such input loses little size against the default
     * level (docs/batching.md, "The Java path": measured time and bytes). Any PNG reader decodes it.
     */
    public static byte[] encode(byte[] labels, int width, int height) {
        return encode(labels, width, height, Deflater.BEST_SPEED, true);
    }

    /** {@link #encode} with a chosen deflate level and filter (Up, or None): for the benchmark of the settings. */
    public static byte[] encode(byte[] labels, int width, int height, int level, boolean filterUp) {
        if (width <= 0 || height <= 0 || labels.length != width * height) {
            throw new IllegalArgumentException(
                    "label map has " + labels.length + " bytes, expected " + width + "x" + height);
        }
        byte[] raw = new byte[(width + 1) * height];
        for (int y = 0, o = 0; y < height; y++) {
            int row = y * width;
            if (!filterUp || y == 0) {
                raw[o++] = 0; // filter None
                System.arraycopy(labels, row, raw, o, width);
                o += width;
            } else {
                raw[o++] = 2; // filter Up: byte minus the byte above
                for (int x = 0; x < width; x++) {
                    raw[o++] = (byte) (labels[row + x] - labels[row - width + x]);
                }
            }
        }
        Deflater deflater = new Deflater(level);
        byte[] idat;
        try {
            deflater.setInput(raw);
            deflater.finish();
            ByteArrayOutputStream z = new ByteArrayOutputStream(Math.max(256, raw.length / 16));
            byte[] buf = new byte[16384];
            while (!deflater.finished()) {
                z.write(buf, 0, deflater.deflate(buf));
            }
            idat = z.toByteArray();
        } finally {
            deflater.end();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(idat.length + 64);
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, width);
        putInt(ihdr, 4, height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 0; // colour type: grayscale; compression, filter method and interlace stay 0
        chunk(out, "IHDR", ihdr);
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] len = new byte[4];
        putInt(len, 0, data.length);
        out.writeBytes(len);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** The label map PNG as ImageIO writes it (default deflate level, adaptive filters): the previous encoder. */
    public static byte[] encodeWithImageIo(byte[] labels, int width, int height) {
        if (labels.length != width * height) {
            throw new IllegalArgumentException(
                    "label map has " + labels.length + " bytes, expected " + width + "x" + height);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(labels, 0, data, 0, labels.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(256, labels.length / 16));
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer in this JVM");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Decodes an 8-bit grayscale PNG to its labels (row-major). */
    public static byte[] decode(byte[] png) {
        return read(png).labels();
    }

    /** Decodes an 8-bit grayscale PNG to labels plus size. */
    public static Image read(byte[] png) {
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (img == null) {
            throw new IllegalArgumentException("not a PNG image");
        }
        Raster r = img.getRaster();
        if (r.getNumBands() != 1 || r.getSampleModel().getSampleSize(0) != 8) {
            throw new IllegalArgumentException("label map PNG must be 8-bit single channel, found "
                    + r.getNumBands() + " band(s) of " + r.getSampleModel().getSampleSize(0) + " bits");
        }
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] labels = (byte[]) r.getDataElements(0, 0, w, h, new byte[w * h]);
        return new Image(labels, w, h);
    }
}
