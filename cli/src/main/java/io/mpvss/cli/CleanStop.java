package io.mpvss.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;

/**
 * Ends a running job so that nothing is left open in Kafka: stop-with-savepoint (the savepoint completes, the sinks
 * commit their transactions, the tasks finish), else cancel (the sinks abort their transactions). Used by
 * {@code mpvss run}'s shutdown hook, i.e. on Ctrl-C and SIGTERM.
 */
final class CleanStop {

    /** How long a savepoint may take before the job is cancelled instead. */
    static final Duration SAVEPOINT_TIMEOUT = Duration.ofSeconds(60);
    static final Duration CANCEL_TIMEOUT = Duration.ofSeconds(30);

    private CleanStop() {
    }

    static void stop(JobClient job, String savepointDir, PrintStream log) {
        try {
            JobStatus status = job.getJobStatus().get(5, TimeUnit.SECONDS);
            if (status.isGloballyTerminalState()) {
                return;
            }
            log.println("mpvss run: stopping the job with a savepoint (commits the open Kafka transactions) ...");
            String path = job.stopWithSavepoint(false, savepointDir, SavepointFormatType.CANONICAL)
                    .get(SAVEPOINT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            log.println("mpvss run: stopped; savepoint " + path + " (resume with --execution.state-recovery.path "
                    + path + ")");
        } catch (Exception e) {
            log.println("mpvss run: savepoint failed (" + Mpvss.rootMessage(e) + "); cancelling the job, which "
                    + "aborts its open Kafka transactions");
            try {
                job.cancel().get(CANCEL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception cancelFailed) {
                log.println("mpvss run: cancel failed: " + Mpvss.rootMessage(cancelFailed));
            }
        }
        try {
            // the sinks close (and the MiniCluster stops) when the job has ended
            job.getJobExecutionResult().get(CANCEL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // cancelled or failed: ended either way
        }
    }
}
