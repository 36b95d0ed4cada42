package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipFile;

import javax.imageio.ImageIO;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.format.WireFormat;
import io.mpvss.job.MpvssJob;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.kafka.EmbeddedKafkaExtension;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations-grade behaviour of {@code mpvss run} and the Kafka pipeline against a real in-process broker (issue 8):
 * large bad and duplicate frames reach the dead-letter topic without failing the job, every Kafka compression codec
 * works from {@code topics} through {@code run} to {@code consume}, typos and bad values and an unreachable broker
 * stop start-up with one line, and SIGTERM leaves no open transaction behind.
 */
class RunReliabilityTest {

    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @TempDir
    static Path dir;

    record Result(int rc, String out, String err) {
    }

    static Result mpvss(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Mpvss.execute(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertOneLineRefusal(Result r, String... parts) {
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in: " + r.err());
        }
    }

    // ---- item 3: unknown keys and bad values

    @Test
    void typosAndBadValuesStopStartUpWithOneLine() {
        assertOneLineRefusal(mpvss("run", "--foo.bar", "1"), "unknown option --foo.bar", "did you mean --");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-server", "HOST"),
                "unknown option --kafka.bootstrap-server", "did you mean --kafka.bootstrap-servers?");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-servers", "h:1", "--key.interval", "abc"),
                "--key.interval", "'abc'", "a whole number");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-servers", "h:1", "--key.max-time-gap", "soon"),
                "--key.max-time-gap", "'soon'", "duration");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-servers", "h:1", "--parallelism.defualt", "2"),
                "did you mean --parallelism.default?");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-servers", "h:1", "--key.interval", "-1"),
                "key.interval must be >= 0");
        assertOneLineRefusal(mpvss("run", "--kafka.bootstrap-servers", "h:1", "--masks.max-bytes", "1000"),
                "--masks.max-bytes", "'1000' is out of range");
    }

    // ---- item 4: an unreachable broker, missing topics

    @Test
    void anUnreachableBrokerFailsFastNamingTheServers() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        Result r = mpvss("run", "--kafka.bootstrap-servers", "127.0.0.1:" + port, "--kafka.connect-timeout", "2 s",
                "--delivery.guarantee", "at-least-once");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertOneLineRefusal(r, "127.0.0.1:" + port, "kafka.connect-timeout");
        assertTrue(seconds < 30, "bounded by the timeout, took " + seconds + " s");

        Result missing = mpvss("run", "--kafka.bootstrap-servers", kafka.bootstrapServers(), "--delivery.guarantee",
                "at-least-once", "--kafka.topic.frames", "no-such-frames", "--kafka.topic.masks", "no-such-masks");
        assertOneLineRefusal(missing, "no-such-frames, no-such-masks", "do not exist", kafka.bootstrapServers());
    }

    // ---- item 1: large bad and duplicate frames through the real pipeline

    /** A valid JPEG of {@code bytes} bytes: a small image padded with comment segments, which decoders skip. */
    static byte[] paddedJpeg(int bytes, int shade) throws IOException {
        byte[] jpeg = image(64, 32, shade, "jpg");
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes);
        out.write(jpeg, 0, 2); // SOI
        int left = bytes - jpeg.length;
        while (left > 0) {
            int payload = Math.min(65533, left - 4);
            if (payload < 1) {
                payload = 1;
            }
            out.write(0xFF);
            out.write(0xFE); // COM
            out.write((payload + 2) >> 8);
            out.write((payload + 2) & 0xFF);
            out.write(new byte[payload], 0, payload);
            left -= payload + 4;
        }
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    /** Bytes that start like a JPEG and are not one. */
    static byte[] garbage(int bytes) {
        byte[] b = new byte[bytes];
        new Random(bytes).nextBytes(b);
        b[0] = (byte) 0xFF;
        b[1] = (byte) 0xD8;
        b[2] = (byte) 0xFF;
        return b;
    }

    static byte[] image(int w, int h, int shade, String format) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color((40 * shade) & 0xff, 100, 200));
        g.fillRect(0, 0, w, h);
        g.setColor(Color.WHITE);
        g.fillRect((4 * shade) % w, 8, 10, 10);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, format, out);
        return out.toByteArray();
    }

    /** Capture times near now: records from 1970 would be due for deletion under the topics' retention. */
    static final long T0 = System.currentTimeMillis();

    static ProducerRecord<String, byte[]> frame(String topic, String stream, long seq, byte[] value) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, null, T0 + seq * 100, stream, value);
        r.headers().add(WireFormat.HEADER_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        r.headers().add(WireFormat.HEADER_TS, Long.toString(T0 + seq * 100).getBytes(StandardCharsets.UTF_8));
        return r;
    }

    static KafkaProducer<String, byte[]> producer(Map<String, Object> extra) {
        Properties p = new Properties();
        p.putAll(extra);
        return new KafkaProducer<>(KafkaClients.producer(kafka.bootstrapServers(), p));
    }

    static List<ConsumerRecord<String, byte[]>> read(String topic, int expected, boolean committed, Duration max) {
        Properties p = KafkaClients.consumer(kafka.bootstrapServers(), new Properties(), "read-" + System.nanoTime());
        p.put("isolation.level", committed ? "read_committed" : "read_uncommitted");
        List<ConsumerRecord<String, byte[]>> r = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + max.toNanos();
            while (r.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r::add);
            }
        }
        return r;
    }

    static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void largeBadAndDuplicateFramesAreDeadLettersAndTheJobKeepsRunning() throws Exception {
        kafka.createTopics(List.of(new NewTopic("big-frames", 1, (short) 1).configs(Map.of("max.message.bytes",
                        String.valueOf(EmbeddedKafka.MAX_MESSAGE_BYTES))),
                new NewTopic("big-masks", 1, (short) 1), new NewTopic("big-dlq", 1, (short) 1).configs(Map.of(
                        "max.message.bytes", String.valueOf(EmbeddedKafka.MAX_MESSAGE_BYTES)))));
        int limit = JobOptions.FRAMES_MAX_BYTES.defaultValue();
        // an oversized frame as large as the frames topic lets through: its dead letter does not fit whole
        int oversized = RecordSizes.deadLetterBytes(limit) - 512;
        byte[] small = image(64, 32, 0, "jpg");
        byte[] mb15 = paddedJpeg(1_500_000, 1);
        byte[] mb39 = paddedJpeg(3_900_000, 2);
        try (KafkaProducer<String, byte[]> p = producer(Map.of())) {
            p.send(frame("big-frames", "cam", 0, small));
            p.send(frame("big-frames", "cam", 1, mb15));
            p.send(frame("big-frames", "cam", 1, mb15));                 // duplicate, 1.5 MB
            p.send(frame("big-frames", "cam", 2, garbage(1_500_000)));   // bad, 1.5 MB
            p.send(frame("big-frames", "cam", 3, mb39));
            p.send(frame("big-frames", "cam", 3, mb39));                 // duplicate, 3.9 MB
            p.send(frame("big-frames", "cam", 4, garbage(3_900_000)));   // bad, 3.9 MB
            p.send(frame("big-frames", "cam", 5, garbage(oversized)));   // oversized: cut to fit the DLQ
            p.send(frame("big-frames", "cam", 6, small));
            p.flush();
        }
        Configuration flink = new Configuration();
        flink.setString("execution.checkpointing.interval", "500 ms");
        flink.setString("restart-strategy.type", "none"); // a failing sink must fail this test, not loop
        flink.setString("parallelism.default", "1");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        Configuration job = MpvssJob.parseArgs(new String[] {"--kafka.bootstrap-servers", kafka.bootstrapServers(),
                "--kafka.topic.frames", "big-frames", "--kafka.topic.masks", "big-masks", "--kafka.topic.dlq", "big-dlq",
                "--kafka.group-id", "big", "--kafka.transactional-id-prefix", "big", "--source.bounded", "true",
                "--model.dir", RepoPaths.resolve(null, RepoPaths.BUNDLED_MODEL).toString()});
        MpvssJob.buildKafkaPipeline(env, job);
        env.execute("large-records");

        List<ConsumerRecord<String, byte[]>> masks = read("big-masks", 4, true, Duration.ofSeconds(90));
        assertEquals(List.of(0L, 1L, 3L, 6L), masks.stream().map(m -> seqOf(m.value())).toList());
        List<ConsumerRecord<String, byte[]>> dead = read("big-dlq", 5, true, Duration.ofSeconds(90));
        assertEquals(5, dead.size());
        Map<String, String> classBySeqAndSize = new HashMap<>();
        for (ConsumerRecord<String, byte[]> d : dead) {
            classBySeqAndSize.put(header(d, WireFormat.HEADER_SEQ) + "/" + d.value().length,
                    header(d, WireFormat.DLQ_ERROR_CLASS));
        }
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE, classBySeqAndSize.get("1/" + mb15.length));
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE, classBySeqAndSize.get("3/" + mb39.length));
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, classBySeqAndSize.get("2/1500000"));
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, classBySeqAndSize.get("4/3900000"));
        ConsumerRecord<String, byte[]> cut = dead.stream().filter(d -> "5".equals(header(d, WireFormat.HEADER_SEQ)))
                .findFirst().orElseThrow();
        assertEquals(WireFormat.ERR_OVERSIZED, header(cut, WireFormat.DLQ_ERROR_CLASS));
        assertEquals(String.valueOf(oversized), header(cut, WireFormat.DLQ_TRUNCATED));
        assertTrue(cut.value().length < oversized && cut.value().length > oversized - 8192, "cut to fit, not emptied");
        dead.stream().filter(d -> d != cut).forEach(d -> assertEquals(null, header(d, WireFormat.DLQ_TRUNCATED)));
    }

    /**
     * A mask that would not fit the masks topic is a dead letter (mask-too-large), not a sink failure that restarts
     * the job on the same frame for ever; the frames around it get their masks. masks.max-bytes is the masks
     * topic's max.message.bytes, and the start-up check refuses a topic smaller than that.
     */
    @Test
    void aMaskTooLargeForTheMasksTopicIsADeadLetterAndTheJobKeepsRunning() throws Exception {
        int masksMaxBytes = RecordSizes.HEADROOM_BYTES + 3000; // documents up to 3000 bytes: a 64x32 frame's fits
        kafka.createTopics(List.of(new NewTopic("mtl-frames", 1, (short) 1),
                new NewTopic("mtl-masks", 1, (short) 1).configs(Map.of("max.message.bytes",
                        String.valueOf(masksMaxBytes))),
                new NewTopic("mtl-dlq", 1, (short) 1).configs(Map.of("max.message.bytes",
                        String.valueOf(EmbeddedKafka.MAX_MESSAGE_BYTES)))));
        try (KafkaProducer<String, byte[]> p = producer(Map.of())) {
            p.send(frame("mtl-frames", "cam", 0, image(64, 32, 0, "jpg")));
            p.send(frame("mtl-frames", "cam", 1, image(640, 360, 1, "jpg"))); // its document: about 4.6 KB
            p.send(frame("mtl-frames", "cam", 2, image(64, 32, 2, "jpg")));
            p.flush();
        }
        List<String> args = List.of("--kafka.bootstrap-servers", kafka.bootstrapServers(),
                "--kafka.topic.frames", "mtl-frames", "--kafka.topic.masks", "mtl-masks", "--kafka.topic.dlq", "mtl-dlq",
                "--kafka.group-id", "mtl", "--kafka.transactional-id-prefix", "mtl", "--source.bounded", "true",
                "--model.dir", RepoPaths.resolve(null, RepoPaths.BUNDLED_MODEL).toString());

        // the default masks.max-bytes (2 MiB) does not fit this topic: refused at start, naming both numbers
        List<String> tooBig = new ArrayList<>(List.of("run"));
        tooBig.addAll(args);
        assertOneLineRefusal(mpvss(tooBig.toArray(String[]::new)), "mtl-masks", String.valueOf(masksMaxBytes),
                "masks.max-bytes", String.valueOf(JobOptions.MASKS_MAX_BYTES.defaultValue()));

        Configuration flink = new Configuration();
        flink.setString("execution.checkpointing.interval", "500 ms");
        flink.setString("restart-strategy.type", "none"); // a failing sink must fail this test, not loop
        flink.setString("parallelism.default", "1");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        List<String> jobArgs = new ArrayList<>(args);
        jobArgs.addAll(List.of("--masks.max-bytes", String.valueOf(masksMaxBytes)));
        Configuration job = MpvssJob.parseArgs(jobArgs.toArray(String[]::new));
        MpvssJob.buildKafkaPipeline(env, job);
        env.execute("mask-too-large");

        List<ConsumerRecord<String, byte[]>> masks = read("mtl-masks", 2, true, Duration.ofSeconds(60));
        assertEquals(List.of(0L, 2L), masks.stream().map(m -> seqOf(m.value())).toList());
        List<ConsumerRecord<String, byte[]>> dead = read("mtl-dlq", 1, true, Duration.ofSeconds(60));
        assertEquals(1, dead.size());
        assertEquals("1", header(dead.get(0), WireFormat.HEADER_SEQ));
        assertEquals(WireFormat.ERR_MASK_TOO_LARGE, header(dead.get(0), WireFormat.DLQ_ERROR_CLASS));
        assertTrue(header(dead.get(0), WireFormat.DLQ_ERROR_MESSAGE).contains("masks.max-bytes"),
                header(dead.get(0), WireFormat.DLQ_ERROR_MESSAGE));
    }

    static long seqOf(byte[] json) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("seq").asLong();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // ---- item 2: every compression codec, topics -> run -> consume as the README tells a user

    @Test
    void topicsRunConsumeWithEveryCompressionCodec() throws Exception {
        String servers = kafka.bootstrapServers();
        assertEquals(0, mpvss("topics", "--bootstrap-servers", servers, "--replication-factor", "1", "--partitions",
                "1").rc());
        // frames from two cameras, one gzip-, one lz4-compressed by the producer
        int i = 0;
        for (String codec : List.of("gzip", "lz4")) {
            Path folder = Files.createDirectories(dir.resolve("frames-" + codec));
            for (int k = 0; k < 3; k++) {
                Files.write(folder.resolve(String.format("%06d.png", k)), image(64, 32, k + i, "png"));
            }
            i++;
            Result produce = mpvss("produce", "--input", folder.toString(), "--bootstrap-servers", servers,
                    "--stream", "cam-" + codec, "--fps", "5", "--start-ts", String.valueOf(T0),
                    "--kafka.properties.compression.type", codec);
            assertEquals(0, produce.rc(), produce.err());
        }
        // the job's sinks write snappy; the masks topic is zstd (kafka-config/topics.properties), so the broker
        // recompresses and consume reads zstd
        Result run = mpvss("run", "--kafka.bootstrap-servers", servers, "--source.bounded", "true",
                "--execution.checkpointing.interval", "500 ms", "--parallelism.default", "1",
                "--kafka.properties.compression.type", "snappy", "--kafka.connect-timeout", "20 s");
        assertEquals(0, run.rc(), run.err());
        Path out = dir.resolve("consumed");
        Result consume = mpvss("consume", "--bootstrap-servers", servers, "--limit", "6", "--out", out.toString(),
                "--idle-timeout", "20s");
        assertEquals(0, consume.rc(), consume.err());
        for (String codec : List.of("gzip", "lz4")) {
            for (int k = 0; k < 3; k++) {
                Path png = out.resolve(String.format("overlays/cam-%s/%06d.png", codec, k));
                assertTrue(Files.isRegularFile(png), png.toString());
            }
        }
    }

    @Test
    void theJobJarCarriesEveryCompressionCodec() throws Exception {
        Path target = Path.of("..", "flink-job", "target"); // tests run in the module's folder
        Path jar;
        try (var files = Files.list(target)) {
            jar = files.filter(f -> f.getFileName().toString().endsWith("-job.jar")).findFirst().orElseThrow(
                    () -> new AssertionError("no job jar in " + target.toAbsolutePath()));
        }
        try (ZipFile z = new ZipFile(jar.toFile())) {
            for (String entry : List.of("org/apache/kafka/common/compress/ZstdCompression.class",
                    "com/github/luben/zstd/ZstdOutputStreamNoFinalizer.class",
                    "com/github/luben/zstd/ZstdInputStreamNoFinalizer.class", "linux/amd64/libzstd-jni-1.5.6-10.so",
                    "org/xerial/snappy/Snappy.class", "net/jpountz/lz4/LZ4Factory.class")) {
                assertTrue(z.getEntry(entry) != null, entry + " in " + jar);
            }
            assertFalse(z.stream().anyMatch(e -> e.getName().startsWith("org/apache/flink/runtime/")),
                    "Flink itself is provided");
        }
    }

    // ---- item 5: SIGTERM of a busy `mpvss run` leaves no open transaction

    @Test
    void sigtermOfABusyRunLeavesNoTransactionOpen() throws Exception {
        kafka.createTopics(Map.of("term-frames", 1, "term-masks", 1, "term-dlq", 1));
        Path log = dir.resolve("term-run.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"), Mpvss.class.getName(), "run",
                "--kafka.bootstrap-servers", kafka.bootstrapServers(), "--kafka.topic.frames", "term-frames",
                "--kafka.topic.masks", "term-masks", "--kafka.topic.dlq", "term-dlq", "--kafka.group-id", "term",
                "--kafka.transactional-id-prefix", "term", "--parallelism.default", "1",
                // long enough that the sink's transaction is open, with masks in it, when the signal comes
                "--execution.checkpointing.interval", "60 s",
                "--execution.checkpointing.dir", dir.resolve("term-checkpoints").toUri().toString(),
                "--execution.checkpointing.savepoint-dir", dir.resolve("term-savepoints").toUri().toString()));
        Process job = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AtomicBoolean sending = new AtomicBoolean(true);
        byte[] jpeg = image(64, 32, 3, "jpg");
        Thread camera = new Thread(() -> {
            try (KafkaProducer<String, byte[]> p = producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
                for (long seq = 0; sending.get(); seq++) {
                    p.send(frame("term-frames", "cam", seq, jpeg));
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "camera");
        camera.start();
        try {
            // busy: masks are being written in an open transaction (visible to read_uncommitted only)
            List<ConsumerRecord<String, byte[]>> uncommitted = read("term-masks", 5, false, Duration.ofSeconds(120));
            assertTrue(uncommitted.size() >= 5, "the job wrote masks; log: " + Files.readString(log));
            job.destroy(); // SIGTERM
            assertTrue(job.waitFor(90, TimeUnit.SECONDS), "mpvss run ended after SIGTERM; log: " + Files.readString(log));
        } finally {
            sending.set(false);
            camera.join(10_000);
            job.destroyForcibly();
        }
        // a fresh transactional producer writes after the stop: read_committed consumers must see it at once,
        // not when the broker times out the stopped job's transaction
        try (KafkaProducer<String, byte[]> p = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "after-stop"))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("term-masks", "marker", "after-stop".getBytes(StandardCharsets.UTF_8)));
            p.commitTransaction();
        }
        long t0 = System.nanoTime();
        boolean seen = false;
        Properties cp = KafkaClients.consumer(kafka.bootstrapServers(), new Properties(), "after-stop");
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of("term-masks"));
            while (!seen && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    seen |= "marker".equals(r.key());
                }
            }
        }
        assertTrue(seen, "a read_committed consumer saw the record written after the stop within 10 s; log: "
                + Files.readString(log));
    }
}
