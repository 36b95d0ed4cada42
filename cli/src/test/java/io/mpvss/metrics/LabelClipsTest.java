package io.mpvss.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelClipsTest {

    @TempDir
    Path root;

    private static void writeRgb(Path p, String fmt) throws IOException {
        Files.createDirectories(p.getParent());
        BufferedImage img = new BufferedImage(8, 4, BufferedImage.TYPE_3BYTE_BGR);
        img.setRGB(1, 1, 0xff8040);
        ImageIO.write(img, fmt, p.toFile());
    }

    private static void writeGrayLabel(Path p, int w, int h) throws IOException {
        Files.createDirectories(p.getParent());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, x == 0 ? 255 : (x + y) % 7);
            }
        }
        ImageIO.write(img, "png", p.toFile());
    }

    @Test
    void listsClipsFramesAndLabels() throws IOException {
        for (int i = 0; i < 3; i++) {
            writeRgb(root.resolve("b/frames/00000" + i + ".jpg"), "jpg");
        }
        writeGrayLabel(root.resolve("b/labels/000000.png"), 8, 4);
        writeGrayLabel(root.resolve("b/labels/000002.png"), 8, 4);
        writeRgb(root.resolve("a/frames/000000.png"), "png");
        Files.createDirectories(root.resolve("not-a-clip"));
        Files.writeString(root.resolve("README.txt"), "x");
        Files.writeString(root.resolve("b/frames/notes.txt"), "x");

        List<LabelClips.Clip> clips = LabelClips.list(root);
        assertEquals(2, clips.size());
        assertEquals("a", clips.get(0).id());
        LabelClips.Clip b = clips.get(1);
        assertEquals(3, b.frames().size());
        assertEquals(2, b.labelledFrames());
        assertTrue(b.frames().get(0).hasLabel());
        assertNull(b.frames().get(1).label());
        assertEquals("000002", b.frames().get(2).name());
        assertEquals(2, b.frames().get(2).index());

        LabelClips.LabelMap m = LabelClips.readLabel(b.frames().get(2).label());
        assertEquals(8, m.width());
        assertEquals(4, m.height());
        assertEquals(255, m.at(0, 3));
        assertEquals((5 + 2) % 7, m.at(5, 2));

        // a clip folder itself is accepted as root
        assertEquals(1, LabelClips.list(root.resolve("b")).size());
    }

    @Test
    void paletteLabelsKeepTheirIndices() throws IOException {
        byte[] r = new byte[256];
        byte[] g = new byte[256];
        byte[] bl = new byte[256];
        for (int i = 0; i < 256; i++) {
            r[i] = (byte) (255 - i); // colours unrelated to the index
        }
        BufferedImage img = new BufferedImage(4, 2, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, 256, r, g, bl));
        img.getRaster().setSample(3, 1, 0, 6);
        Path p = root.resolve("p.png");
        ImageIO.write(img, "png", p.toFile());
        LabelClips.LabelMap m = LabelClips.readLabel(p);
        assertEquals(6, m.at(3, 1));
        assertEquals(0, m.at(0, 0));
    }

    @Test
    void rgbLabelIsRefusedWithAClearMessage() throws IOException {
        Path p = root.resolve("rgb.png");
        writeRgb(p, "png");
        IOException e = assertThrows(IOException.class, () -> LabelClips.readLabel(p));
        assertTrue(e.getMessage().contains("8-bit single-channel"), e.getMessage());
    }

    @Test
    void missingAndEmptyRoots() throws IOException {
        assertThrows(NoSuchFileException.class, () -> LabelClips.list(root.resolve("nope")));
        Files.createDirectories(root.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> LabelClips.list(root.resolve("empty")));
        assertTrue(e.getMessage().contains("no clips"));
        assertFalse(LabelClips.isImage(Path.of("x.txt")));
    }
}
