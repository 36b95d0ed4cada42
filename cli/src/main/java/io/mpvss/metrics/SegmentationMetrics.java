package io.mpvss.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Summary of a {@link ConfusionMatrix} with class names: mIoU, per-class IoU, pixel accuracy.
 *
 * <p>Per-class IoU is NaN (JSON: absent / null) for classes in neither ground truth nor prediction; they do not count
 * towards the mean.
 *
 * @param meanIoU mean IoU over present classes, in [0, 1] (NaN if nothing was evaluated)
 * @param pixelAccuracy fraction of evaluated pixels predicted correctly
 * @param pixels evaluated pixels (ignore label excluded)
 * @param perClassIoU IoU by class name, in class id order
 * @param perClassPixels ground-truth pixels by class name, in class id order
 */
public record SegmentationMetrics(double meanIoU, double pixelAccuracy, long pixels,
                                  Map<String, Double> perClassIoU, Map<String, Long> perClassPixels) {

    public static SegmentationMetrics of(ConfusionMatrix cm, List<String> classNames) {
        if (classNames.size() != cm.numClasses()) {
            throw new IllegalArgumentException(classNames.size() + " class names for a matrix of "
                    + cm.numClasses() + " classes");
        }
        Map<String, Double> iou = new LinkedHashMap<>();
        Map<String, Long> px = new LinkedHashMap<>();
        for (int c = 0; c < cm.numClasses(); c++) {
            iou.put(classNames.get(c), cm.iou(c));
            px.put(classNames.get(c), cm.groundTruthPixels(c));
        }
        return new SegmentationMetrics(cm.meanIoU(), cm.pixelAccuracy(), cm.totalPixels(),
                Collections.unmodifiableMap(iou), Collections.unmodifiableMap(px));
    }

    /** Class names with a defined IoU, in class id order. */
    public List<String> presentClasses() {
        List<String> r = new ArrayList<>();
        perClassIoU.forEach((k, v) -> {
            if (!Double.isNaN(v)) {
                r.add(k);
            }
        });
        return r;
    }

    /** A Markdown table: class, IoU (%), ground-truth pixels. */
    public String toMarkdownTable() {
        StringBuilder sb = new StringBuilder("| class | IoU (%) | GT pixels |\n|---|---:|---:|\n");
        perClassIoU.forEach((name, v) -> sb.append("| ").append(name).append(" | ")
                .append(Double.isNaN(v) ? "n/a" : String.format(java.util.Locale.ROOT, "%.1f", 100 * v))
                .append(" | ").append(perClassPixels.get(name)).append(" |\n"));
        sb.append(String.format(java.util.Locale.ROOT, "| **mean** | **%.1f** | %d |\n", 100 * meanIoU, pixels));
        return sb.toString();
    }
}
