package io.mpvss.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.mpvss.metrics.LatencyStats;

class BenchReportTest {

    private static PipelineBench.Result backlog(int s, int k, double fps) {
        return new PipelineBench.Result("backlog", "at-least-once", s, k, 100, 100, 0, 100 / k, 1.0, 2.0, 1.0, fps,
                fps / 2, 0, null, new LatencyStats().add(5).summary(), 0.1, 100_000_000L, 500_000_000L, 0L, 0L,
                true);
    }

    /** A small report: S=8, K=1 and K=5, one state size, the profile of BenchmarksDocTest too. */
    static BenchReport report(double e1, double e5, double m1, double m5, int stateBytes) {
        return new BenchReport("m@1", "CPU", 512, 256, "clips", 20_000, 1, List.of(1, 5), "at-least-once", 1000, 0.5,
                Map.of(), List.of(new StateProbe.Size("fp16", stateBytes - 21, 21, stateBytes, 1, 1, 1, 1, 0.1, 0.1,
                        512, 256, 100)),
                List.of(new ModelOnlyBench.Result(8, 1, 1, 100, 100, 1, m1, 1000 / m1),
                        new ModelOnlyBench.Result(8, 5, 1, 100, 20, 1, m5, 1000 / m5)),
                List.of(new ModelOnlyBench.Profile(1, 10, 1, 0.1, 0.1, 20, Double.NaN, 20, 0.1, 2, 0.5, 512, 256, 2e4,
                        3e3, 4e3), new ModelOnlyBench.Profile(5, 10, 1, 0.1, 0.1, 20, 4, 7.2, 0.1, 2, 0.5, 512, 256,
                        2e4, 3e3, 4e3)),
                List.of(new GraphProfile.Graph("propagator", 10, 4.2, 4.0,
                        List.of(new GraphProfile.OpShare("Conv", 3.0, 0.75, 12)))),
                List.of(new ModelOnlyBench.Result(1, 1, 2, 40, 40, 2, 20, 50)),
                List.of(backlog(8, 1, e1), backlog(8, 5, e5)), List.of(), 1.0);
    }

    @Test
    void targetsMetAndMissedSayByHowMuch() {
        String met = report(10, 29, 11, 30, 200_000).targets();
        assertTrue(met.contains("| 2.73x | met |"), met);
        assertTrue(met.contains("97% of bound | met"), met);
        assertTrue(met.contains("0.2 MB | met"), met);

        String missed = report(10, 20, 15, 30, 375_000).targets();
        assertTrue(missed.contains("2.00x | missed by 0.20x (9% short)"), missed);
        assertTrue(missed.contains("67% of bound | missed by 28 points"), missed);
        assertTrue(missed.contains("missed by 0.13 MB (50% over)"), missed);
    }

    @Test
    void markdownHasEverySection() {
        String md = report(10, 28, 11, 30, 900_000).toMarkdown();
        for (String h : List.of("### Throughput", "### Latency", "### State per stream", "### Profile",
                "### Inside the graphs", "Conv 3.00 ms (75%, 12)", "### ONNX Runtime intra-op threads",
                "| 2 | 1 | 20.0 | 50.0 |", "### Targets")) {
            assertTrue(md.contains(h), h);
        }
        assertTrue(md.contains("| 8 | 2.80x | 2.73x | 93% |"), md);
    }

    @Test
    void framesPerStreamCoverWholeKeyIntervals() {
        BenchCommand.Options o = BenchCommand.Options.from(io.mpvss.cli.Args.parse(new String[] {"--clips", ".",
            "--frames-total", "600", "--min-frames-per-stream", "10", "--intervals", "1,5"}));
        assertEquals(600, BenchCommand.framesPerStream(o, 1, 5));
        assertEquals(75, BenchCommand.framesPerStream(o, 8, 5));
        assertEquals(10, BenchCommand.framesPerStream(o, 64, 5));
        assertEquals(25, BenchCommand.framesPerStream(o, 8, 5, 200));
        assertEquals(2.0, BenchReport.median(new double[] {5, 1, 2}));
        assertEquals(1.5, BenchReport.median(new double[] {2, 1}));
    }
}
