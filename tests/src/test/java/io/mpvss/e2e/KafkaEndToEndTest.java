package io.mpvss.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.cli.KafkaClients;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.config.JobOptions;
import io.mpvss.job.MpvssJob;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.state.StateCompaction;
import io.mpvss.operator.OfflineReference;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * End to end on real parts: Apache Kafka's own broker (in-process KRaft), Flink's MiniCluster, ONNX Runtime on the
 * exported graphs. 3 streams x 40 JPEG frames plus malformed records go in through {@code frames}; the job is the
 * production Kafka pipeline ({@link MpvssJob#buildKafkaPipeline}) with exactly-once sinks and 500 ms checkpoints.
 * Read back with read_committed, every frame has exactly one mask document, in order per stream, with key frames
 * where the policy says, and every label map equals an offline run of the same graphs (same key frames, same state
 * compaction): the streaming result is the offline result. Midway the TaskManager is lost and replaced; the
 * job recovers from its last checkpoint and the output is still exactly one identical document per frame.
 */
class KafkaEndToEndTest {

    static final int STREAMS = 3;
    static final int FRAMES = 40;
    static final int W = 200;
    static final int H = 120;
    /** Frames per stream produced before the TaskManager failure (not a multiple of K: a restored key is used). */
    static final int SPLIT = 22;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start();
        kafka.createTopics(Map.of("frames", 2, "masks", 2, "frames-dlq", 1));
    }

    @AfterAll
    static void stopKafka() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    void framesInMasksOutExactlyOnceAcrossATaskManagerLossAndEqualToOffline(@InjectMiniCluster MiniCluster mini)
            throws Exception {
        Path bundleDir = bundleDir();
        Map<String, List<byte[]>> clips = clips();
        List<String> streams = new ArrayList<>(clips.keySet());
        long t0 = 1_760_000_000_000L;

        Map<String, String> expectedDead = new LinkedHashMap<>();
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            produce(p, clips, streams, 0, SPLIT, t0, expectedDead);
        }

        // --- run the production pipeline (unbounded source: the second half is produced after the failure)
        Configuration conf = new Configuration();
        conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
        conf.set(JobOptions.MODEL_DIR, bundleDir.toString());
        conf.set(JobOptions.SOURCE_BOUNDED, false);
        conf.set(JobOptions.STARTING_OFFSETS, io.mpvss.config.StartingOffsets.EARLIEST);
        conf.set(JobOptions.DELIVERY_GUARANTEE, org.apache.flink.connector.base.DeliveryGuarantee.EXACTLY_ONCE);
        conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "e2e-" + System.nanoTime());
        conf.set(JobOptions.GROUP_ID, "e2e");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(500);
        // RocksDB, as deployed: state goes through KeyFrameStateSerializer on every access and in checkpoints.
        env.configure(Configuration.fromMap(Map.of("restart-strategy.type", "fixed-delay",
                "restart-strategy.fixed-delay.attempts", "3", "restart-strategy.fixed-delay.delay", "200 ms",
                "state.backend.type", "rocksdb")));
        MpvssJob.buildKafkaPipeline(env, conf);
        long start = System.nanoTime();
        JobClient job = env.executeAsync("mpvss-e2e");

        // A real failure mid-stream: once some masks are committed, the TaskManager running the job goes away and a
        // fresh one takes over from the last checkpoint. Exactly-once means nobody downstream sees the difference.
        int seenBeforeFailure = waitForCommitted("masks", 15, Duration.ofSeconds(180));
        assertEquals(JobStatus.RUNNING, job.getJobStatus().get());
        mini.terminateTaskManager(0).get();
        mini.startTaskManager();
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            produce(p, clips, streams, SPLIT, FRAMES, t0, expectedDead);
        }

        // --- read back what was committed
        List<ConsumerRecord<byte[], byte[]>> masks = consumeAll("masks", STREAMS * FRAMES);
        List<ConsumerRecord<byte[], byte[]>> dead = consumeAll("frames-dlq", expectedDead.size());
        job.cancel().get();
        System.out.printf("e2e: %d frames through the job in %.1f s, TaskManager lost after %d committed masks%n",
                STREAMS * FRAMES, (System.nanoTime() - start) / 1e9, seenBeforeFailure);

        Map<String, List<MaskDocument>> byStream = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : masks) {
            MaskDocument d = MaskDocument.fromJson(r.value());
            assertEquals(d.getStream(), new String(r.key(), StandardCharsets.UTF_8));
            assertEquals(d.getCaptureTs(), r.timestamp(), "record timestamp = capture time");
            byStream.computeIfAbsent(d.getStream(), k -> new ArrayList<>()).add(d);
        }
        assertEquals(STREAMS * FRAMES, masks.size(), "exactly one document per frame");

        try (ModelBundle bundle = ModelBundle.open(bundleDir, InferenceOptions.defaults())) {
            int interval = bundle.manifest().keyInterval();
            long differFp32 = 0;
            long pixels = 0;
            for (String s : streams) {
                List<MaskDocument> docs = byStream.get(s);
                assertNotNull(docs, "no masks for " + s);
                assertEquals(FRAMES, docs.size(), s);
                // the job's default state compaction (uint8 masks, JPEG key image) and no compaction at all
                OfflineReference compact = OfflineReference.withJobDefaults(bundle);
                OfflineReference fp32 = new OfflineReference(bundle, StateCompaction.FULL);
                for (int seq = 0; seq < FRAMES; seq++) {
                    MaskDocument d = docs.get(seq);
                    assertEquals(seq, d.getSeq(), s + ": in order by seq");
                    boolean key = seq % interval == 0;
                    assertEquals(key, d.isKeyFrame(), s + "#" + seq + " key flag");
                    assertEquals(seq - seq % interval, d.getKeySeq(), s + "#" + seq + " key seq");
                    assertEquals(seq == 0 ? "no-state" : key ? "interval" : null, d.getKeyReason());
                    assertEquals(bundle.modelId(), d.getModel());
                    LabelMapPng.Image lm = LabelMapPng.read(d.getLabelMapPng());
                    FrameRecord frame = FrameRecord.of(s, seq, 0, clips.get(s).get(seq));
                    byte[] want = compact.next(frame, key);
                    assertEquals(d.getWidth(), lm.width());
                    assertArrayEquals(want, lm.labels(), s + "#" + seq + ": streaming label map != offline");
                    byte[] full = fp32.next(frame, key);
                    for (int i = 0; i < full.length; i++) {
                        differFp32 += full[i] != want[i] ? 1 : 0;
                    }
                    pixels += full.length;
                }
            }
            System.out.printf("e2e: compact state (default) vs fp32 + raw key image: %.4f%% of label pixels differ (%d of %d, %s)%n",
                    100.0 * differFp32 / pixels, differFp32, pixels, bundle.modelId());
        }

        // --- dead letters: the original record plus error headers; good frames were unaffected (checked above)
        Map<String, Integer> deadByClass = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            Header h = r.headers().lastHeader(WireFormat.DLQ_ERROR_CLASS);
            assertNotNull(h);
            assertNotNull(r.headers().lastHeader(WireFormat.DLQ_ERROR_MESSAGE));
            assertEquals("frames", new String(r.headers().lastHeader(WireFormat.DLQ_SOURCE_TOPIC).value()));
            deadByClass.merge(new String(h.value(), StandardCharsets.UTF_8), 1, Integer::sum);
        }
        Map<String, Integer> wantDead = new HashMap<>();
        expectedDead.values().forEach(c -> wantDead.merge(c, 1, Integer::sum));
        assertEquals(wantDead, deadByClass);
    }

    /** Frames [from, to) of every stream, interleaved, with malformed records among them. */
    static void produce(KafkaProducer<byte[], byte[]> p, Map<String, List<byte[]>> clips, List<String> streams,
            int from, int to, long t0, Map<String, String> expectedDead) {
        for (int seq = from; seq < to; seq++) {
            for (String s : streams) {
                p.send(frame(s, seq, t0 + seq * 40L, clips.get(s).get(seq)));
            }
            if (seq == 10) {
                p.send(frame(streams.get(1), 10, t0 + 400, clips.get(streams.get(1)).get(10))); // duplicate
                expectedDead.put(streams.get(1) + "#dup", WireFormat.ERR_STALE_OR_DUPLICATE);
            }
            if (seq == 17) {
                p.send(frame(streams.get(0), 1000, t0 + 17 * 40L, "not an image".getBytes(StandardCharsets.UTF_8)));
                expectedDead.put(streams.get(0) + "#garbage", WireFormat.ERR_UNDECODABLE_IMAGE);
                p.send(new ProducerRecord<>("frames", null, t0, streams.get(2).getBytes(StandardCharsets.UTF_8),
                        clips.get(streams.get(2)).get(0),
                        List.of(new RecordHeader(WireFormat.HEADER_TS, Long.toString(t0).getBytes()))));
                expectedDead.put(streams.get(2) + "#noseq", WireFormat.ERR_MISSING_HEADER);
            }
        }
        p.flush();
    }

    static ProducerRecord<byte[], byte[]> frame(String stream, long seq, long ts, byte[] image) {
        return new ProducerRecord<>("frames", null, ts, stream.getBytes(StandardCharsets.UTF_8), image, List.of(
                new RecordHeader(WireFormat.HEADER_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8)),
                new RecordHeader(WireFormat.HEADER_TS, Long.toString(ts).getBytes(StandardCharsets.UTF_8))));
    }

    static KafkaProducer<byte[], byte[]> producer() {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p);
    }

    /** A read_committed consumer's settings from the start of a topic (the tools' settings), keys as bytes. */
    static Properties consumerProperties(String group) {
        Properties keys = new Properties();
        keys.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return KafkaClients.consumer(kafka.bootstrapServers(), keys, group);
    }

    /** Polls {@code topic} (read_committed) until {@code atLeast} records are visible; returns how many were. */
    static int waitForCommitted(String topic, int atLeast, Duration timeout) {
        Properties p = consumerProperties("e2e-watch-" + System.nanoTime());
        int n = 0;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (n < atLeast && System.nanoTime() < deadline) {
                n += c.poll(Duration.ofMillis(100)).count();
            }
        }
        return n;
    }

    /** Everything committed in {@code topic} (read_committed), waiting up to 30 s for at least {@code expected}. */
    static List<ConsumerRecord<byte[], byte[]>> consumeAll(String topic, int expected) {
        Properties p = consumerProperties("e2e-check-" + topic + "-" + System.nanoTime());
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            // a deadline, not a speed bound: it ends as soon as every record is in (a loaded 2-core machine is slow)
            long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
            int idle = 0;
            while (System.nanoTime() < deadline && (out.size() < expected || idle < 3)) {
                int n = 0;
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    out.add(r);
                    n++;
                }
                idle = n == 0 && out.size() >= expected ? idle + 1 : 0;
            }
        }
        return out;
    }

    /**
     * Frames per stream: the clips in -Dmpvss.test.clips or model-ops' demo clips when present (JPEG as shipped, the
     * first 3 clips with 40 frames), else synthetic moving shapes.
     */
    static Map<String, List<byte[]>> clips() throws Exception {
        Map<String, List<byte[]>> clips = new LinkedHashMap<>();
        String override = System.getProperty("mpvss.test.clips");
        Path demo = override != null && !override.isBlank() ? Paths.get(override) : repoPath("model-ops/demo-clips");
        if (demo != null) {
            try (Stream<Path> dirs = Files.list(demo)) {
                for (Path clip : dirs.sorted().toList()) {
                    Path frames = clip.resolve("frames");
                    if (!Files.isDirectory(frames) || clips.size() == STREAMS) {
                        continue;
                    }
                    try (Stream<Path> fs = Files.list(frames)) {
                        List<Path> jpgs = fs.filter(f -> f.toString().endsWith(".jpg")).sorted().limit(FRAMES).toList();
                        if (jpgs.size() == FRAMES) {
                            List<byte[]> bytes = new ArrayList<>();
                            for (Path f : jpgs) {
                                bytes.add(Files.readAllBytes(f));
                            }
                            clips.put("clip-" + clip.getFileName(), bytes);
                        }
                    }
                }
            }
            if (clips.size() == STREAMS) {
                return clips;
            }
            clips.clear();
        }
        for (int s = 0; s < STREAMS; s++) {
            List<byte[]> frames = new ArrayList<>();
            for (int t = 0; t < FRAMES; t++) {
                frames.add(synthetic(s, t));
            }
            clips.put("cam-" + s, frames);
        }
        return clips;
    }

    static byte[] synthetic(int stream, int t) throws Exception {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = img.createGraphics();
        for (int y = 0; y < H; y++) {
            g.setColor(new Color(60 + y, 110 + 40 * stream % 120, 220 - y));
            g.drawLine(0, y, W, y);
        }
        g.setColor(new Color(80, 80, 90));
        g.fillRect(0, H * 2 / 3, W, H / 3);
        g.setColor(new Color(210, 40 + 60 * stream, 30));
        g.fillRect((t * (4 + stream) + 30 * stream) % (W + 30) - 30, H / 2, W / 5, H / 5);
        g.setColor(new Color(20, 150, 50));
        g.fillOval(W - (t * 3 + 17 * stream) % W, H / 6, H / 4, H / 4);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /** The bundle: -Dmpvss.test.bundle, else the repo's model-ops/bundle. */
    static Path bundleDir() {
        String prop = System.getProperty("mpvss.test.bundle");
        if (prop != null && !prop.isBlank()) {
            return Paths.get(prop).toAbsolutePath();
        }
        Path b = repoPath("model-ops/bundle");
        if (b == null || !Files.isRegularFile(b.resolve("manifest.json"))) {
            throw new IllegalStateException("no model bundle for the tests: model-ops/bundle/manifest.json is missing;"
                    + " export one (model-ops/scripts/export.py) or run with -Dmpvss.test.bundle=DIR");
        }
        return b;
    }

    static Path repoPath(String rel) {
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("model-ops"))) {
                Path r = p.resolve(rel);
                return Files.exists(r) ? r : null;
            }
        }
        return null;
    }
}
