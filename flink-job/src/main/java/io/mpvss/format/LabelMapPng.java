package io.mpvss.format;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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

    /** Encodes {@code labels} (row-major, {@code width*height} bytes) as an 8-bit grayscale PNG. */
    public static byte[] encode(byte[] labels, int width, int height) {
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
