package io.mpvss.metrics;

import java.util.Arrays;
import java.util.Locale;

/**
 * Collects latency samples (milliseconds) and reports count, mean, min, max and percentiles.
 *
 * <p>Percentiles use the nearest-rank method on the sorted samples (p50 of {1,2,3,4} is 2, p99 of 100 samples is
 * the 99th smallest), so every reported value is an observed sample. Not thread-safe.
 */
public final class LatencyStats {

    private double[] samples = new double[64];
    private int n;
    private boolean sorted = true;

    public LatencyStats add(double millis) {
        if (Double.isNaN(millis)) {
            throw new IllegalArgumentException("latency sample is NaN");
        }
        if (n == samples.length) {
            samples = Arrays.copyOf(samples, n * 2);
        }
        if (n > 0 && millis < samples[n - 1]) {
            sorted = false;
        }
        samples[n++] = millis;
        return this;
    }

    public LatencyStats addAll(LatencyStats other) {
        for (int i = 0; i < other.n; i++) {
            add(other.samples[i]);
        }
        return this;
    }

    public int count() {
        return n;
    }

    public boolean isEmpty() {
        return n == 0;
    }

    private void sort() {
        if (!sorted) {
            Arrays.sort(samples, 0, n);
            sorted = true;
        }
    }

    /** Nearest-rank percentile, {@code p} in (0, 100]; NaN when empty. */
    public double percentile(double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
        }
        if (n == 0) {
            return Double.NaN;
        }
        sort();
        int rank = (int) Math.ceil(p / 100.0 * n);
        return samples[Math.max(0, Math.min(n - 1, rank - 1))];
    }

    public double p50() {
        return percentile(50);
    }

    public double p95() {
        return percentile(95);
    }

    public double p99() {
        return percentile(99);
    }

    public double min() {
        if (n == 0) {
            return Double.NaN;
        }
        sort();
        return samples[0];
    }

    public double max() {
        if (n == 0) {
            return Double.NaN;
        }
        sort();
        return samples[n - 1];
    }

    public double mean() {
        if (n == 0) {
            return Double.NaN;
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += samples[i];
        }
        return s / n;
    }

    /** A frozen summary of the current samples. */
    public Summary summary() {
        return new Summary(n, mean(), min(), p50(), p95(), p99(), max());
    }

    /** Immutable latency summary, milliseconds. */
    public record Summary(int count, double mean, double min, double p50, double p95, double p99, double max) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "n=%d p50=%.1f p95=%.1f p99=%.1f max=%.1f ms", count, p50, p95, p99,
                    max);
        }
    }
}
