package io.mpvss.operator;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Dead letters by error class, as {@code <operator group>.mpvss.error_class=<class>.deadLetters} counters: Prometheus
 * exports them as {@code flink_taskmanager_job_task_operator_mpvss_error_class_deadLetters{error_class="..."}}, with
 * the operator's name as a label. One class for both places that answer a frame with a dead letter, the
 * {@code validate} step before the key-by and the keyed {@code mask-propagation} operator, so both count alike. A
 * series appears with the first dead letter of its class.
 */
public final class DeadLetterCounters {
    private final MetricGroup group;
    private final Map<String, Counter> counters = new HashMap<>();

    /** @param mpvssGroup the operator's {@value OperatorMetrics#GROUP} sub-group */
    DeadLetterCounters(MetricGroup mpvssGroup) {
        this.group = mpvssGroup;
    }

    /** Counters under {@code operatorGroup} ({@code getRuntimeContext().getMetricGroup()}). */
    public static DeadLetterCounters register(MetricGroup operatorGroup) {
        return new DeadLetterCounters(operatorGroup.addGroup(OperatorMetrics.GROUP));
    }

    /** A record went to the dead-letter output with this error class (docs/formats.md lists the classes). */
    public void count(String errorClass) {
        counters.computeIfAbsent(errorClass,
                c -> group.addGroup(OperatorMetrics.ERROR_CLASS, c).counter("deadLetters")).inc();
    }

    /** The count so far of one class (tests). */
    long countOf(String errorClass) {
        Counter c = counters.get(errorClass);
        return c == null ? 0 : c.getCount();
    }
}
