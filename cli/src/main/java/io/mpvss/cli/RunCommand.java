package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;

import io.mpvss.config.JobOptions;
import io.mpvss.job.MpvssJob;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code mpvss run}: the job against an external Kafka, in a local Flink MiniCluster (the same entry point as on a
 * cluster, {@link MpvssJob#main}, which picks a local environment when not submitted to one).
 */
final class RunCommand {

    static final String USAGE_HEAD = String.join("\n",
            "usage: mpvss run [--key value ...]",
            "  Runs the MPVSS job in this JVM (local Flink MiniCluster) against an existing Kafka cluster, until",
            "  Ctrl-C (or, with --source.bounded true, until the frames present at start are processed). Ctrl-C or",
            "  SIGTERM stops the job with a savepoint (its open Kafka transactions commit; the path is printed),",
            "  or cancels it if that fails within 60 s. Unknown keys, bad values, Kafka unreachable within",
            "  kafka.connect-timeout or missing topics stop start-up with one line (exit status 2).",
            "  Every job option below, and Flink's own keys (parallelism.default, execution.checkpointing.interval,",
            "  execution.checkpointing.dir, state.backend.type, ...), are accepted as --key value.",
            "  --kafka-properties-file F   Kafka client properties for all clients (TLS/SASL; see kafka-config/),",
            "                              same as one --kafka.properties.<name> <value> per line",
            "",
            "job options (default):");

    private RunCommand() {
    }

    static String usage() {
        StringBuilder sb = new StringBuilder(USAGE_HEAD).append('\n');
        for (ConfigOption<?> o : JobOptions.all()) {
            sb.append(String.format("  --%-32s %s%n      %s%n", o.key(),
                    o.hasDefaultValue() ? "(" + defaultText(o) + ")" : "", describe(o)));
        }
        sb.append("  --kafka.properties.<name> V       a Kafka client property for all clients");
        return sb.toString();
    }

    /** An option's description as plain text. */
    static String describe(ConfigOption<?> o) {
        String html = new org.apache.flink.configuration.description.HtmlFormatter().format(o.description());
        return html.replaceAll("<[^>]+>", " ").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"")
                .replace("&#39;", "'").replace("&amp;", "&").replaceAll("\\s+", " ").trim();
    }

    /** An option's default as one writes it on the command line (durations as 2 s, 30 min). */
    static String defaultText(ConfigOption<?> o) {
        if (!o.hasDefaultValue()) {
            return "(required)";
        }
        Object d = o.defaultValue();
        return d instanceof java.time.Duration du ? org.apache.flink.util.TimeUtils.formatWithHighestUnit(du)
                : String.valueOf(d);
    }

    /** The job's arguments: the file expanded to kafka.properties.*, model.dir resolved against the repository. */
    static String[] jobArgs(Args args) {
        String file = args.take("kafka-properties-file");
        if (file != null) {
            Properties p = Args.readPropertiesFile(Path.of(file));
            for (String name : p.stringPropertyNames()) {
                args.putIfAbsent(JobOptions.KAFKA_PROPERTIES_PREFIX + name, p.getProperty(name));
            }
        }
        if (!args.asMap().containsKey(JobOptions.MODEL_DIR.key())) {
            Path def = RepoPaths.resolve(null, RepoPaths.BUNDLED_MODEL);
            args.putIfAbsent(JobOptions.MODEL_DIR.key(), def.toString());
        }
        if (!args.asMap().containsKey("execution.checkpointing.dir") && !args.asMap().containsKey("state.checkpoints.dir")
                && !args.asMap().containsKey("execution.checkpointing.storage")) {
            // a local MiniCluster: local disk is as durable as the job itself (MpvssJob.main refuses no storage)
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "mpvss-checkpoints");
            args.putIfAbsent("execution.checkpointing.dir", dir.toUri().toString());
        }
        for (Map.Entry<String, String> e : args.asMap().entrySet()) {
            if (e.getValue().equals("true") && e.getKey().contains("properties.")) {
                throw new UsageException("--" + e.getKey() + " needs a value");
            }
        }
        return args.toArgv();
    }

    static int run(Args args, PrintStream out) throws Exception {
        if (args.has("help")) {
            out.println(usage());
            return 0;
        }
        // typos and bad values before any default is filled in: exit 2 with one line and the nearest known key
        RunOptionCheck.check(args);
        String[] argv = jobArgs(args);
        RepoPaths.requireModelBundle(Path.of(args.asMap().get(JobOptions.MODEL_DIR.key())));
        String servers = args.asMap().get(JobOptions.BOOTSTRAP_SERVERS.key());
        if (servers == null) {
            throw new UsageException("--" + JobOptions.BOOTSTRAP_SERVERS.key() + " is required (the Kafka brokers, "
                    + "host:port,...; ./mpvss kafka starts a local one)");
        }
        StreamExecutionEnvironment env = RunOptionCheck.prepare(argv);
        out.println("running the MPVSS job in a local Flink MiniCluster against Kafka at " + servers
                + " (Ctrl-C to stop)");
        out.flush();
        JobClient job = env.executeAsync(MpvssJob.JOB_NAME);
        // Ctrl-C / SIGTERM: stop with a savepoint, which commits the sinks' open Kafka transactions; a JVM that just
        // exits leaves them open and read_committed consumers of masks wait for the broker to time them out.
        StopSignal stop = new StopSignal("mpvss-run-stop", Duration.ZERO)
                .install(() -> CleanStop.stop(job, savepointDir(args), System.err));
        try {
            job.getJobExecutionResult().get();
        } finally {
            stop.close();
        }
        return 0;
    }

    /** Where Ctrl-C's savepoint goes: Flink's execution.checkpointing.savepoint-dir, else next to the checkpoints. */
    static String savepointDir(Args args) {
        String dir = args.asMap().get("execution.checkpointing.savepoint-dir");
        return dir != null ? dir : Path.of(System.getProperty("java.io.tmpdir"), "mpvss-savepoints").toUri().toString();
    }
}
