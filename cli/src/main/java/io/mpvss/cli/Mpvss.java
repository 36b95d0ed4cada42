package io.mpvss.cli;

import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import io.mpvss.bench.BenchCommand;
import io.mpvss.eval.EvalCommand;

/**
 * The {@code mpvss} command line: {@code mpvss <command> [--key value ...]}. Started by the {@code ./mpvss}
 * launcher at the repository root, which builds the project when needed and puts Flink, Kafka and ONNX Runtime on
 * the classpath.
 *
 * <p>Bad input (unknown command or option, missing file, no ffmpeg) gives one line {@code mpvss <command>: ...} on
 * stderr and exit status 2; a failure while running gives exit status 1.
 */
public final class Mpvss {

    /** A subcommand. */
    interface Command {
        int run(Args args, PrintStream out) throws Exception;
    }

    private record Entry(String summary, Command command, String usage) {
    }

    private static final Map<String, Entry> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("demo", new Entry("the whole system on this machine: Kafka + Flink + the bundled clips -> ./out",
                DemoCommand::run, DemoCommand.USAGE));
        COMMANDS.put("produce", new Entry("send a video file or a folder of images to the frames topic",
                ProduceCommand::run, ProduceCommand.USAGE));
        COMMANDS.put("consume", new Entry("read the masks topic into overlay PNGs and a contact sheet",
                ConsumeCommand::run, ConsumeCommand.USAGE));
        COMMANDS.put("cameras", new Entry("camera gateway: RTSP/HTTP/file/V4L2 cameras of a cameras.yaml -> frames",
                CamerasCommand::run, CamerasCommand.USAGE));
        COMMANDS.put("view", new Entry("live web page: every stream's latest label map, badges, legend, fps, lag, DLQ",
                ViewCommand::run, ViewCommand.USAGE));
        COMMANDS.put("run", new Entry("run the job against an existing Kafka (local Flink MiniCluster)",
                RunCommand::run, null));
        COMMANDS.put("topics", new Entry("create the frames, masks and frames-dlq topics (kafka-config/)",
                TopicsCommand::run, TopicsCommand.USAGE));
        COMMANDS.put("kafka", new Entry("a local single-node Kafka broker (KRaft) until Ctrl-C, for run/produce/consume",
                KafkaCommand::run, KafkaCommand.USAGE));
        COMMANDS.put("eval", new Entry("quality against cost over labelled clips (mIoU, mVC, GFLOPs)",
                EvalCommand::run, EvalCommand.USAGE));
        COMMANDS.put("bench", new Entry("throughput, latency, state size with Kafka + Flink",
                BenchCommand::run, BenchCommand.USAGE));
    }

    private Mpvss() {
    }

    static String usage() {
        StringBuilder sb = new StringBuilder(String.join("\n",
                "mpvss: real-time video semantic segmentation by mask propagation (MPVSS) on Apache Flink",
                "",
                "usage: ./mpvss <command> [--key value ...]",
                "",
                "commands:"));
        sb.append('\n');
        COMMANDS.forEach((name, e) -> sb.append(String.format("  %-9s %s%n", name, e.summary())));
        sb.append(String.format("  %-9s %s%n", "help", "this text; `mpvss <command> --help` for a command's options"));
        sb.append(String.join("\n",
                "",
                "examples:",
                "  ./mpvss demo",
                "  ./mpvss produce --input street.mp4 --stream cam-1 --bootstrap-servers broker:9092",
                "  ./mpvss run --kafka.bootstrap-servers broker:9092 --delivery.guarantee at-least-once",
                "  ./mpvss consume --bootstrap-servers broker:9092 --out out/masks --limit 100"));
        return sb.toString();
    }

    static String commandUsage(String name) {
        Entry e = COMMANDS.get(name);
        if (e == null) {
            return null;
        }
        return e.usage() != null ? e.usage() : RunCommand.usage();
    }

    /** Runs a command; returns the exit status (0 ok, 1 failed, 2 bad input). */
    public static int execute(String[] argv, PrintStream out, PrintStream err) {
        if (argv.length == 0) {
            err.println("mpvss: no command given");
            err.println(usage());
            return 2;
        }
        String name = argv[0];
        if (name.equals("help") || name.equals("--help") || name.equals("-h")) {
            if (argv.length > 1 && COMMANDS.containsKey(argv[1])) {
                out.println(commandUsage(argv[1]));
            } else {
                out.println(usage());
            }
            return 0;
        }
        Entry e = COMMANDS.get(name);
        if (e == null) {
            err.println("mpvss: unknown command '" + name + "' (commands: " + String.join(", ", COMMANDS.keySet())
                    + ", help)");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        if (rest.length == 1 && (rest[0].equals("-h") || rest[0].equals("help")) || Arrays.asList(rest)
                .contains("--help")) {
            out.println(commandUsage(name)); // one place for every command's --help
            return 0;
        }
        try {
            return e.command().run(Args.parse(rest), out);
        } catch (UsageException ex) {
            // one line; options problems point to the command's help
            String msg = ex.getMessage();
            boolean aboutOptions = msg.startsWith("unknown option") || msg.startsWith("unexpected argument")
                    || msg.endsWith("is required") || msg.contains("given twice");
            err.println("mpvss " + name + ": " + msg + (aboutOptions ? " (see ./mpvss " + name + " --help)" : ""));
            return 2;
        } catch (NoSuchFileException ex) {
            err.println("mpvss " + name + ": no such file or folder: " + ex.getFile()
                    + (ex.getReason() != null ? " (" + ex.getReason() + ")" : ""));
            return 2;
        } catch (UncheckedIOException ex) {
            err.println("mpvss " + name + ": " + ex.getCause().getMessage());
            return 1;
        } catch (Exception ex) {
            err.println("mpvss " + name + ": failed: " + rootMessage(ex));
            String log = System.getProperty("mpvss.log.file");
            if (log != null) {
                err.println("(details in " + log + ")");
            }
            org.slf4j.LoggerFactory.getLogger("io.mpvss.cli.failure").info("mpvss {} failed", name, ex);
            return 1;
        }
    }

    /** Exception types that only wrap the interesting one (futures, Flink's job failure envelopes). */
    private static final java.util.Set<String> WRAPPERS = java.util.Set.of(
            "java.util.concurrent.ExecutionException", "java.util.concurrent.CompletionException",
            "java.lang.reflect.InvocationTargetException", "java.io.UncheckedIOException",
            "org.apache.flink.runtime.client.JobExecutionException", "org.apache.flink.runtime.JobException",
            "org.apache.flink.util.FlinkRuntimeException", "org.apache.flink.util.SerializedThrowable",
            "org.apache.flink.runtime.execution.SuppressRestartsException");

    /** The first message in the cause chain that is not a wrapper's, as "Type: message". */
    public static String rootMessage(Throwable t) {
        Throwable c = t;
        Throwable last = t;
        int depth = 0;
        while (c != null && depth++ < 20) {
            if (!WRAPPERS.contains(c.getClass().getName()) && c.getMessage() != null && !c.getMessage().isBlank()) {
                return c.getClass().getSimpleName() + ": " + c.getMessage();
            }
            last = c;
            c = c.getCause() == c ? null : c.getCause();
        }
        return last.getMessage() != null ? last.getClass().getSimpleName() + ": " + last.getMessage() : last.toString();
    }

    public static void main(String[] args) {
        int rc = execute(args, System.out, System.err);
        System.out.flush();
        System.exit(rc);
    }
}
