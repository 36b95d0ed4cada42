package io.mpvss.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LatencyStatsTest {

    @Test
    void nearestRankPercentiles() {
        LatencyStats s = new LatencyStats();
        for (int i = 100; i >= 1; i--) {
            s.add(i);
        }
        assertEquals(100, s.count());
        assertEquals(50, s.p50());
        assertEquals(95, s.p95());
        assertEquals(99, s.p99());
        assertEquals(100, s.percentile(100));
        assertEquals(1, s.min());
        assertEquals(100, s.max());
        assertEquals(50.5, s.mean(), 1e-9);
        assertEquals(2, new LatencyStats().add(1).add(2).add(3).add(4).p50());
    }

    @Test
    void emptyAndInvalid() {
        LatencyStats s = new LatencyStats();
        assertTrue(Double.isNaN(s.p99()));
        assertEquals(0, s.summary().count());
        assertThrows(IllegalArgumentException.class, () -> s.percentile(0));
        assertThrows(IllegalArgumentException.class, () -> s.add(Double.NaN));
    }

    @Test
    void addAfterQueryAndMerge() {
        LatencyStats s = new LatencyStats().add(5).add(1);
        assertEquals(5, s.max());
        s.add(3);
        assertEquals(3, s.p50());
        LatencyStats t = new LatencyStats().add(10);
        s.addAll(t);
        assertEquals(10, s.p99());
        assertTrue(s.summary().toString().contains("p50="));
    }
}
