package io.mpvss.format;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Synthetic camera frames: moving coloured shapes on a gradient, different per stream, encoded as JPEG or PNG. */
public final class TestFrames {

    private TestFrames() {}

    public static BufferedImage image(int width, int height, int stream, long t) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        for (int y = 0; y < height; y++) {
            g.setColor(new Color(40 + (y * 120 / height), 90 + stream * 30 % 100, 200 - (y * 150 / height)));
            g.drawLine(0, y, width, y);
        }
        g.setColor(new Color(90, 90, 90));
        g.fillRect(0, height * 2 / 3, width, height / 3);
        int x = (int) ((t * (3 + stream) + stream * 37) % (width + 40)) - 20;
        g.setColor(new Color(200, 30 + 50 * stream % 200, 40));
        g.fillRect(x, height / 2, width / 6, height / 5);
        int cx = (int) (width - (t * 2 + stream * 19) % width);
        g.setColor(new Color(30, 160, 60 + 40 * stream % 180));
        g.fillOval(cx, height / 5, height / 4, height / 4);
        g.dispose();
        return img;
    }

    /** Random pixels: a JPEG of them is mostly scan data, so a cut lands inside the scan (a partial decode). */
    public static BufferedImage noise(int width, int height, long seed) {
        java.util.Random rnd = new java.util.Random(seed);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        return img;
    }

    public static byte[] jpeg(int width, int height, int stream, long t) {
        return encode(image(width, height, stream, t), "jpg");
    }

    public static byte[] png(int width, int height, int stream, long t) {
        return encode(image(width, height, stream, t), "png");
    }

    public static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, format, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
