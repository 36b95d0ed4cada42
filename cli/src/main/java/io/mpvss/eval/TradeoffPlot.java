package io.mpvss.eval;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * The quality/cost trade-off figure (mIoU against GFLOPs per frame, one point per key interval K, the per-frame
 * baseline marked), drawn with plain Java2D so it needs nothing but the JDK.
 */
public final class TradeoffPlot {

    /** One point. {@code series} groups points that are joined by a line (e.g. "MPVSS"). */
    public record Point(String series, String label, double gflops, double miou, boolean baseline) {
    }

    private final String title;
    private final List<Point> points = new ArrayList<>();
    private String footnote = "";

    public TradeoffPlot(String title) {
        this.title = title;
    }

    public TradeoffPlot add(Point p) {
        points.add(p);
        return this;
    }

    public TradeoffPlot footnote(String text) {
        this.footnote = text == null ? "" : text;
        return this;
    }

    public List<Point> points() {
        return List.copyOf(points);
    }

    /** Renders the figure to {@code out} (PNG), creating parent folders. */
    public void writePng(Path out, int width, int height) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = render(width, height);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        if (!ImageIO.write(img, "png", out.toFile())) {
            throw new IOException("no PNG writer");
        }
    }

    public BufferedImage render(int width, int height) {
        if (points.isEmpty()) {
            throw new IllegalStateException("nothing to plot");
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);

            int left = 80;
            int right = 30;
            int top = 50;
            int bottom = footnote.isEmpty() ? 60 : 80;
            int pw = width - left - right;
            int ph = height - top - bottom;

            double xmin = 0;
            double xmax = points.stream().mapToDouble(Point::gflops).max().orElse(1);
            double ymin = points.stream().mapToDouble(Point::miou).min().orElse(0);
            double ymax = points.stream().mapToDouble(Point::miou).max().orElse(1);
            double[] xs = niceRange(xmin, xmax * 1.08);
            double yPad = Math.max(0.01, (ymax - ymin) * 0.15);
            double[] ys = niceRange(Math.max(0, ymin - yPad), Math.min(1.0, ymax + yPad));

            // title
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            FontMetrics fm = g.getFontMetrics();
            g.drawString(title, (width - fm.stringWidth(title)) / 2, 30);

            // grid, ticks, tick labels
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            fm = g.getFontMetrics();
            for (double v = xs[0]; v <= xs[1] + xs[2] / 2; v += xs[2]) {
                int x = left + (int) Math.round((v - xs[0]) / (xs[1] - xs[0]) * pw);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(x, top, x, top + ph);
                g.setColor(Color.BLACK);
                g.drawLine(x, top + ph, x, top + ph + 5);
                String s = fmt(v, xs[2]);
                g.drawString(s, x - fm.stringWidth(s) / 2, top + ph + 20);
            }
            for (double v = ys[0]; v <= ys[1] + ys[2] / 2; v += ys[2]) {
                int y = top + ph - (int) Math.round((v - ys[0]) / (ys[1] - ys[0]) * ph);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(left, y, left + pw, y);
                g.setColor(Color.BLACK);
                g.drawLine(left - 5, y, left, y);
                String s = fmt(v * 100, ys[2] * 100);
                g.drawString(s, left - 8 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
            }
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.2f));
            g.drawRect(left, top, pw, ph);

            // axis labels
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            fm = g.getFontMetrics();
            String xl = "GFLOPs per frame (2 x MACs counted from the ONNX graphs)";
            g.drawString(xl, left + (pw - fm.stringWidth(xl)) / 2, top + ph + 42);
            String yl = "mIoU (%)";
            Graphics2D gr = (Graphics2D) g.create();
            gr.rotate(-Math.PI / 2);
            gr.drawString(yl, -(top + (ph + fm.stringWidth(yl)) / 2), 22);
            gr.dispose();
            if (!footnote.isEmpty()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.ITALIC, 11));
                g.setColor(Color.DARK_GRAY);
                g.drawString(footnote, 10, height - 10);
            }

            // series
            Color[] palette = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
                new Color(148, 103, 189)};
            List<String> series = points.stream().map(Point::series).distinct().toList();
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            fm = g.getFontMetrics();
            for (int si = 0; si < series.size(); si++) {
                String name = series.get(si);
                Color c = palette[si % palette.length];
                List<Point> ps = points.stream().filter(p -> p.series().equals(name))
                        .sorted(Comparator.comparingDouble(Point::gflops)).toList();
                Path2D line = new Path2D.Double();
                for (int i = 0; i < ps.size(); i++) {
                    double x = left + (ps.get(i).gflops() - xs[0]) / (xs[1] - xs[0]) * pw;
                    double y = top + ph - (ps.get(i).miou() - ys[0]) / (ys[1] - ys[0]) * ph;
                    if (i == 0) {
                        line.moveTo(x, y);
                    } else {
                        line.lineTo(x, y);
                    }
                }
                g.setColor(c);
                g.setStroke(new BasicStroke(2f));
                g.draw(line);
                for (Point p : ps) {
                    double x = left + (p.gflops() - xs[0]) / (xs[1] - xs[0]) * pw;
                    double y = top + ph - (p.miou() - ys[0]) / (ys[1] - ys[0]) * ph;
                    if (p.baseline()) {
                        // per-frame baseline: a larger star-like diamond with a dashed guide to the axes
                        g.setColor(new Color(200, 30, 30));
                        g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                                new float[] {5f, 4f}, 0f));
                        g.drawLine(left, (int) y, left + pw, (int) y);
                        Path2D d = new Path2D.Double();
                        d.moveTo(x, y - 9);
                        d.lineTo(x + 9, y);
                        d.lineTo(x, y + 9);
                        d.lineTo(x - 9, y);
                        d.closePath();
                        g.fill(d);
                    } else {
                        g.setColor(c);
                        g.fill(new Ellipse2D.Double(x - 5, y - 5, 10, 10));
                    }
                    g.setColor(Color.BLACK);
                    String lbl = p.label();
                    int lx = (int) x + 10;
                    if (lx + fm.stringWidth(lbl) > left + pw - 2) {
                        lx = (int) x - 10 - fm.stringWidth(lbl);
                    }
                    g.drawString(lbl, lx, (int) y - 8);
                }
            }

            // legend
            int ly = top + 12;
            int lx = left + 12;
            for (int si = 0; si < series.size(); si++) {
                g.setColor(palette[si % palette.length]);
                g.fill(new Ellipse2D.Double(lx, ly + si * 18 - 5, 10, 10));
                g.setColor(Color.BLACK);
                g.drawString(series.get(si), lx + 16, ly + si * 18 + 5);
            }
            if (points.stream().anyMatch(Point::baseline)) {
                int yy = ly + series.size() * 18;
                g.setColor(new Color(200, 30, 30));
                Path2D d = new Path2D.Double();
                d.moveTo(lx + 5, yy - 6);
                d.lineTo(lx + 11, yy);
                d.lineTo(lx + 5, yy + 6);
                d.lineTo(lx - 1, yy);
                d.closePath();
                g.fill(d);
                g.setColor(Color.BLACK);
                g.drawString("per-frame baseline (K=1, segmentor on every frame)", lx + 16, yy + 5);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** [lo, hi, step] with a 1/2/5 step giving about 5-8 ticks. */
    static double[] niceRange(double lo, double hi) {
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        double raw = (hi - lo) / 6;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = mag;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * mag >= raw) {
                step = m * mag;
                break;
            }
        }
        return new double[] {Math.floor(lo / step) * step, Math.ceil(hi / step) * step, step};
    }

    private static String fmt(double v, double step) {
        int decimals = 0;
        while (decimals < 4 && Math.abs(step * Math.pow(10, decimals) - Math.rint(step * Math.pow(10, decimals)))
                > 1e-6) {
            decimals++;
        }
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
