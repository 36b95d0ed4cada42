package io.mpvss.operator;

import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The metrics of the MPVSS operator, registered under the operator's metric group in a sub-group {@value #GROUP}, so
 * that Flink's Prometheus reporter exports them as {@code flink_taskmanager_job_task_operator_mpvss_<name>} with the
 * usual job/task/subtask labels (docs/metrics.md lists every name). One instance per parallel operator instance;
 * all calls come from the operator's task thread, the gauges are read from the reporter's thread.
 *
 * <p>The operator reports what happened per frame and this class decides what to count; the operator holds no
 * metric logic of its own.
 */
public final class OperatorMetrics {

    /** The operator's own sub-group (one Prometheus name prefix for all MPVSS metrics). */
    public static final String GROUP = "mpvss";
    /** Key of the key-value group that labels dead letters by error class (a Prometheus label). */
    public static final String ERROR_CLASS = "error_class";
    /** Key of the key-value group that labels the execution provider (a Prometheus label). */
    public static final String PROVIDER = "provider";

    /** Latency samples kept per histogram (a sliding window: quantiles describe the latest frames). */
    static final int HISTOGRAM_WINDOW = 1024;
    /** Seconds over which the frames-per-second meter averages (Flink's MeterView updates every 5 s). */
    static final int RATE_SECONDS = 60;

    private final MetricGroup group;
    private final Counter keyFrames;
    private final Counter propagatedFrames;
    private final Histogram segmentorLatency;
    private final Histogram propagatorLatency;
    private final Meter framesPerSecond;
    private final Counter inferenceBatches;
    private final Counter shedFrames;
    private final Histogram batchSize;
    private final DeadLetterCounters deadLetters;
    private volatile long keyFrameStateBytes = -1;
    private volatile long lagMs = -1;

    private OperatorMetrics(MetricGroup operatorGroup, String executionProvider) {
        group = operatorGroup.addGroup(GROUP);
        deadLetters = new DeadLetterCounters(group);
        keyFrames = group.counter("keyFrames");
        propagatedFrames = group.counter("propagatedFrames");
        segmentorLatency = group.histogram("segmentorLatencyMs", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        propagatorLatency = group.histogram("propagatorLatencyMs",
                new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        inferenceBatches = group.counter("inferenceBatches");
        shedFrames = group.counter("shedFrames");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(HISTOGRAM_WINDOW));
        framesPerSecond = group.meter("framesPerSecond", new MeterView(RATE_SECONDS));
        group.gauge("keyFrameStateBytes", (Gauge<Long>) () -> keyFrameStateBytes);
        group.gauge("lagMs", (Gauge<Long>) () -> lagMs);
        // Prometheus exports numbers only: the provider's name is a label of a gauge that is always 1 (an "info"
        // metric), which dashboards join on or filter by (provider="CUDA").
        group.addGroup(PROVIDER, executionProvider).gauge("executionProvider", (Gauge<Integer>) () -> 1);
    }

    /**
     * Registers the metrics of one operator instance.
     *
     * @param operatorGroup the operator's metric group ({@code getRuntimeContext().getMetricGroup()})
     * @param executionProvider where inference runs ({@code ModelBundle.executionProvider()}: CUDA or CPU)
     */
    public static OperatorMetrics register(MetricGroup operatorGroup, String executionProvider) {
        return new OperatorMetrics(operatorGroup, executionProvider);
    }

    /** A key frame was segmented; {@code segmentorMs} is the segmentor call's wall time. */
    public void keyFrame(double segmentorMs) {
        keyFrames.inc();
        segmentorLatency.update(Math.round(segmentorMs));
        framesPerSecond.markEvent();
    }

    /** A frame was propagated from its stream's key frame; {@code propagatorMs} is the propagator call's wall time. */
    public void propagated(double propagatorMs) {
        propagatedFrames.inc();
        propagatorLatency.update(Math.round(propagatorMs));
        framesPerSecond.markEvent();
    }

    /** A frame was shed under overload (overload.shed-lag): answered with its stream's last mask, not inferred. */
    public void shed() {
        shedFrames.inc();
        framesPerSecond.markEvent();
    }

    /** The operator ran a batch of this many buffered frames (inference.batch.max; 1 when batching is off). */
    public void batch(int frames) {
        inferenceBatches.inc();
        batchSize.update(frames);
    }

    /** A record went to the dead-letter output with this error class (docs/formats.md lists the classes). */
    public void deadLetter(String errorClass) {
        deadLetters.count(errorClass);
    }

    /** The serialized size of the key-frame state just written for a stream (KeyFrameStateSerializer). */
    public void stateBytes(long bytes) {
        keyFrameStateBytes = bytes;
    }

    /** A frame with this capture time (epoch ms) was processed now: lag = processing time - capture time. */
    public void lag(long captureTs) {
        lagMs = System.currentTimeMillis() - captureTs;
    }

    long deadLetterCount(String errorClass) {
        return deadLetters.countOf(errorClass);
    }
}
