package io.mpvss.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Locale;
import java.util.Map;

/** Shared look: colours, fonts, badges and the class legend. */
final class Drawing {

    static final Color BG = new Color(0x15, 0x17, 0x1c);
    static final Color PANEL = new Color(0x1f, 0x23, 0x2b);
    static final Color TEXT = new Color(0xEC, 0xEF, 0xF4);
    static final Color MUTED = new Color(0x9A, 0xA3, 0xB2);
    static final Color KEY = new Color(0xFF, 0xB3, 0x00);
    static final Color PROPAGATED = new Color(0x2E, 0xA6, 0xD9);
    static final String FONT = "SansSerif";

    private Drawing() {
    }

    static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        return g;
    }

    static Font font(int style, float size) {
        return new Font(FONT, style, 1).deriveFont(size);
    }

    /** Draws a rounded badge whose right edge is at {@code right}; returns its left x. */
    static int badgeRight(Graphics2D g, String text, int right, int centerY, Color fill, Color textColor, Font f) {
        g.setFont(f);
        FontMetrics fm = g.getFontMetrics();
        int padX = Math.round(f.getSize2D() * 0.6f);
        int w = fm.stringWidth(text) + 2 * padX;
        int h = Math.round(fm.getAscent() + fm.getDescent() + f.getSize2D() * 0.35f);
        int x = right - w;
        int y = centerY - h / 2;
        g.setColor(fill);
        g.fillRoundRect(x, y, w, h, h / 2, h / 2);
        g.setColor(textColor);
        g.drawString(text, x + padX, centerY + (fm.getAscent() - fm.getDescent()) / 2f);
        return x;
    }

    /** Text colour readable on {@code bg}. */
    static Color onColor(Color bg) {
        double l = 0.2126 * bg.getRed() + 0.7152 * bg.getGreen() + 0.0722 * bg.getBlue();
        return l > 150 ? Color.BLACK : Color.WHITE;
    }

    /**
     * Lays out (and if {@code g != null} draws) the legend: a swatch and a name per class, with the class's share
     * of pixels when {@code classPixels} is given; wraps to the width. Returns the height used.
     */
    static int legend(Graphics2D g, Palette palette, Map<String, Long> classPixels, int x0, int y0, int width,
                      float fontSize) {
        Font f = font(Font.PLAIN, fontSize);
        BufferedImage scratch = null;
        Graphics2D m = g;
        if (m == null) {
            scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            m = graphics(scratch);
        }
        m.setFont(f);
        FontMetrics fm = m.getFontMetrics();
        long total = 0;
        if (classPixels != null) {
            for (Long v : classPixels.values()) {
                total += v == null ? 0 : v;
            }
        }
        int sw = Math.round(fontSize * 1.05f);
        int gap = Math.round(fontSize * 1.3f);
        int lineH = Math.round(fontSize * 1.75f);
        int x = x0;
        int y = y0;
        for (int id = 0; id < palette.size(); id++) {
            String name = palette.name(id);
            String label = name;
            boolean present = true;
            if (total > 0) {
                long px = classPixels.getOrDefault(name, 0L);
                present = px > 0;
                double pct = 100.0 * px / total;
                label = name + (present ? String.format(Locale.ROOT, "  %s%%", pct >= 9.95 ? String.format(
                        Locale.ROOT, "%.0f", pct) : String.format(Locale.ROOT, "%.1f", pct)) : "");
            }
            int itemW = sw + Math.round(fontSize * 0.5f) + fm.stringWidth(label);
            if (x > x0 && x + itemW > x0 + width) {
                x = x0;
                y += lineH;
            }
            if (g != null) {
                int cy = y + lineH / 2;
                Color c = palette.color(id);
                g.setColor(present ? c : c.darker().darker());
                g.fillRoundRect(x, cy - sw / 2, sw, sw, sw / 3, sw / 3);
                g.setColor(new Color(255, 255, 255, present ? 140 : 50));
                g.setStroke(new BasicStroke(1f));
                g.drawRoundRect(x, cy - sw / 2, sw, sw, sw / 3, sw / 3);
                g.setColor(present ? TEXT : MUTED.darker());
                g.drawString(label, x + sw + Math.round(fontSize * 0.5f), cy + (fm.getAscent() - fm.getDescent()) / 2f);
            }
            x += itemW + gap;
        }
        if (scratch != null) {
            m.dispose();
        }
        return y + lineH - y0;
    }
}
