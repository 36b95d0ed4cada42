package io.mpvss.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A grid of blended thumbnails: one row (or more, wrapped) per stream, in seq order, key frames outlined in amber,
 * propagated frames captioned with their key frame's seq; a title and the class legend. Thumbnails are scaled when
 * added, so a sheet of many frames stays small in memory.
 */
public final class ContactSheet {

    private final Palette palette;
    private final OverlayRenderer blender;
    private final int thumbWidth;
    private final int maxColumns;
    private final Map<String, List<Tile>> rows = new LinkedHashMap<>();
    private String title = "MPVSS";
    private String subtitle = "";

    private record Tile(long seq, boolean keyFrame, long keySeq, BufferedImage thumb) {
    }

    /**
     * @param thumbWidth width of each thumbnail in pixels
     * @param maxColumns tiles per row before a stream wraps to another row
     */
    public ContactSheet(Palette palette, int thumbWidth, int maxColumns) {
        if (thumbWidth < 16 || maxColumns < 1) {
            throw new IllegalArgumentException("thumbWidth >= 16 and maxColumns >= 1 required");
        }
        this.palette = palette;
        this.blender = new OverlayRenderer(palette).minWidth(0);
        this.thumbWidth = thumbWidth;
        this.maxColumns = maxColumns;
    }

    public ContactSheet title(String title, String subtitle) {
        this.title = title;
        this.subtitle = subtitle == null ? "" : subtitle;
        return this;
    }

    /** Number of tiles added. */
    public int size() {
        return rows.values().stream().mapToInt(List::size).sum();
    }

    /** Adds one frame (frame may be null: colours only). */
    public synchronized ContactSheet add(String stream, long seq, boolean keyFrame, long keySeq, BufferedImage frame,
                                         byte[] labels, int width, int height) {
        BufferedImage blended = blender.blend(frame, labels, width, height, 1);
        int th = Math.max(1, Math.round((float) thumbWidth * height / width));
        BufferedImage thumb = new BufferedImage(thumbWidth, th, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.graphics(thumb);
        g.drawImage(blended, 0, 0, thumbWidth, th, null);
        g.dispose();
        rows.computeIfAbsent(stream, s -> new ArrayList<>()).add(new Tile(seq, keyFrame, keySeq, thumb));
        return this;
    }

    /** Draws the sheet. */
    public synchronized BufferedImage render() {
        // streams by name, tiles by seq, whatever order they were added in (renderers may run in parallel)
        java.util.TreeMap<String, List<Tile>> sorted = new java.util.TreeMap<>();
        rows.forEach((k, v) -> {
            List<Tile> l = new ArrayList<>(v);
            l.sort(java.util.Comparator.comparingLong(Tile::seq));
            sorted.put(k, l);
        });
        float fs = 15f;
        int pad = 16;
        int gap = 10;
        int labelW = 0;
        int thumbH = 0;
        int columns = 1;
        int rowCount = 0;
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D m = Drawing.graphics(scratch);
        m.setFont(Drawing.font(Font.BOLD, fs));
        for (Map.Entry<String, List<Tile>> e : sorted.entrySet()) {
            labelW = Math.max(labelW, m.getFontMetrics().stringWidth(e.getKey()));
            for (Tile t : e.getValue()) {
                thumbH = Math.max(thumbH, t.thumb.getHeight());
            }
            int n = e.getValue().size();
            columns = Math.max(columns, Math.min(maxColumns, n));
            rowCount += Math.max(1, (n + maxColumns - 1) / maxColumns);
        }
        m.dispose();
        labelW = Math.min(Math.max(labelW + gap, 90), 260);
        int captionH = Math.round(fs * 1.6f);
        int cellH = thumbH + captionH + gap;
        int width = pad + labelW + columns * (thumbWidth + gap) - gap + pad;
        int headerH = Math.round(fs * 4.8f);
        int legendH = Drawing.legend(null, palette, null, pad, 0, width - 2 * pad, fs);
        int height = headerH + rowCount * cellH + legendH + pad * 2;

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.graphics(img);
        g.setColor(Drawing.BG);
        g.fillRect(0, 0, width, height);

        // title and subtitle, a key to the outline colours on the right
        g.setColor(Drawing.TEXT);
        g.setFont(Drawing.font(Font.BOLD, fs * 1.35f));
        g.drawString(title, pad, pad + fs * 1.3f);
        g.setColor(Drawing.MUTED);
        g.setFont(Drawing.font(Font.PLAIN, fs * 0.9f));
        g.drawString(subtitle, pad, pad + fs * 2.8f);
        Font badgeFont = Drawing.font(Font.BOLD, fs * 0.8f);
        int by = Math.round(pad + fs * 0.9f);
        int bx = Drawing.badgeRight(g, "#seq \u2190 key #k: mask propagated from key frame k", width - pad, by,
                Drawing.PANEL, Drawing.MUTED, badgeFont);
        Drawing.badgeRight(g, "KEY FRAME: segmentor ran", bx - gap, by, Drawing.KEY, Color.BLACK, badgeFont);

        int y = headerH;
        Font caption = Drawing.font(Font.PLAIN, fs * 0.8f);
        Font captionBold = Drawing.font(Font.BOLD, fs * 0.8f);
        for (Map.Entry<String, List<Tile>> e : sorted.entrySet()) {
            List<Tile> tiles = e.getValue();
            g.setFont(Drawing.font(Font.BOLD, fs));
            g.setColor(Drawing.TEXT);
            FontMetrics fm = g.getFontMetrics();
            String name = e.getKey();
            while (fm.stringWidth(name) > labelW - gap && name.length() > 4) {
                name = name.substring(0, name.length() - 2) + "\u2026";
            }
            g.drawString(name, pad, y + thumbH / 2f + fm.getAscent() / 2f);
            for (int i = 0; i < tiles.size(); i++) {
                if (i > 0 && i % maxColumns == 0) {
                    y += cellH;
                }
                Tile t = tiles.get(i);
                int x = pad + labelW + (i % maxColumns) * (thumbWidth + gap);
                g.drawImage(t.thumb, x, y, null);
                if (t.keyFrame) {
                    g.setColor(Drawing.KEY);
                    g.setStroke(new BasicStroke(4f));
                    g.drawRect(x - 1, y - 1, thumbWidth + 1, t.thumb.getHeight() + 1);
                } else {
                    g.setColor(new Color(255, 255, 255, 40));
                    g.setStroke(new BasicStroke(1f));
                    g.drawRect(x, y, thumbWidth - 1, t.thumb.getHeight() - 1);
                }
                float cb = y + t.thumb.getHeight() + fs * 1.15f;
                if (t.keyFrame) {
                    g.setFont(captionBold);
                    g.setColor(Drawing.KEY);
                    g.drawString(String.format(Locale.ROOT, "#%d  KEY", t.seq), x, cb);
                } else {
                    g.setFont(caption);
                    g.setColor(Drawing.MUTED);
                    g.drawString(String.format(Locale.ROOT, "#%d  \u2190 key #%d", t.seq, t.keySeq), x, cb);
                }
            }
            y += cellH;
        }
        g.setColor(Drawing.PANEL);
        g.fillRect(0, y, width, height - y);
        Drawing.legend(g, palette, null, pad, y + pad / 2, width - 2 * pad, fs);
        g.dispose();
        return img;
    }
}
