package io.mpvss.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders one frame's segmentation for people: the frame with the class colours blended over it and class boundaries
 * traced, a header with stream, seq, capture time and a KEY / PROPAGATED badge (with the key frame's seq), and a
 * legend of class names, colours and pixel shares from the model's manifest. Java2D only.
 *
 * <p>Small frames are upscaled (integer factor, up to 4x) so that the output is at least {@link #minWidth} pixels
 * wide (default 480: a 256x128 frame is drawn 2x, a 512x256 frame as it is; upscaling costs about 6x the time,
 * mostly in PNG encoding). Without a frame the label map alone is drawn in the palette colours.
 */
public final class OverlayRenderer {

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    private final Palette palette;
    private float alpha = 0.5f;
    private int minWidth = 480;
    private boolean boundaries = true;

    public OverlayRenderer(Palette palette) {
        this.palette = palette;
    }

    public Palette palette() {
        return palette;
    }

    /** Opacity of the class colours over the frame, 0..1 (default 0.5). */
    public OverlayRenderer alpha(float a) {
        if (!(a >= 0 && a <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + a);
        }
        this.alpha = a;
        return this;
    }

    /** Frames narrower than this are upscaled by an integer factor (default 480; 0 = never). */
    public OverlayRenderer minWidth(int w) {
        this.minWidth = Math.max(0, w);
        return this;
    }

    /** Whether to trace class boundaries (default true). */
    public OverlayRenderer boundaries(boolean b) {
        this.boundaries = b;
        return this;
    }

    /** Integer upscale factor for a frame of this width. */
    public int scaleFor(int width) {
        if (minWidth <= 0 || width >= minWidth) {
            return 1;
        }
        return Math.min(4, (minWidth + width - 1) / width);
    }

    /**
     * The blended image alone (no header, legend or marks), at {@code scale} x the label map's size.
     *
     * @param frame the RGB frame (nullable: colours only); resized to the label map if its size differs
     * @param labels class id per pixel, row-major, 255 = no prediction (left unpainted)
     */
    public BufferedImage blend(BufferedImage frame, byte[] labels, int width, int height, int scale) {
        if (labels.length != width * height) {
            throw new IllegalArgumentException("label map has " + labels.length + " pixels, expected "
                    + width + "x" + height);
        }
        int ow = width * scale;
        int oh = height * scale;
        // the frame, bilinearly resized to the output size
        int[] base = new int[ow * oh];
        if (frame != null) {
            BufferedImage f = frame;
            if (f.getWidth() != ow || f.getHeight() != oh || f.getType() != BufferedImage.TYPE_INT_RGB) {
                f = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = Drawing.graphics(f);
                g.drawImage(frame, 0, 0, ow, oh, null);
                g.dispose();
            }
            f.getRGB(0, 0, ow, oh, base, 0, ow);
        }
        float a = frame == null ? 1f : alpha;
        int[] out = new int[ow * oh];
        for (int y = 0; y < oh; y++) {
            int ly = y / scale;
            for (int x = 0; x < ow; x++) {
                int i = y * ow + x;
                int lab = labels[ly * width + x / scale] & 0xFF;
                int b = base[i];
                if (lab == Palette.NONE) {
                    out[i] = frame == null ? 0x202020 : b;
                    continue;
                }
                int c = palette.rgb(lab);
                out[i] = mix(b, c, a);
            }
        }
        if (boundaries) {
            // a thin line where the class changes (computed at output resolution: 1 px wide)
            int lineRgb = frame == null ? 0x101010 : 0xFFFFFF;
            float la = frame == null ? 0.6f : 0.55f;
            for (int y = 0; y < oh; y++) {
                int ly = y / scale;
                int lyDown = Math.min(oh - 1, y + 1) / scale;
                for (int x = 0; x < ow; x++) {
                    int lx = x / scale;
                    int lxRight = Math.min(ow - 1, x + 1) / scale;
                    int l = labels[ly * width + lx];
                    if (l != labels[ly * width + lxRight] || l != labels[lyDown * width + lx]) {
                        int i = y * ow + x;
                        out[i] = mix(out[i], lineRgb, la);
                    }
                }
            }
        }
        BufferedImage img = new BufferedImage(ow, oh, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, ow, oh, out, 0, ow);
        return img;
    }

    private static int mix(int base, int over, float a) {
        int r = Math.round(((base >> 16) & 0xFF) * (1 - a) + ((over >> 16) & 0xFF) * a);
        int g = Math.round(((base >> 8) & 0xFF) * (1 - a) + ((over >> 8) & 0xFF) * a);
        int b = Math.round((base & 0xFF) * (1 - a) + (over & 0xFF) * a);
        return (r << 16) | (g << 8) | b;
    }

    /**
     * The full overlay: header, blended frame (key frames outlined), legend.
     *
     * @param frame the RGB frame, or null for the label map alone
     * @param labels class id per pixel, row-major, 255 = no prediction
     */
    public BufferedImage render(BufferedImage frame, byte[] labels, int width, int height, FrameInfo info) {
        int scale = scaleFor(width);
        BufferedImage body = blend(frame, labels, width, height, scale);
        int w = body.getWidth();
        float fs = Math.max(13f, Math.min(22f, w / 60f));
        int pad = Math.round(fs * 0.8f);
        int headerH = Math.round(fs * 2.6f);
        int legendH = Drawing.legend(null, palette, info.classPixels(), pad, 0, w - 2 * pad, fs * 0.9f);
        int footerH = legendH + Math.round(fs * 2.4f);
        int h = headerH + body.getHeight() + footerH;

        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = Drawing.graphics(img);
        g.setColor(Drawing.BG);
        g.fillRect(0, 0, w, h);

        // header: stream, seq, time | badge
        int cy = headerH / 2;
        Font bold = Drawing.font(Font.BOLD, fs);
        Font plain = Drawing.font(Font.PLAIN, fs * 0.85f);
        String badge = info.keyFrame()
                ? "KEY FRAME" + (info.keyReason() != null ? "  \u00b7  " + info.keyReason() : "")
                : String.format(Locale.ROOT, "PROPAGATED  \u2190 key #%d  (+%d)", info.keySeq(),
                        info.seq() - info.keySeq());
        int badgeX = Drawing.badgeRight(g, badge, w - pad, cy, info.keyFrame() ? Drawing.KEY : Drawing.PROPAGATED,
                info.keyFrame() ? Color.BLACK : Color.WHITE, Drawing.font(Font.BOLD, fs * 0.8f));
        g.setFont(bold);
        FontMetrics fmb = g.getFontMetrics();
        float baseline = cy + (fmb.getAscent() - fmb.getDescent()) / 2f;
        g.setColor(Drawing.TEXT);
        String stream = info.stream();
        g.drawString(stream, pad, baseline);
        int x = pad + fmb.stringWidth(stream) + Math.round(fs);
        g.setFont(plain);
        FontMetrics fmp = g.getFontMetrics();
        String seqText = "seq " + info.seq();
        if (x + fmp.stringWidth(seqText) < badgeX - pad) {
            g.setColor(Drawing.MUTED);
            g.drawString(seqText, x, baseline);
        }

        // body, key frames outlined
        g.drawImage(body, 0, headerH, null);
        Color accent = info.keyFrame() ? Drawing.KEY : Drawing.PROPAGATED;
        float stroke = info.keyFrame() ? Math.max(3f, fs / 5f) : 2f;
        g.setColor(accent);
        g.setStroke(new BasicStroke(stroke));
        g.drawRect(Math.round(stroke / 2), headerH + Math.round(stroke / 2), w - Math.round(stroke),
                body.getHeight() - Math.round(stroke));

        // footer: legend, then a small line of model / timing
        int fy = headerH + body.getHeight() + Math.round(fs * 0.5f);
        Drawing.legend(g, palette, info.classPixels(), pad, fy, w - 2 * pad, fs * 0.9f);
        // a small line: capture time, model, operator time, size (left out from the end when too narrow)
        List<String> parts = new ArrayList<>();
        if (info.captureTs() > 0) {
            parts.add(TIME.format(Instant.ofEpochMilli(info.captureTs())));
        }
        if (info.model() != null) {
            parts.add(info.model());
        }
        if (!Double.isNaN(info.processingMs())) {
            parts.add(String.format(Locale.ROOT, "%.1f ms in operator", info.processingMs()));
        }
        parts.add(width + "\u00d7" + height);
        g.setFont(Drawing.font(Font.PLAIN, fs * 0.75f));
        g.setColor(Drawing.MUTED);
        FontMetrics fms = g.getFontMetrics();
        String small = String.join("   \u00b7   ", parts);
        while (fms.stringWidth(small) > w - 2 * pad && parts.size() > 1) {
            parts.remove(parts.size() - 1);
            small = String.join("   \u00b7   ", parts);
        }
        g.drawString(small, pad, h - Math.round(fs * 0.6f));
        g.dispose();
        return img;
    }
}
