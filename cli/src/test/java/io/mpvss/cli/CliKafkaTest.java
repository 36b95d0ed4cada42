package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.kafka.EmbeddedKafkaExtension;

import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** produce / consume / topics against a real in-process broker. */
class CliKafkaTest {

    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @TempDir
    static Path dir;

    private static int run(String... argv) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Mpvss.execute(argv, new PrintStream(new ByteArrayOutputStream(), true),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            System.err.println(err.toString(StandardCharsets.UTF_8));
        }
        return rc;
    }

    private static Path writeFrames(Path folder, int n) throws IOException {
        Files.createDirectories(folder);
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_3BYTE_BGR);
            Graphics2D g = img.createGraphics();
            g.setColor(new Color(40 * i, 100, 200));
            g.fillRect(0, 0, 64, 32);
            g.setColor(Color.WHITE);
            g.fillRect(4 * i, 8, 10, 10);
            g.dispose();
            ImageIO.write(img, "png", folder.resolve(String.format("%06d.png", i)).toFile());
        }
        return folder;
    }

    private static List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        Properties p = KafkaClients.consumer(kafka.bootstrapServers(), new Properties(), "t-" + topic);
        List<ConsumerRecord<String, byte[]>> r = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (r.size() < expected && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r::add);
            }
        }
        return r;
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    @Test
    void topicsFromTheSpecFile() throws Exception {
        assertEquals(0, run("topics", "--bootstrap-servers", kafka.bootstrapServers(), "--replication-factor", "1",
                "--partitions", "2"));
        assertEquals(0, run("topics", "--bootstrap-servers", kafka.bootstrapServers(), "--replication-factor", "1"),
                "existing topics are fine");
        var admin = kafka.admin();
        try (admin) {
            assertTrue(admin.listTopics().names().get().containsAll(List.of("frames", "masks", "frames-dlq")));
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "frames");
            Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
            // derived from the one setting frames.max-bytes (kafka-config/topics.properties == the job's default)
            assertEquals(String.valueOf(io.mpvss.config.RecordSizes.framesTopicBytes(
                    io.mpvss.config.JobOptions.FRAMES_MAX_BYTES.defaultValue())), c.get("max.message.bytes").value());
            ConfigResource dlq = new ConfigResource(ConfigResource.Type.TOPIC, "frames-dlq");
            assertEquals(String.valueOf(io.mpvss.config.RecordSizes.deadLetterBytes(
                            io.mpvss.config.JobOptions.FRAMES_MAX_BYTES.defaultValue())),
                    admin.describeConfigs(List.of(dlq)).all().get().get(dlq).get("max.message.bytes").value());
            assertEquals("1", c.get("min.insync.replicas").value());
            assertEquals(2, admin.describeTopics(List.of("masks")).allTopicNames().get().get("masks").partitions()
                    .size());
        }
    }

    @Test
    void produceAFolderOfFrames() throws Exception {
        Path frames = writeFrames(dir.resolve("cam-folder"), 3);
        kafka.createTopics("frames-folder");
        assertEquals(0, run("produce", "--input", frames.toString(), "--bootstrap-servers", kafka.bootstrapServers(),
                "--topic", "frames-folder", "--fps", "5", "--start-ts", "1000", "--stream", "cam-t"));
        List<ConsumerRecord<String, byte[]>> r = readAll("frames-folder", 3);
        assertEquals(3, r.size());
        r.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        for (int i = 0; i < 3; i++) {
            assertEquals("cam-t", r.get(i).key());
            assertEquals(String.valueOf(i), header(r.get(i), "mpvss.seq"));
            assertEquals(String.valueOf(1000 + 200 * i), header(r.get(i), "mpvss.ts"));
            assertEquals(1000 + 200 * i, r.get(i).timestamp());
            assertEquals("png", header(r.get(i), "mpvss.encoding"));
            assertArrayEquals(Files.readAllBytes(frames.resolve(String.format("%06d.png", i))), r.get(i).value());
        }
    }

    @Test
    void produceAVideoWithFfmpeg() throws Exception {
        assumeTrue(VideoFrames.ffmpeg() != null, "ffmpeg not installed");
        Path frames = writeFrames(dir.resolve("video-src"), 6);
        Path video = dir.resolve("clip.avi");
        Process p = new ProcessBuilder("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-framerate", "5", "-i",
                frames.resolve("%06d.png").toString(), "-c:v", "mjpeg", "-q:v", "3", video.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "ffmpeg made the test video");
        kafka.createTopics("frames-video");
        assertEquals(0, run("produce", "--input", video.toString(), "--bootstrap-servers", kafka.bootstrapServers(),
                "--topic", "frames-video", "--fps", "5", "--limit", "4"));
        List<ConsumerRecord<String, byte[]>> r = readAll("frames-video", 4);
        assertEquals(4, r.size());
        for (ConsumerRecord<String, byte[]> rec : r) {
            assertEquals("clip", rec.key(), "stream id defaults to the file name");
            assertEquals("jpeg", header(rec, "mpvss.encoding"));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(rec.value()));
            assertNotNull(img);
            assertEquals(64, img.getWidth());
        }
    }

    @Test
    void consumeMasksIntoOverlays() throws Exception {
        Path frames = writeFrames(dir.resolve("consume-frames/cam-c/frames"), 3);
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        // a manifest as the contract has it (colours from it; the graphs themselves are not needed to draw)
        Files.writeString(model.resolve("manifest.json"), """
                {"name":"m","version":"1","contract":"mpvss/1","input":{"height":32,"width":64},"queries":4,
                 "query_dim":8,"key_interval":5,"graphs":{"segmentor":{"file":"segmentor.onnx","sha256":"x"},
                 "propagator":{"file":"propagator.onnx","sha256":"y"}},
                 "classes":[{"id":0,"name":"road","color":[128,64,128]},{"id":1,"name":"car","color":[0,0,142]}]}
                """);
        kafka.createTopics("masks-c");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(
                kafka.bootstrapServers(), new Properties()))) {
            for (int seq = 0; seq < 3; seq++) {
                byte[] labels = new byte[64 * 32];
                for (int i = 0; i < labels.length; i++) {
                    labels[i] = (byte) (i % 64 < 20 + 5 * seq ? 1 : 0);
                }
                MaskDocument d = new MaskDocument();
                d.setStream("cam-c");
                d.setSeq(seq);
                d.setCaptureTs(1_000 + seq);
                d.setKeyFrame(seq == 0);
                d.setKeySeq(0);
                d.setKeyReason(seq == 0 ? "no-state" : null);
                d.setModel("m@1");
                d.setWidth(64);
                d.setHeight(32);
                d.setLabelMapPng(LabelMapPng.encode(labels, 64, 32));
                Map<String, Long> px = new LinkedHashMap<>();
                px.put("road", 1L);
                px.put("car", 1L);
                d.classPixels(px);
                d.setEmittedTs(System.currentTimeMillis());
                producer.send(new ProducerRecord<>("masks-c", "cam-c", d.toJson()));
                if (seq == 1) { // an at-least-once repeat: dropped by stream+seq
                    producer.send(new ProducerRecord<>("masks-c", "cam-c", d.toJson()));
                }
            }
        }
        Path out = dir.resolve("consume-out");
        assertEquals(0, run("consume", "--bootstrap-servers", kafka.bootstrapServers(), "--topic", "masks-c",
                "--limit", "3", "--out", out.toString(), "--model.dir", model.toString(), "--frames",
                dir.resolve("consume-frames").toString(), "--sheet-step", "1"));
        for (int seq = 0; seq < 3; seq++) {
            Path png = out.resolve(String.format("overlays/cam-c/%06d.png", seq));
            assertTrue(Files.isRegularFile(png), png.toString());
            BufferedImage img = ImageIO.read(png.toFile());
            assertTrue(img.getWidth() >= 64 * 4, "small frames are upscaled");
        }
        assertTrue(Files.isRegularFile(out.resolve("contact-sheet.png")));
        assertTrue(Files.isDirectory(frames));
    }
}
