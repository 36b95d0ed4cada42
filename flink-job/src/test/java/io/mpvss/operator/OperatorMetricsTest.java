package io.mpvss.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

/**
 * What {@link OperatorMetrics} registers (the names docs/metrics.md lists, whose Prometheus forms the standalone
 * cluster test scrapes) and what each call counts. The metric group records registrations by their scope path, as
 * Flink's registry would see them; the metrics themselves are Flink's own implementations.
 */
class OperatorMetricsTest {

    /** A metric group that keeps what is registered under "scope.name" ("key=value" for key-value groups). */
    static final class Recording extends UnregisteredMetricsGroup {
        final Map<String, Metric> metrics;
        final String scope;

        Recording(Map<String, Metric> metrics, String scope) {
            this.metrics = metrics;
            this.scope = scope;
        }

        private <M extends Metric> M put(String name, M m) {
            metrics.put(scope.isEmpty() ? name : scope + "." + name, m);
            return m;
        }

        @Override
        public <C extends Counter> C counter(String name, C counter) {
            return put(name, counter);
        }

        @Override
        public Counter counter(String name) {
            return counter(name, new org.apache.flink.metrics.SimpleCounter());
        }

        @Override
        public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
            return put(name, gauge);
        }

        @Override
        public <M extends Meter> M meter(String name, M meter) {
            return put(name, meter);
        }

        @Override
        public <H extends Histogram> H histogram(String name, H histogram) {
            return put(name, histogram);
        }

        @Override
        public MetricGroup addGroup(String name) {
            return new Recording(metrics, scope.isEmpty() ? name : scope + "." + name);
        }

        @Override
        public MetricGroup addGroup(String key, String value) {
            return new Recording(metrics, (scope.isEmpty() ? "" : scope + ".") + key + "=" + value);
        }
    }

    @Test
    void registersEveryMetricUnderTheMpvssGroupAndCountsPerFrame() {
        Map<String, Metric> m = new TreeMap<>();
        OperatorMetrics metrics = OperatorMetrics.register(new Recording(m, ""), "CPU");

        assertEquals(java.util.Set.of("mpvss.keyFrames", "mpvss.propagatedFrames", "mpvss.segmentorLatencyMs",
                "mpvss.propagatorLatencyMs", "mpvss.framesPerSecond", "mpvss.keyFrameStateBytes", "mpvss.lagMs",
                "mpvss.provider=CPU.executionProvider", "mpvss.inferenceBatches", "mpvss.batchSize", "mpvss.shedFrames"), m.keySet());
        assertEquals(-1L, ((Gauge<?>) m.get("mpvss.keyFrameStateBytes")).getValue(), "no key frame yet");
        assertEquals(-1L, ((Gauge<?>) m.get("mpvss.lagMs")).getValue(), "no frame yet");
        assertEquals(1, ((Gauge<?>) m.get("mpvss.provider=CPU.executionProvider")).getValue());

        metrics.batch(1);
        metrics.keyFrame(31.6);
        metrics.batch(2);
        metrics.stateBytes(660_029);
        metrics.propagated(15.2);
        metrics.propagated(14.9);
        long captured = System.currentTimeMillis() - 250;
        metrics.lag(captured);
        metrics.deadLetter("undecodable-image");
        metrics.deadLetter("stale-or-duplicate");
        metrics.deadLetter("undecodable-image");

        assertEquals(1, ((Counter) m.get("mpvss.keyFrames")).getCount());
        assertEquals(2, ((Counter) m.get("mpvss.propagatedFrames")).getCount());
        assertEquals(2, ((Counter) m.get("mpvss.inferenceBatches")).getCount());
        metrics.shed();
        assertEquals(1, ((Counter) m.get("mpvss.shedFrames")).getCount());
        assertEquals(2, ((Histogram) m.get("mpvss.batchSize")).getStatistics().getMax());
        Histogram seg = (Histogram) m.get("mpvss.segmentorLatencyMs");
        assertEquals(1, seg.getCount());
        assertEquals(32, seg.getStatistics().getMax(), "whole milliseconds");
        Histogram prop = (Histogram) m.get("mpvss.propagatorLatencyMs");
        assertEquals(2, prop.getCount());
        assertEquals(15, prop.getStatistics().getMin());
        assertEquals(4, ((Meter) m.get("mpvss.framesPerSecond")).getCount(), "every segmented, propagated or shed frame");
        assertEquals(660_029L, ((Gauge<?>) m.get("mpvss.keyFrameStateBytes")).getValue());
        long lag = (Long) ((Gauge<?>) m.get("mpvss.lagMs")).getValue();
        assertTrue(lag >= 250 && lag < 60_000, "lag " + lag);
        assertEquals(2, ((Counter) m.get("mpvss.error_class=undecodable-image.deadLetters")).getCount());
        assertEquals(1, ((Counter) m.get("mpvss.error_class=stale-or-duplicate.deadLetters")).getCount());
        assertEquals(2, metrics.deadLetterCount("undecodable-image"));
        assertInstanceOf(Gauge.class, m.get("mpvss.provider=CPU.executionProvider"));
    }

    /** The validate step counts its dead letters under the same names (DeadLetterCounters, as FrameValidator.open). */
    @Test
    void theValidateStepsDeadLettersUseTheSameNames() {
        Map<String, Metric> m = new TreeMap<>();
        DeadLetterCounters validate = DeadLetterCounters.register(new Recording(m, ""));
        validate.count("missing-header");
        validate.count("missing-header");
        validate.count("empty-key");
        assertEquals(java.util.Set.of("mpvss.error_class=missing-header.deadLetters",
                "mpvss.error_class=empty-key.deadLetters"), m.keySet());
        assertEquals(2, ((Counter) m.get("mpvss.error_class=missing-header.deadLetters")).getCount());
        assertEquals(2, validate.countOf("missing-header"));
    }
}
