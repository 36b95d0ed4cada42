package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;

class VideoFramesTest {

    private static byte[] jpeg(int w, int h, long seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Random r = new Random(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    @Test
    void splitsConcatenatedJpegsExactly() throws IOException {
        List<byte[]> images = new ArrayList<>();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            byte[] j = jpeg(17 + 13 * i, 9 + 7 * i, i); // noise: many 0xFF bytes in the entropy-coded data
            images.add(j);
            stream.write(j);
        }
        InputStream in = new ByteArrayInputStream(stream.toByteArray());
        for (byte[] expected : images) {
            assertArrayEquals(expected, VideoFrames.nextJpeg(in));
        }
        assertNull(VideoFrames.nextJpeg(in));
    }

    @Test
    void truncatedAndForeignStreamsFail() throws IOException {
        byte[] j = jpeg(16, 16, 1);
        byte[] cut = java.util.Arrays.copyOf(j, j.length / 2);
        assertThrows(IOException.class, () -> VideoFrames.nextJpeg(new ByteArrayInputStream(cut)));
        assertThrows(IOException.class, () -> VideoFrames.nextJpeg(new ByteArrayInputStream(new byte[] {1, 2, 3})));
    }
}
