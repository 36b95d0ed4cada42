package io.mpvss.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

/** The direct label-map PNG writer: what ImageIO reads back from it, for every filter and level. */
class LabelMapPngTest {

    /** A label map like the model's: flat regions with boundaries, a few 255 (no prediction) pixels. */
    static byte[] regions(int w, int h, long seed) {
        Random r = new Random(seed);
        byte[] l = new byte[w * h];
        int cut = r.nextInt(h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int c = y < cut ? 4 : (x + y / 3) % 97 < 40 ? 0 : 2;
                l[y * w + x] = (byte) (r.nextInt(200) == 0 ? 255 : c);
            }
        }
        return l;
    }

    @Test
    void imageIoReadsBackEveryPixelAtEverySizeFilterAndLevel() {
        int[][] sizes = {{1, 1}, {3, 1}, {1, 5}, {7, 3}, {512, 256}, {321, 179}};
        for (int[] s : sizes) {
            byte[] structured = regions(s[0], s[1], s[0] * 31L + s[1]);
            byte[] noise = new byte[s[0] * s[1]];
            new Random(s[0]).nextBytes(noise); // every byte value, including wrap-around in the Up filter
            for (byte[] labels : new byte[][] {structured, noise}) {
                for (int level : new int[] {Deflater.BEST_SPEED, Deflater.DEFAULT_COMPRESSION, 9}) {
                    for (boolean up : new boolean[] {true, false}) {
                        LabelMapPng.Image im = LabelMapPng.read(LabelMapPng.encode(labels, s[0], s[1], level, up));
                        assertEquals(s[0], im.width());
                        assertEquals(s[1], im.height());
                        assertArrayEquals(labels, im.labels(), s[0] + "x" + s[1] + " level " + level + " up " + up);
                    }
                }
                assertArrayEquals(LabelMapPng.decode(LabelMapPng.encodeWithImageIo(labels, s[0], s[1])),
                        LabelMapPng.decode(LabelMapPng.encode(labels, s[0], s[1])));
            }
        }
    }

    @Test
    void aWrongSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LabelMapPng.encode(new byte[5], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> LabelMapPng.encode(new byte[0], 0, 0));
    }
}
