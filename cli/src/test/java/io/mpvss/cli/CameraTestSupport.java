package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import javax.imageio.ImageIO;

import io.mpvss.cameras.CameraConfig;
import io.mpvss.cameras.CameraGateway;
import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the camera gateway tests share: ffmpeg, the gateway under test, ports, waiting, a consumer of the frames topic,
 * the per-stream checks.
 */
final class CameraTestSupport {

    private CameraTestSupport() {
    }

    /**
     * The ffmpeg that the gateway and the tests' live sources run, found before the class's tests: where there is none
     * the test class is skipped, named {@code test} in the reason.
     */
    static final class Ffmpeg implements BeforeAllCallback {
        private final String test;
        private String path;

        Ffmpeg(String test) {
            this.test = test;
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            path = VideoFrames.ffmpeg();
            assumeTrue(path != null, "ffmpeg not installed (scripts/test.sh installs it): " + test + " skipped");
        }

        String path() {
            return path;
        }
    }

    /**
     * The gateway as `mpvss cameras` builds it, writing to the topic {@code frames} of {@code bootstrapServers}, what
     * it prints kept for the test. The test starts and stops the gateway; closing this closes the producer.
     */
    static final class GatewayRun implements AutoCloseable {
        private final ByteArrayOutputStream log = new ByteArrayOutputStream();
        private final FrameSender sender;
        private final CameraGateway gateway;

        GatewayRun(CameraConfig config, String ffmpeg, String bootstrapServers, long startSeq) {
            sender = new FrameSender(KafkaClients.producer(bootstrapServers, new Properties()), "frames");
            gateway = CameraGateway.builder()
                    .cameras(config.cameras())
                    .ffmpeg(ffmpeg)
                    .output(CamerasCommand.asOutput(sender))
                    .splitter(VideoFrames::nextJpeg)
                    .startSeq(startSeq)
                    .out(new PrintStream(log, true, StandardCharsets.UTF_8))
                    .statusInterval(Duration.ofSeconds(1))
                    .build();
        }

        CameraGateway gateway() {
            return gateway;
        }

        /** What the gateway printed so far. */
        String log() {
            return log.toString(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            sender.close();
        }
    }

    /**
     * {@code dir}/cameras.yaml with the tests' defaults, quick to reconnect (from 200 ms, at most 1 s apart) and a
     * stall timeout of 5 s (ffmpeg takes about 3 s to its first frame of a pulled stream), and {@code cameras}, the
     * lines under {@code cameras:}; read back as `mpvss cameras` reads it.
     */
    static CameraConfig camerasYaml(Path dir, String... cameras) throws IOException {
        List<String> lines = new ArrayList<>(List.of(
                "defaults:",
                "  reconnect_initial: 200ms",
                "  reconnect_max: 1s",
                "  stall_timeout: 5s",
                "cameras:"));
        lines.addAll(List.of(cameras));
        lines.add("");
        Path yaml = dir.resolve("cameras.yaml");
        Files.writeString(yaml, String.join("\n", lines), StandardCharsets.UTF_8);
        return CameraConfig.read(yaml);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    /** Keeps what the gateway printed for people, under target/ (also when the test fails). */
    static void saveLog(String fileName, String log) throws IOException {
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", fileName), log, StandardCharsets.UTF_8);
    }

    /** After {@code stop()}: no ffmpeg child of this JVM is still running. */
    static void assertNoFfmpegChildren() {
        assertTrue(ProcessHandle.current().children().noneMatch(p -> p.info().command().orElse("")
                .contains("ffmpeg") && p.isAlive()), "ffmpeg children left running after stop()");
    }

    static String header(ConsumerRecord<String, byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        assertNotNull(h, "header " + name + " missing");
        return new String(h.value(), StandardCharsets.UTF_8);
    }

    /**
     * Checks one camera's records, in offset order: seq +1 per frame from {@code startSeq} (across reconnects, never
     * reused), record timestamp = {@code mpvss.ts}, capture times never going backwards, JPEGs decodable at the given
     * size; and that the outage shows as a gap of at least {@code minOutageMs} in capture times.
     */
    static void assertStream(List<ConsumerRecord<String, byte[]>> records, String stream, long startSeq, int width,
                             int height, long minOutageMs) throws IOException {
        assertNotNull(records, stream);
        long expectSeq = startSeq;
        long lastTs = 0;
        long maxGapMs = 0;
        for (ConsumerRecord<String, byte[]> r : records) {
            assertEquals(stream, r.key());
            long seq = Long.parseLong(header(r, WireFormat.HEADER_SEQ));
            long ts = Long.parseLong(header(r, WireFormat.HEADER_TS));
            // seq: +1 per frame sent, across the reconnect, never reused
            assertEquals(expectSeq, seq, stream + ": seq continuity at offset " + r.offset());
            expectSeq++;
            assertEquals(ts, r.timestamp(), "record timestamp = capture time");
            assertTrue(ts >= lastTs, stream + ": capture time goes backwards at seq " + seq);
            if (lastTs > 0) {
                maxGapMs = Math.max(maxGapMs, ts - lastTs);
            }
            lastTs = ts;
            assertEquals("jpeg", header(r, WireFormat.HEADER_ENCODING));
            var img = ImageIO.read(new ByteArrayInputStream(r.value()));
            assertNotNull(img, stream + " seq " + seq + " is not a decodable JPEG");
            assertEquals(width, img.getWidth());
            assertEquals(height, img.getHeight());
        }
        assertTrue(maxGapMs >= minOutageMs, stream + ": expected the outage as a gap in capture times, max gap "
                + maxGapMs + " ms");
    }

    /** Every record of a topic, by key, as it lands (one consumer on its own thread). */
    static final class FrameCollector implements AutoCloseable {
        private final Map<String, List<ConsumerRecord<String, byte[]>>> byStream = new ConcurrentHashMap<>();
        private final Thread poller;
        private volatile boolean stop;

        FrameCollector(String bootstrapServers, String topic, String groupId) {
            Properties cp = KafkaClients.consumer(bootstrapServers, new Properties(), groupId);
            KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(cp);
            consumer.subscribe(List.of(topic));
            poller = new Thread(() -> {
                try {
                    while (!stop) {
                        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                            byStream.computeIfAbsent(r.key(), k -> new CopyOnWriteArrayList<>()).add(r);
                        }
                    }
                } finally {
                    consumer.close();
                }
            }, "frames-collector");
            poller.start();
        }

        int count(String stream) {
            List<ConsumerRecord<String, byte[]>> l = byStream.get(stream);
            return l == null ? 0 : l.size();
        }

        /** The keys seen so far. */
        Set<String> streams() {
            return Set.copyOf(byStream.keySet());
        }

        List<ConsumerRecord<String, byte[]>> records(String stream) {
            return byStream.get(stream);
        }

        /** Waits half a second for records still on their way, then stops consuming. */
        @Override
        public void close() throws InterruptedException {
            Thread.sleep(500);
            stop = true;
            poller.join(5000);
        }
    }
}
