package io.mpvss.bench;

import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import io.mpvss.format.LabelMapPng;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;
/**
 * Label-map PNG encoder settings side by side: time and bytes per map for ImageIO's writer (the previous encoder)
 * and {@link LabelMapPng}'s direct writer at several deflate levels and filters, on the label PNGs of a clip folder
 * (DIR/<clip>/labels/*.png). Every variant runs in every round, interleaved, so machine load hits them alike; the
 * first round is warm-up. Usage: {@code LabelPngBench [--clips DIR] [--rounds N]}.
 */
public final class LabelPngBench {
    private LabelPngBench() {
    }

    public static void main(String[] args) throws Exception {
        BenchMain.run("LabelPngBench", null, args, LabelPngBench::bench);
    }

    static void bench(Args a) throws Exception {
        Path clips = RepoPaths.clipsDir(a);
        int rounds = a.getPositiveInt("rounds", 6);
        a.rejectUnknown();
        List<byte[]> maps = new ArrayList<>(); int w = 0, h = 0;
        try (var st = Files.walk(clips)) {
            for (Path p : st.filter(x -> x.toString().endsWith(".png") && x.toString().contains("/labels/")).sorted().toList()) {
                LabelMapPng.Image im = LabelMapPng.read(Files.readAllBytes(p)); maps.add(im.labels()); w = im.width(); h = im.height();
            }
        }
        System.out.printf("%d label maps %dx%d%n", maps.size(), w, h);
        String[] names = {"imageio (default level, adaptive filter)", "level 1, filter Up", "level 1, filter None", "level 6, filter Up", "level 9, filter Up"};
        double[] ms = new double[names.length]; long[] bytes = new long[names.length]; long n = 0;
        for (int r = 0; r < rounds; r++) {
            for (int v = 0; v < names.length; v++) {   // interleaved: every variant in every round
                long t0 = System.nanoTime(); long b = 0;
                for (byte[] m : maps) {
                    byte[] png = switch (v) { case 0 -> LabelMapPng.encodeWithImageIo(m, w, h);
                        case 1 -> LabelMapPng.encode(m, w, h, Deflater.BEST_SPEED, true);
                        case 2 -> LabelMapPng.encode(m, w, h, Deflater.BEST_SPEED, false);
                        case 3 -> LabelMapPng.encode(m, w, h, 6, true);
                        default -> LabelMapPng.encode(m, w, h, 9, true); };
                    b += png.length;
                    if (r == 0 && !Arrays.equals(LabelMapPng.decode(png), m)) throw new AssertionError("round trip " + v);
                }
                if (r > 0) { ms[v] += (System.nanoTime() - t0) / 1e6; bytes[v] += b; }
            }
            if (r > 0) n += maps.size();
        }
        for (int v = 0; v < names.length; v++)
            System.out.printf("%-42s %.3f ms/map  %.0f bytes/map  time x%.2f of imageio%n", names[v], ms[v] / n, (double) bytes[v] / n, ms[v] / ms[0]);
    }
}
