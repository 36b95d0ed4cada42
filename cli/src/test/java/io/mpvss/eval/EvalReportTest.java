package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class EvalReportTest {

    private static EvalResult result(int k, double miou, CostModel c) {
        Map<String, Double> iou = new LinkedHashMap<>();
        iou.put("road", miou);
        iou.put("sky", Double.NaN);
        return new EvalResult(k, "default", Map.of(), 80, 80, 80 / k, miou, 0.9, iou, 0.95, 0.9, c.gmacsPerFrame(k),
                c.gflopsPerFrame(k), 10, 12, 8, 9, 3, 0);
    }

    @Test
    void tableHasOneRowPerKDeltasAndModelCardColumns() {
        CostModel c = new CostModel(1.0, 0.1);
        Map<String, Object> card = new LinkedHashMap<>();
        card.put("miou", Map.of("k1", 70.0, "k5", 66.0));
        card.put("miou_zero_flow", Map.of("k1", 70.0, "k5", 55.0));
        EvalReport r = new EvalReport("split", "bundle", "m@1", 512, 256, 2, 80, 1.0, 0.1, List.of("road", "sky"),
                Map.of(), List.of(result(1, 0.70, c), result(5, 0.66, c)), List.of(), card);
        String md = r.toMarkdown();
        assertTrue(md.contains("| 1 | 70.0 | +0.0 | 95.0 | 90.0 | 2.000 | 1.00x |"), md);
        assertTrue(md.contains("| 5 | 66.0 | -4.0 | 95.0 | 90.0 | 0.560 | 0.28x |"), md);
        assertTrue(md.contains("model card mIoU (PyTorch) | model card zero-flow mIoU |"), md);
        assertTrue(md.contains("| 66.0 | 55.0 |"), md);
        assertTrue(md.contains("| 5 | 66.0 | n/a |"), md); // per-class table, absent class
        List<TradeoffPlot.Point> pts = r.plot(null).points();
        assertEquals(3, pts.size()); // K=1, K=5 and the zero-flow K=5 point
        assertTrue(pts.get(0).baseline());
        assertEquals(2 * 1.0 / 5, pts.get(2).gflops(), 1e-12);
    }
}
