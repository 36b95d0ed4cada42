package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TradeoffPlotTest {

    @Test
    void writesAPngWithOnePointPerK(@TempDir Path dir) throws Exception {
        TradeoffPlot p = new TradeoffPlot("test");
        double[][] pts = {{1, 0.62, 0.70}, {2, 0.40, 0.69}, {5, 0.25, 0.66}, {10, 0.20, 0.62}};
        for (double[] q : pts) {
            p.add(new TradeoffPlot.Point("MPVSS", "K=" + (int) q[0], q[1], q[2], q[0] == 1));
        }
        p.footnote("note");
        Path out = dir.resolve("img/plot.png");
        p.writePng(out, 640, 400);
        byte[] head = new byte[8];
        System.arraycopy(Files.readAllBytes(out), 0, head, 0, 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
        // something was drawn in the plot area (not all white)
        boolean inked = false;
        for (int y = 60; y < 300 && !inked; y++) {
            for (int x = 90; x < 600; x++) {
                if ((img.getRGB(x, y) & 0xffffff) != 0xffffff) {
                    inked = true;
                    break;
                }
            }
        }
        assertNotEquals(false, inked);
    }

    @Test
    void niceRangeCoversTheData() {
        double[] r = TradeoffPlot.niceRange(0, 1.37);
        assertEquals(0, r[0], 1e-12);
        assertEquals(true, r[1] >= 1.37);
        assertEquals(true, (r[1] - r[0]) / r[2] <= 10);
    }
}
