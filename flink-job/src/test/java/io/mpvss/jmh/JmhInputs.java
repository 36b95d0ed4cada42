package io.mpvss.jmh;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;

import javax.imageio.ImageIO;

/** Deterministic inputs shaped like a street scene at a given resolution (smooth gradients, edges, noise). */
final class JmhInputs {

    private JmhInputs() {
    }

    /** {@code "HxW"} -> {height, width}. */
    static int[] size(String hxw) {
        String[] p = hxw.toLowerCase().split("x");
        return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
    }

    static byte[] rgb(int h, int w, long seed) {
        Random r = new Random(seed);
        byte[] out = new byte[h * w * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = (y * w + x) * 3;
                boolean sky = y < h * 0.4;
                boolean road = y > h * 0.7;
                int base = sky ? 180 - y * 60 / h : road ? 90 : ((x / 24 + y / 16) % 2 == 0 ? 120 : 70);
                out[i] = (byte) clamp(base + r.nextInt(12) - 6 + (sky ? -40 : 0));
                out[i + 1] = (byte) clamp(base + r.nextInt(12) - 6);
                out[i + 2] = (byte) clamp(base + r.nextInt(12) - 6 + (sky ? 60 : 0));
            }
        }
        return out;
    }

    static byte[] jpeg(int h, int w, long seed) throws IOException {
        byte[] rgb = rgb(h, w, seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < rgb.length; i += 3) {
            bgr[i] = rgb[i + 2];
            bgr[i + 1] = rgb[i + 1];
            bgr[i + 2] = rgb[i];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** A label map with large regions (sky, buildings, road) and a few small objects, as a segmenter outputs. */
    static byte[] labels(int h, int w, long seed) {
        Random r = new Random(seed);
        byte[] out = new byte[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int c = y < h * 0.35 ? 4 : y > h * 0.7 ? 0 : y > h * 0.62 ? 1 : (x / (w / 7)) % 2 == 0 ? 2 : 3;
                out[y * w + x] = (byte) c;
            }
        }
        for (int o = 0; o < 6; o++) {
            int cy = (int) (h * (0.55 + 0.2 * r.nextDouble()));
            int cx = r.nextInt(w);
            int ry = h / 12 + r.nextInt(h / 12);
            int rx = w / 20 + r.nextInt(w / 20);
            for (int y = Math.max(0, cy - ry); y < Math.min(h, cy + ry); y++) {
                for (int x = Math.max(0, cx - rx); x < Math.min(w, cx + rx); x++) {
                    out[y * w + x] = (byte) (o % 2 == 0 ? 6 : 5);
                }
            }
        }
        return out;
    }

    static float[] floats(int n, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (r.nextGaussian() * 4);
        }
        return f;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
