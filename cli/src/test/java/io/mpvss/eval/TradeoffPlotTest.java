package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TradeoffPlotTest {

    /** The plot's series colours (TradeoffPlot's palette) and the baseline's red. */
    private static final int FIRST_SERIES = 0x1F77B4;
    private static final int SECOND_SERIES = 0xFF7F0E;
    private static final int BASELINE = 0xC81E1E;
    /** The plot area of a 640x400 image with a footnote: left 80, right 30, top 50, bottom 80. */
    private static final int LEFT = 80;
    private static final int TOP = 50;
    private static final int RIGHT_EDGE = 610;
    private static final int BOTTOM_EDGE = 320;

    private static TradeoffPlot plot() {
        TradeoffPlot p = new TradeoffPlot("test");
        double[][] pts = {{1, 0.62, 0.70}, {2, 0.40, 0.69}, {5, 0.25, 0.66}, {10, 0.20, 0.62}};
        for (double[] q : pts) {
            p.add(new TradeoffPlot.Point("MPVSS", "K=" + (int) q[0], q[1], q[2], q[0] == 1));
        }
        p.add(new TradeoffPlot.Point("zero flow", "K=5", 0.25, 0.55, false));
        p.add(new TradeoffPlot.Point("zero flow", "K=10", 0.20, 0.50, false));
        p.footnote("note");
        return p;
    }

    /** Pixels of exactly {@code rgb} inside the plot area, right of the legend: {x, y} each. */
    private static List<int[]> pixels(BufferedImage img, int rgb) {
        List<int[]> r = new ArrayList<>();
        for (int y = TOP + 1; y < BOTTOM_EDGE; y++) {
            for (int x = LEFT + 60; x < RIGHT_EDGE; x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    r.add(new int[] {x, y});
                }
            }
        }
        return r;
    }

    private static double meanY(List<int[]> px, int fromX, int toX) {
        return px.stream().filter(p -> p[0] >= fromX && p[0] <= toX).mapToInt(p -> p[1]).average().orElseThrow();
    }

    @Test
    void writesAPngOfTheRequestedSize(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("img/plot.png");
        plot().writePng(out, 640, 400);
        byte[] head = new byte[8];
        System.arraycopy(Files.readAllBytes(out), 0, head, 0, 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(640, img.getWidth());
        assertEquals(400, img.getHeight());
    }

    @Test
    void eachSeriesIsDrawnInItsColourWithTheBaselineMarked() {
        BufferedImage img = plot().render(640, 400);
        List<int[]> first = pixels(img, FIRST_SERIES);
        List<int[]> second = pixels(img, SECOND_SERIES);
        // three non-baseline disks (radius 5) and the line of the first series; two disks and a line of the second
        assertTrue(first.size() > 150, "first series pixels: " + first.size());
        assertTrue(second.size() > 100, "second series pixels: " + second.size());
        assertTrue(pixels(img, BASELINE).size() > 100, "the K=1 baseline diamond and its guide line");
    }

    @Test
    void axesGrowRightwardWithFlopsAndUpwardWithMiou() {
        BufferedImage img = plot().render(640, 400);
        // the frame of the plot area is drawn
        for (int y = TOP + 10; y < BOTTOM_EDGE - 10; y += 10) {
            assertTrue((img.getRGB(LEFT, y) & 0xFF) < 128, "left axis at y=" + y);
        }
        for (int x = LEFT + 10; x < RIGHT_EDGE - 10; x += 10) {
            assertTrue((img.getRGB(x, BOTTOM_EDGE) & 0xFF) < 128, "bottom axis at x=" + x);
        }
        List<int[]> first = pixels(img, FIRST_SERIES);
        int minX = first.stream().mapToInt(p -> p[0]).min().orElseThrow();
        int maxX = first.stream().mapToInt(p -> p[0]).max().orElseThrow();
        // within the first series, K=10 (fewest GFLOPs, lowest mIoU) is left and low, K=2 right and high
        assertTrue(meanY(first, minX, minX + 8) > meanY(first, maxX - 8, maxX), "mIoU rises with GFLOPs");
        // at the same GFLOPs (K=10), zero flow (50 %) is drawn below MPVSS (62 %)
        List<int[]> second = pixels(img, SECOND_SERIES);
        int secondMinX = second.stream().mapToInt(p -> p[0]).min().orElseThrow();
        assertTrue(Math.abs(secondMinX - minX) <= 3, "the same GFLOPs at the same x: " + secondMinX + " vs " + minX);
        assertTrue(meanY(second, secondMinX, secondMinX + 8) > meanY(first, minX, minX + 8), "lower mIoU lower");
    }

    @Test
    void nothingToPlotIsAnError() {
        assertThrows(IllegalStateException.class, () -> new TradeoffPlot("empty").render(640, 400));
    }

    @Test
    void niceRangeCoversTheData() {
        double[] r = TradeoffPlot.niceRange(0, 1.37);
        assertEquals(0, r[0], 1e-12);
        assertTrue(r[1] >= 1.37);
        assertTrue((r[1] - r[0]) / r[2] <= 10);
        assertTrue((r[1] - r[0]) / r[2] >= 4, "at least a few ticks");
    }
}
