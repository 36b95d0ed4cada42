package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.mpvss.cameras.CameraConfig;
import io.mpvss.cameras.CameraConfigException;
import io.mpvss.cameras.CameraGateway;
import io.mpvss.cameras.FrameOutput;
import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * {@code mpvss cameras}: the camera gateway. Every camera of a cameras.yaml (RTSP, HTTP MJPEG, video files, V4L2
 * devices) is decoded by its own ffmpeg child and sent to the frames topic in the wire format, until Ctrl-C.
 */
final class CamerasCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss cameras --config cameras.yaml [options]",
            "  Live cameras -> Kafka: each camera of the file (rtsp://, http(s):// MJPEG or other streams, video",
            "  files, /dev/videoN) is decoded by an ffmpeg child process into JPEG frames and sent to the frames",
            "  topic with key = camera id, headers mpvss.seq / mpvss.ts (capture time = arrival time, also the",
            "  record timestamp). Capped at each camera's fps; a source that drops is reconnected with exponential",
            "  backoff and its seq continues. A status line per camera every --status-interval; Ctrl-C stops",
            "  (ffmpeg children killed, producer flushed). File format: kafka-config/cameras.example.yaml",
            "  --config FILE              the cameras (required)",
            KafkaClients.SERVERS_USAGE,
            "  --topic NAME               default frames",
            "  --status-interval DUR      how often the status block is printed (default 5s; 0 = never)",
            "  --start-seq N              seq of every camera's first frame (default: the gateway's start time in",
            "                             epoch ms, so a restarted gateway continues above the seqs it sent before)",
            "  --duration DUR             stop after this long (default: until Ctrl-C)",
            "  --check                    only check the file and print the ffmpeg command per camera",
            KafkaClients.PROPERTIES_USAGE);

    private CamerasCommand() {
    }

    /** The command's options. */
    record Options(Path file, String servers, String topic, Duration statusInterval, long startSeq, Duration duration,
                   boolean check, Properties user) {

        static Options from(Args args) {
            Path file = Path.of(args.required("config", "cameras.yaml"));
            String servers = KafkaClients.bootstrapServers(args);
            String topic = args.get("topic", WireFormat.DEFAULT_FRAMES_TOPIC);
            Duration statusInterval = args.getDuration("status-interval", Duration.ofSeconds(5));
            long startSeq = args.getLong("start-seq", System.currentTimeMillis());
            Duration duration = args.getDuration("duration", null);
            boolean check = args.getBoolean("check", false);
            Properties user = KafkaClients.userProperties(args);
            args.rejectUnknown();
            if (startSeq < 0) {
                throw new UsageException("--start-seq must be >= 0, got " + startSeq);
            }
            return new Options(file, servers, topic, statusInterval, startSeq, duration, check, user);
        }
    }

    static int run(Args args, PrintStream out) throws Exception {
        if (args.has("help")) {
            out.println(USAGE);
            return 0;
        }
        Options o = Options.from(args);
        CameraConfig config = readConfig(o.file());
        String ffmpeg = VideoFrames.ffmpeg();
        if (ffmpeg == null) {
            throw new UsageException("ffmpeg not found: install it (e.g. apt-get install ffmpeg); every camera is "
                    + "decoded by an ffmpeg child process");
        }
        if (o.check()) {
            printCheck(o.file(), config, ffmpeg, out);
            return 0;
        }
        checkTopic(o.servers(), o.user(), o.topic());
        out.printf(Locale.ROOT, "camera gateway: %d camera%s from %s -> topic '%s' at %s (first seq %d)%n",
                config.cameras().size(), config.cameras().size() == 1 ? "" : "s", o.file(), o.topic(), o.servers(),
                o.startSeq());
        send(o, config, ffmpeg, out);
        return 0;
    }

    private static CameraConfig readConfig(Path file) {
        try {
            return CameraConfig.read(file);
        } catch (CameraConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** --check: the file is fine; the ffmpeg command of every camera, credentials redacted. */
    private static void printCheck(Path file, CameraConfig config, String ffmpeg, PrintStream out) {
        out.println(file + ": " + config.cameras().size() + (config.cameras().size() == 1 ? " camera" : " cameras")
                + ", OK");
        for (CameraConfig.Camera c : config.cameras()) {
            out.printf(Locale.ROOT, "  %s (%s, line %d, max %s fps): %s%n", c.id(), c.kind().name()
                    .toLowerCase(Locale.ROOT), c.line(), ProduceCommand.fmt(c.maxFps()),
                    CameraConfig.redact(String.join(" ", CameraGateway.ffmpegCommand(ffmpeg, c))
                            .replace(c.source(), CameraConfig.redact(c.source()))));
        }
    }

    /** Runs the gateway until Ctrl-C, --duration or a failed send; the producer is flushed before the JVM exits. */
    private static void send(Options o, CameraConfig config, String ffmpeg, PrintStream out) throws Exception {
        try (StopSignal stop = new StopSignal("mpvss-cameras-stop", Duration.ofSeconds(20)).install(() -> { });
             FrameSender sender = new FrameSender(KafkaClients.producer(o.servers(), o.user()), o.topic())) {
            CameraGateway gateway = CameraGateway.builder()
                    .cameras(config.cameras())
                    .ffmpeg(ffmpeg)
                    .output(asOutput(sender))
                    .splitter(VideoFrames::nextJpeg)
                    .startSeq(o.startSeq())
                    .out(out)
                    .statusInterval(o.statusInterval())
                    .build();
            gateway.start();
            out.println(o.duration() == null ? "Ctrl-C to stop" : "stopping after " + o.duration().toSeconds() + " s");
            long deadline = o.duration() == null ? Long.MAX_VALUE : System.nanoTime() + o.duration().toNanos();
            while (!gateway.ended() && gateway.failure() == null && System.nanoTime() - deadline < 0) {
                if (stop.await(Duration.ofMillis(200))) {
                    break;
                }
            }
            String failure = gateway.failure();
            out.println("stopping the cameras ...");
            gateway.stop();
            gateway.printStatus();
            if (failure != null) {
                throw new IllegalStateException("sending to Kafka failed (" + failure + ")");
            }
            out.printf(Locale.ROOT, "stopped: %d frames acknowledged by Kafka%n", sender.acked());
        }
    }

    /**
     * Fails at start-up, in one line, when Kafka cannot be reached or the topic does not exist (the producer would
     * otherwise wait a minute per camera before giving up).
     */
    static void checkTopic(String servers, Properties user, String topic) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.admin(servers, user))) {
            admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new UsageException("topic '" + topic + "' does not exist at " + servers
                        + " (create it: ./mpvss topics --bootstrap-servers " + servers + ")");
            }
            throw new IllegalStateException("cannot reach Kafka at " + servers + ": " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot reach Kafka at " + servers + " within 30 s");
        }
    }

    static FrameOutput asOutput(FrameSender sender) {
        return new FrameOutput() {
            @Override
            public void send(String stream, long seq, long captureTs, byte[] jpeg) {
                sender.send(stream, seq, captureTs, jpeg);
            }

            @Override
            public long acked() {
                return sender.acked();
            }

            @Override
            public void flush() {
                sender.flush();
            }
        };
    }
}
