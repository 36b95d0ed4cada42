package io.mpvss.render;

import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import io.mpvss.model.ModelManifest;

/**
 * Class names and colours of a model, indexed by class id; read from the bundle's {@code manifest.json}
 * ({@code classes: [{id, name, color: [r, g, b]}]}).
 *
 * <p>Ids not in the manifest render grey; 255 ("no prediction" / "ignore") is not painted.
 */
public final class Palette {

    /** Label value that is never painted. */
    public static final int NONE = 255;

    private static final int UNKNOWN_RGB = 0x808080;

    private final List<String> names;
    private final int[] rgb = new int[256];
    private final boolean[] known = new boolean[256];

    private Palette(List<String> names, int[] colours) {
        this.names = Collections.unmodifiableList(new ArrayList<>(names));
        java.util.Arrays.fill(rgb, UNKNOWN_RGB);
        for (int i = 0; i < colours.length; i++) {
            rgb[i] = colours[i] & 0xFFFFFF;
            known[i] = true;
        }
    }

    /** A palette of contiguous ids 0..n-1. */
    public static Palette of(List<String> names, List<Color> colours) {
        if (names.size() != colours.size()) {
            throw new IllegalArgumentException(names.size() + " names but " + colours.size() + " colours");
        }
        if (names.size() >= NONE) {
            throw new IllegalArgumentException("at most 255 classes, got " + names.size());
        }
        int[] c = new int[colours.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = colours.get(i).getRGB();
        }
        return new Palette(names, c);
    }

    /** The classes of a model bundle's {@code manifest.json}. */
    public static Palette fromManifest(Path bundleDir) {
        return of(ModelManifest.read(bundleDir));
    }

    /** The classes of a model, indexed by their ids (ids the manifest skips render grey, named classN). */
    public static Palette of(ModelManifest manifest) {
        int n = 0;
        for (ModelManifest.ClassInfo c : manifest.classes()) {
            n = Math.max(n, c.id() + 1);
        }
        if (n <= 0 || n >= NONE) {
            throw new IllegalArgumentException(manifest.modelId() + ": class ids must be in 0..254");
        }
        String[] names = new String[n];
        int[] colours = new int[n];
        java.util.Arrays.fill(colours, UNKNOWN_RGB);
        for (ModelManifest.ClassInfo c : manifest.classes()) {
            if (c.id() < 0) {
                throw new IllegalArgumentException(manifest.modelId() + ": class ids must be in 0..254");
            }
            names[c.id()] = c.name();
            colours[c.id()] = c.rgb();
        }
        for (int i = 0; i < n; i++) {
            if (names[i] == null) {
                names[i] = "class" + i;
            }
        }
        return new Palette(List.of(names), colours);
    }

    /** Number of classes. */
    public int size() {
        return names.size();
    }

    /** Class names in id order. */
    public List<String> names() {
        return names;
    }

    public String name(int id) {
        return id >= 0 && id < names.size() ? names.get(id) : (id == NONE ? "none" : "class" + id);
    }

    /** 0xRRGGBB of a class id (grey for unknown ids). */
    public int rgb(int id) {
        return rgb[id & 0xFF];
    }

    public Color color(int id) {
        return new Color(rgb(id));
    }

    public boolean isKnown(int id) {
        return known[id & 0xFF];
    }

    /** Class id of a name, or -1. */
    public int idOf(String name) {
        return names.indexOf(name);
    }

    /** A default palette for {@code n} classes (Cityscapes-like first colours), when no manifest is at hand. */
    public static Palette defaultPalette(int n) {
        int[] base = {0x804080, 0xF423E8, 0x464646, 0x6B8E23, 0x4682B4, 0xDC143C, 0x00008E, 0xFAAA1E, 0xDCDC00,
                0x98FB98, 0x666699, 0xBE9999, 0x999999, 0xFF0000, 0x000046, 0x003C64, 0x005064, 0x0000E6, 0x770B20};
        List<String> names = new ArrayList<>();
        List<Color> cols = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("class" + i);
            cols.add(new Color(i < base.length ? base[i] : Color.HSBtoRGB(i * 0.618f % 1f, 0.7f, 0.9f)));
        }
        return of(names, cols);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Palette[");
        for (int i = 0; i < names.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(i).append('=').append(names.get(i))
                    .append(String.format("#%06x", rgb[i]));
        }
        return sb.append(']').toString();
    }

    /** Names by id, as a map (for JSON). */
    public Map<Integer, String> asMap() {
        Map<Integer, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(i, names.get(i));
        }
        return m;
    }
}
