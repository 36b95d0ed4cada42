package io.mpvss.cli;

import java.util.Set;

import io.mpvss.config.KnownOptions;
import io.mpvss.job.KafkaPreflight;
import io.mpvss.job.MpvssJob;
import io.mpvss.model.InvalidBundleException;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The start-up checks of {@code mpvss run} as command-line answers: every refusal of the job's own checks
 * ({@link KnownOptions}: unknown keys with the nearest known one, unparseable values; checkpoint storage; Kafka
 * unreachable or topics missing; a bad model bundle) becomes one line and exit status 2. The cluster entry point
 * {@link MpvssJob#main} runs the same checks and fails before submission with the same message.
 */
final class RunOptionCheck {

    /** The run command's own flags, besides the job's and Flink's keys. */
    static final Set<String> RUN_KEYS = Set.of("help", "kafka-properties-file");

    private RunOptionCheck() {
    }

    static void check(Args args) {
        try {
            KnownOptions.check(args.asMap(), RUN_KEYS);
        } catch (IllegalArgumentException e) {
            throw new UsageException(firstLine(e.getMessage()));
        }
    }

    /** {@link MpvssJob#prepare} with its refusals as {@link UsageException}s. */
    static StreamExecutionEnvironment prepare(String[] argv) {
        try {
            return MpvssJob.prepare(argv);
        } catch (IllegalArgumentException | KafkaPreflight.KafkaUnavailableException | InvalidBundleException e) {
            throw new UsageException(firstLine(e.getMessage()));
        }
    }

    static String firstLine(String s) {
        if (s == null) {
            return "invalid settings";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
