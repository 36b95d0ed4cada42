package io.mpvss.render;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import io.mpvss.model.InvalidBundleException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenderTest {

    @TempDir
    Path dir;

    private static final String MANIFEST = """
            {"name":"m","version":"1","contract":"mpvss/1","extra":{"x":1},
             "input":{"height":4,"width":8},"queries":4,"query_dim":8,"key_interval":5,
             "graphs":{"segmentor":{"file":"segmentor.onnx","sha256":"x"},
                       "propagator":{"file":"propagator.onnx","sha256":"y"}},
             "classes":[{"id":0,"name":"road","color":[128,64,128]},
                        {"id":1,"name":"sky","color":[70,130,180]},
                        {"id":2,"name":"car","color":[0,0,142]}]}
            """;

    private Palette palette() throws IOException {
        Files.writeString(dir.resolve("manifest.json"), MANIFEST);
        return Palette.fromManifest(dir);
    }

    @Test
    void paletteFromManifest() throws IOException {
        Palette p = palette();
        assertEquals(List.of("road", "sky", "car"), p.names());
        assertEquals(0x804080, p.rgb(0));
        assertEquals(0x00008E, p.rgb(2));
        assertEquals(0x808080, p.rgb(7), "unknown ids are grey");
        assertEquals(1, p.idOf("sky"));
        assertEquals("none", p.name(255));
        Path bad = Files.createDirectories(dir.resolve("bad"));
        Files.writeString(bad.resolve("manifest.json"), MANIFEST.replace(",\"color\":[0,0,142]", ""));
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> Palette.fromManifest(bad));
        assertTrue(e.getMessage().contains("color"), e.getMessage());
        assertThrows(InvalidBundleException.class, () -> Palette.fromManifest(dir.resolve("missing")));
    }

    @Test
    void blendMixesColoursAndLeavesNoPredictionUnpainted() throws IOException {
        Palette p = palette();
        BufferedImage frame = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 4; x++) {
                frame.setRGB(x, y, 0xFFFFFF);
            }
        }
        byte[] labels = {1, 1, (byte) 255, (byte) 255, 1, 1, (byte) 255, (byte) 255};
        BufferedImage full = new OverlayRenderer(p).alpha(1f).boundaries(false).blend(frame, labels, 4, 2, 1);
        assertEquals(0x4682B4, full.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0xFFFFFF, full.getRGB(3, 1) & 0xFFFFFF);
        BufferedImage half = new OverlayRenderer(p).alpha(0.5f).boundaries(false).blend(frame, labels, 4, 2, 2);
        assertEquals(8, half.getWidth());
        Color c = new Color(half.getRGB(1, 1));
        assertEquals((255 + 70) / 2.0, c.getRed(), 1.0);
        assertEquals((255 + 180) / 2.0, c.getBlue(), 1.0);
        assertThrows(IllegalArgumentException.class, () -> new OverlayRenderer(p).blend(null, labels, 3, 2, 1));
    }

    @Test
    void overlayHasHeaderLegendAndKeyOutline() throws IOException {
        Palette p = palette();
        byte[] labels = new byte[64 * 32];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (byte) (i % 64 < 32 ? 0 : 2);
        }
        OverlayRenderer r = new OverlayRenderer(p);
        assertEquals(4, r.scaleFor(64));
        assertEquals(1, r.scaleFor(1920));
        BufferedImage key = r.render(null, labels, 64, 32, new FrameInfo("cam-1", 10, 1_700_000_000_000L, true, 10,
                "interval", "m@1", 3.5, Map.of("road", 1024L, "sky", 0L, "car", 1024L)));
        assertEquals(256, key.getWidth());
        assertTrue(key.getHeight() > 128 + 40, "header and legend around the 256x128 body");
        BufferedImage prop = r.render(null, labels, 64, 32, FrameInfo.of("cam-1", 12, false, 10));
        // find the body's top-left outline pixel: amber for key frames, blue for propagated ones
        assertEquals(Drawing.KEY.getRGB(), key.getRGB(1, firstRowOfColor(key, Drawing.KEY)));
        assertTrue(firstRowOfColor(prop, Drawing.PROPAGATED) > 0);
    }

    private static int firstRowOfColor(BufferedImage img, Color c) {
        for (int y = 0; y < img.getHeight(); y++) {
            if (img.getRGB(1, y) == c.getRGB()) {
                return y;
            }
        }
        return -1;
    }

    @Test
    void contactSheetGridWrapsPerStream() throws IOException {
        Palette p = palette();
        ContactSheet cs = new ContactSheet(p, 40, 3).title("t", "s");
        byte[] labels = new byte[20 * 10];
        for (int i = 0; i < 5; i++) {
            cs.add("a", i, i % 2 == 0, i - i % 2, null, labels, 20, 10);
        }
        cs.add("b", 0, true, 0, null, labels, 20, 10);
        assertEquals(6, cs.size());
        BufferedImage img = cs.render();
        assertTrue(img.getWidth() >= 3 * 40);
        assertTrue(img.getHeight() >= 3 * 20, "3 rows: a wraps once, b");
    }
}
