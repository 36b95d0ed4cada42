package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import io.mpvss.format.WireFormat;
import io.mpvss.kafka.EmbeddedKafka;

/**
 * {@code mpvss kafka}: a single-node Kafka broker (KRaft, in this JVM) for local work with {@code mpvss run}, the
 * standalone cluster scripts in deploy/standalone, produce and consume. Runs until Ctrl-C; data is deleted then.
 */
final class KafkaCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss kafka [options]",
            "  Starts one Apache Kafka broker (KRaft, broker + controller) in this process and waits for Ctrl-C.",
            "  It listens on a free port, printed as 'bootstrap servers: localhost:PORT'. Data is temporary.",
            "  --topics                   also create frames, masks (and frames-dlq), one partition each per",
            "                             --partitions",
            "  --partitions N             partitions of frames and masks with --topics (default 2)",
            "  --bootstrap-file FILE      write the bootstrap servers to FILE once the broker is up (for scripts)");

    private KafkaCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        boolean topics = args.getBoolean("topics", false);
        int partitions = args.getPositiveInt("partitions", 2);
        Path file = args.getPath("bootstrap-file", null);
        args.rejectUnknown();
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            if (topics) {
                Map<String, Integer> t = new LinkedHashMap<>();
                t.put(WireFormat.DEFAULT_FRAMES_TOPIC, partitions);
                t.put(WireFormat.DEFAULT_MASKS_TOPIC, partitions);
                t.put(WireFormat.DEFAULT_DLQ_TOPIC, 1);
                kafka.createTopics(t);
            }
            out.println("bootstrap servers: " + kafka.bootstrapServers());
            if (topics) {
                out.println("topics: frames, masks (" + partitions + " partitions each), frames-dlq");
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
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopped.countDown();
                try {
                    finished.await(15, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // exiting
                }
            }, "mpvss-kafka-stop"));
            stopped.await();
            out.println("stopping the broker ...");
        } finally {
            if (file != null) {
                Files.deleteIfExists(file);
            }
            finished.countDown();
        }
        return 0;
    }
}
