package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.format.WireFormat;
import io.mpvss.kafka.EmbeddedKafka;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * {@code mpvss kafka}: a single-node Kafka broker (KRaft, in this JVM) for local work with {@code mpvss run}, the
 * standalone cluster scripts in deploy/standalone, produce and consume. Runs until Ctrl-C; data is deleted then.
 */
final class KafkaCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss kafka [options]",
            "  Starts one Apache Kafka broker (KRaft, broker + controller) in this process and waits for Ctrl-C.",
            "  It listens on a free port, printed as 'bootstrap servers: localhost:PORT'. Data is temporary.",
            "  --topics                   also create frames, masks and frames-dlq as kafka-config/topics.properties",
            "                             specifies them (replication factor 1; frames-dlq 1 partition)",
            "  --partitions N             partitions of frames and masks with --topics (default 2)",
            "  --frames.max-bytes N       the job's frames.max-bytes (default 4194304): the broker's message.max.bytes",
            "                             and, with --topics, the frames and frames-dlq max.message.bytes derive from",
            "                             it as for mpvss topics, so that every frame the job reads fits as a dead letter",
            "  --spec FILE                topic specifications (default kafka-config/topics.properties)",
            "  --bootstrap-file FILE      write the bootstrap servers to FILE once the broker is up (for scripts)");

    private KafkaCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        boolean topics = args.getBoolean("topics", false);
        int partitions = args.getPositiveInt("partitions", 2);
        Path file = args.getPath("bootstrap-file", null);
        Integer framesMaxBytes = args.getPositiveIntOrNull(JobOptions.FRAMES_MAX_BYTES.key());
        Path specFile = TopicSpecs.specFile(args);
        args.rejectUnknown();
        TopicSpecs specs = topics ? TopicSpecs.read(specFile) : null;
        int maxBytes = TopicSpecs.checkedFramesMaxBytes(framesMaxBytes != null ? framesMaxBytes
                : specs != null ? specs.framesMaxBytes() : JobOptions.FRAMES_MAX_BYTES.defaultValue());
        // the broker takes the largest record of any topic: the largest dead letter, or more where the spec says so
        int brokerMax = Math.max(RecordSizes.deadLetterBytes(maxBytes), EmbeddedKafka.MAX_MESSAGE_BYTES);
        StopSignal stop = new StopSignal("mpvss-kafka-stop", Duration.ofSeconds(15));
        try (EmbeddedKafka kafka = EmbeddedKafka.start(Map.of("message.max.bytes", String.valueOf(brokerMax),
                "replica.fetch.max.bytes", String.valueOf(brokerMax)))) {
            if (specs != null) {
                List<NewTopic> t = new ArrayList<>();
                for (TopicSpecs.Spec s : specs.withFramesMaxBytes(maxBytes).topics()) {
                    boolean dlq = s.name().equals(WireFormat.DEFAULT_DLQ_TOPIC);
                    t.add(s.with(dlq ? 1 : partitions, (short) 1).toNewTopic());
                }
                kafka.createTopics(t);
            }
            out.println("bootstrap servers: " + kafka.bootstrapServers());
            if (topics) {
                out.println("topics: frames, masks (" + partitions + " partitions each), frames-dlq; frames.max-bytes "
                        + maxBytes);
            }
            if (file != null) {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.writeString(tmp, kafka.bootstrapServers() + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            out.println("Ctrl-C to stop");
            out.flush();
            // Ctrl-C: let the broker shut down cleanly (the JVM exits when this hook returns)
            stop.install(() -> { });
            stop.await(null);
            out.println("stopping the broker ...");
        } finally {
            if (file != null) {
                Files.deleteIfExists(file);
            }
            stop.close();
        }
        return 0;
    }
}
