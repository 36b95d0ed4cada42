package io.mpvss.eval;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Everything {@code mpvss eval} measured, with the markdown tables and the trade-off plot built from it. */
public record EvalReport(String data, String modelDir, String model, int inputWidth, int inputHeight, int clips,
                         int frames, double segmentorGmacs, double propagatorGmacs, List<String> classes,
                         Map<String, String> settings, List<EvalResult> results, List<EvalResult> compare,
                         Map<String, Object> modelCard) {

    static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f", 100 * v);
    }

    static String num(double v, int decimals) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    /** The per-frame baseline (K = 1) if it was run. */
    public EvalResult baseline() {
        return results.stream().filter(r -> r.k() == 1).findFirst().orElse(null);
    }

    /**
     * A per-K number of the bundle's model card ({@code metrics.<key>.k<K>}, in percent, measured by model-ops in
     * PyTorch), or NaN.
     */
    public double modelCard(String key, int k) {
        if (modelCard == null || !modelCard.containsKey(key)) {
            return Double.NaN;
        }
        com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper()
                .valueToTree(modelCard.get(key));
        com.fasterxml.jackson.databind.JsonNode v = n.path("k" + k);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    boolean hasModelCard(String key) {
        return results.stream().anyMatch(r -> !Double.isNaN(modelCard(key, r.k())));
    }

    public String toMarkdown() {
        StringBuilder sb = new StringBuilder();
        if (settings != null && !settings.isEmpty()) {
            sb.append("Job settings on top of the defaults: `").append(settings).append("`.\n\n");
        }
        EvalResult base = baseline();
        boolean card = hasModelCard("miou");
        boolean zero = hasModelCard("miou_zero_flow");
        sb.append("| K | mIoU (%) | Δ mIoU vs K=1 | mVC_8 (%) | mVC_16 (%) | GFLOPs/frame | FLOPs vs K=1 "
                + "| ms/frame (mean) | ms key / propagated | key frames |")
                .append(card ? " model card mIoU (PyTorch) |" : "")
                .append(zero ? " model card zero-flow mIoU |" : "").append('\n');
        sb.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|").append(card ? "---:|" : "")
                .append(zero ? "---:|" : "").append('\n');
        for (EvalResult r : results) {
            sb.append("| ").append(r.k())
                    .append(" | ").append(pct(r.miou()))
                    .append(" | ").append(base == null ? "n/a"
                            : String.format(Locale.ROOT, "%+.1f", 100 * (r.miou() - base.miou())))
                    .append(" | ").append(pct(r.mvc8()))
                    .append(" | ").append(pct(r.mvc16()))
                    .append(" | ").append(num(r.gflopsPerFrame(), 3))
                    .append(" | ").append(base == null ? "n/a"
                            : String.format(Locale.ROOT, "%.2fx", r.gflopsPerFrame() / base.gflopsPerFrame()))
                    .append(" | ").append(num(r.msPerFrame(), 2))
                    .append(" | ").append(num(r.msKeyFrame(), 2)).append(" / ").append(num(r.msNonKeyFrame(), 2))
                    .append(" | ").append(r.keyFrames()).append("/").append(r.frames())
                    .append(" |");
            if (card) {
                sb.append(' ').append(num(modelCard("miou", r.k()), 1)).append(" |");
            }
            if (zero) {
                sb.append(' ').append(num(modelCard("miou_zero_flow", r.k()), 1)).append(" |");
            }
            sb.append('\n');
        }
        if (card || zero) {
            sb.append("\nModel card columns: quoted from the bundle's manifest (`metrics`), measured by model-ops in "
                    + "PyTorch on its own evaluation of the test split; zero flow copies the key frame's masks to "
                    + "the following frames (no propagator), which the operator cannot run.\n");
        }
        sb.append("\nPer-class IoU (%):\n\n| K |");
        for (String c : classes) {
            sb.append(' ').append(c).append(" |");
        }
        sb.append("\n|---:|");
        sb.append("---:|".repeat(classes.size()));
        sb.append('\n');
        for (EvalResult r : results) {
            sb.append("| ").append(r.k()).append(" |");
            for (String c : classes) {
                sb.append(' ').append(pct(r.perClassIoU().getOrDefault(c, Double.NaN))).append(" |");
            }
            sb.append('\n');
        }
        if (!compare.isEmpty()) {
            sb.append("\nState compaction (same pipeline, K=").append(compare.get(0).k()).append("):\n\n");
            sb.append("| setting | mIoU (%) | mVC_8 (%) | mVC_16 (%) | ms/frame |\n|---|---:|---:|---:|---:|\n");
            for (EvalResult r : compare) {
                sb.append("| `").append(r.variant()).append("` | ").append(pct(r.miou())).append(" | ")
                        .append(pct(r.mvc8())).append(" | ").append(pct(r.mvc16())).append(" | ")
                        .append(num(r.msPerFrame(), 2)).append(" |\n");
            }
        }
        return sb.toString();
    }

    public TradeoffPlot plot(String title) {
        TradeoffPlot p = new TradeoffPlot(title != null ? title
                : String.format(Locale.ROOT, "%s: mIoU vs compute (%d clips, %d frames, %dx%d)", model, clips,
                        frames, inputWidth, inputHeight));
        for (EvalResult r : results) {
            p.add(new TradeoffPlot.Point("MPVSS operator (key interval K)", "K=" + r.k(), r.gflopsPerFrame(),
                    r.miou(), r.k() == 1));
        }
        for (EvalResult r : results) {
            double z = modelCard("miou_zero_flow", r.k());
            if (!Double.isNaN(z) && r.k() > 1) {
                p.add(new TradeoffPlot.Point("zero flow: key masks copied (model card, PyTorch; cost 2S/K)",
                        "K=" + r.k(), 2 * segmentorGmacs / r.k(), z / 100, false));
            }
        }
        p.footnote(String.format(Locale.ROOT, "GFLOPs/frame = 2 x (S + (K-1) P) / K, S = %.3f, P = %.3f GMAC "
                + "(manifest); mIoU on %s", segmentorGmacs, propagatorGmacs, data));
        return p;
    }
}
