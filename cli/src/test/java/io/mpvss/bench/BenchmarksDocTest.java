package io.mpvss.bench;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mpvss.cli.UsageException;
import io.mpvss.eval.CostModel;
import io.mpvss.eval.EvalReport;
import io.mpvss.eval.EvalResult;

/** docs/BENCHMARKS.md from small constructed reports: every section from its input, the analysis from the numbers. */
class BenchmarksDocTest {

    private static final String COMMANDS = "java ... io.mpvss.cli.Mpvss eval --clips split --model.dir bundle\n"
            + "java ... io.mpvss.cli.Mpvss bench --clips split --model.dir bundle --inference.threads 1";

    private static EvalReport eval(double segmentorGmacs, double propagatorGmacs) {
        CostModel c = new CostModel(segmentorGmacs, propagatorGmacs);
        List<EvalResult> results = List.of(result(1, 0.70, c), result(5, 0.66, c));
        return new EvalReport("split", "bundle", "m@1", 512, 256, 2, 80, segmentorGmacs, propagatorGmacs,
                List.of("road"), Map.of(), results, List.of(result(5, 0.659, c).withVariant("state.mask-precision=fp32")),
                Map.of());
    }

    private static EvalResult result(int k, double miou, CostModel c) {
        Map<String, Double> iou = new LinkedHashMap<>();
        iou.put("road", miou);
        return new EvalResult(k, "default", Map.of(), 80, 80, 80 / k, miou, 0.9, iou, 0.95, 0.9, c.gmacsPerFrame(k),
                c.gflopsPerFrame(k), 10, 12, 8, 9, 3, 0);
    }

    private static JsonNode jmh() throws Exception {
        return new ObjectMapper().readTree("[{\"benchmark\":\"io.mpvss.jmh.CodecBench.pngEncode\","
                + "\"params\":{\"size\":\"256x512\"},\"primaryMetric\":{\"score\":1.5,\"scoreError\":0.5,"
                + "\"scoreUnit\":\"ms/op\"}}]");
    }

    @Test
    void everySectionComesFromItsInput() throws Exception {
        String md = BenchmarksDoc.render(eval(1.0, 0.1), BenchReportTest.report(10, 28, 11, 30, 900_000), jmh(),
                "cores (nproc): 2", COMMANDS, "img/tradeoff.png");
        assertTrue(md.contains("## Machine\n\n```\ncores (nproc): 2\n```"), md);
        assertTrue(md.contains("## Commands\n\n```\n" + COMMANDS + "\n```"), md);
        // the eval table, its plot and the cost model's S and P
        assertTrue(md.contains("| 5 | 66.0 | -4.0 | 95.0 | 90.0 | 0.560 | 0.28x |"), md);
        assertTrue(md.contains("![mIoU against GFLOPs per frame](img/tradeoff.png)"), md);
        assertTrue(md.contains("S = 1.0000 and P = 0.1000 GMAC per frame"), md);
        // bench tables and the targets
        assertTrue(md.contains("### Throughput") && md.contains("| 2.73x | met |"), md);
        assertTrue(md.contains("| CodecBench.pngEncode | size=256x512 | 1.5 | 0.5 | ms/op |"), md);
        // the analysis, computed from both reports: the propagator's 4 ms against the segmentor's 20 ms is 20 % of
        // the time for 10 % of the MACs
        assertTrue(md.contains("the propagator costs 20% of a segmentor call in time, against P/S = 10% in MACs"), md);
        assertTrue(md.contains("it takes 20% of a segmentor call's time for 10% of its MACs"), md);
        // decode 1 + PNG 2 of 10.9 ms serial work at K=5
        assertTrue(md.contains("JPEG decode and PNG encode are 28% of a frame's serial work at K=5"), md);
        assertTrue(md.contains("`state.mask-precision=fp32` mIoU 65.90%"), md);
    }

    @Test
    void recommendsOnlyWhatTheNumbersSupport() {
        // P/S = 18 % in MACs: the propagator's 20 % of the time is no longer out of proportion
        String md = BenchmarksDoc.render(eval(1.0, 0.18), BenchReportTest.report(10, 28, 11, 30, 900_000), null, "",
                "", "img/tradeoff.png");
        assertFalse(md.contains("- **The propagator graph**"), md);
        assertFalse(md.contains("## JMH microbenchmarks"), md);
    }

    @Test
    void withoutABenchRunTheTargetsSaySo() {
        String md = BenchmarksDoc.render(eval(1.0, 0.1), null, null, "", "", "img/tradeoff.png");
        assertTrue(md.contains("## Quality against cost (`mpvss eval`)"), md);
        assertFalse(md.contains("## Throughput, latency, state, memory"), md);
        assertTrue(md.contains("## Targets\n\nNot measured (no bench run)."), md);
    }

    @Test
    void readsTheReportsAndWritesThePage(@TempDir Path dir) throws Exception {
        Path evalJson = dir.resolve("eval.json");
        new ObjectMapper().writeValue(evalJson.toFile(), eval(1.0, 0.1));
        Files.writeString(dir.resolve("commands.txt"), COMMANDS);
        Path out = dir.resolve("docs/BENCHMARKS.md");
        BenchmarksDoc.write(new String[] {"--eval", evalJson.toString(), "--commands",
            dir.resolve("commands.txt").toString(), "--plot", dir.resolve("docs/img/tradeoff.png").toString(),
            "--out", out.toString()});
        String md = Files.readString(out);
        assertTrue(md.contains("| 1 | 70.0 | +0.0 |"), md);
        assertTrue(md.contains("](img/tradeoff.png)"), md);
        assertTrue(md.contains(COMMANDS), md);
        assertThrows(UsageException.class, () -> BenchmarksDoc.write(new String[] {"--evl", evalJson.toString()}));
    }
}
