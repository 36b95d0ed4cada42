package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.render.Palette;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * examples/python/masks_to_png.py against a real broker: documents of three streams (real label maps of the demo
 * clips, the job's MaskDocument JSON) written in transactions, plus a repeat, an aborted document and a record that
 * is not a document. The script (run by /usr/bin/python3 as a child process) must write one PNG per document whose
 * every pixel is the manifest's colour of its label, nothing for the aborted one, drop the repeat, and keep the bad
 * record's bytes.
 */
class PythonMasksConsumerTest {

    private static final String PYTHON = "/usr/bin/python3";

    @TempDir
    Path dir;

    private static boolean pythonHasItsModules() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import confluent_kafka, PIL, numpy")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void writesOneColourPngPerCommittedDocument() throws Exception {
        assumeTrue(pythonHasItsModules(), PYTHON + " cannot import confluent_kafka, PIL and numpy (scripts/test.sh "
                + "installs python3-confluent-kafka): Python consumer example test skipped");
        Path repo = RepoPaths.resolve(null, ".");
        Path bundle = repo.resolve("model-ops/bundle");
        Palette palette = Palette.fromManifest(bundle);
        Map<String, String> clips = new LinkedHashMap<>();
        clips.put("cam-east", "test-300097");
        clips.put("site/gate:2", "test-300098"); // an id that is not a safe file name
        clips.put("cam-west", "test-300099");
        Map<String, List<LabelMapPng.Image>> written = new LinkedHashMap<>();

        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(Map.of("masks", 2));
            Properties txn = new Properties();
            txn.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "python-test");
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(
                    kafka.bootstrapServers(), txn))) {
                producer.initTransactions();
                producer.beginTransaction();
                for (Map.Entry<String, String> c : clips.entrySet()) {
                    Path folder = repo.resolve("model-ops/demo-clips").resolve(c.getValue()).resolve("labels");
                    List<LabelMapPng.Image> images = new ArrayList<>();
                    try (var files = Files.list(folder)) {
                        for (Path p : files.sorted().limit(4).toList()) {
                            images.add(LabelMapPng.read(Files.readAllBytes(p)));
                        }
                    }
                    for (int seq = 0; seq < images.size(); seq++) {
                        producer.send(new ProducerRecord<>("masks", c.getKey(),
                                LiveViewBrowserTest.document(new LiveViewBrowserTest.Clip(c.getKey(), images), seq,
                                        palette).toJson()));
                    }
                    written.put(c.getKey(), images);
                }
                // an at-least-once repeat of cam-east seq 1, and a record that is not a document
                producer.send(new ProducerRecord<>("masks", "cam-east", LiveViewBrowserTest.document(
                        new LiveViewBrowserTest.Clip("cam-east", written.get("cam-east")), 1, palette).toJson()));
                producer.send(new ProducerRecord<>("masks", "cam-east", "{\"not\": \"a mask\"}"
                        .getBytes(StandardCharsets.UTF_8)));
                producer.commitTransaction();
                // aborted: must never become a PNG
                producer.beginTransaction();
                MaskDocument aborted = LiveViewBrowserTest.document(
                        new LiveViewBrowserTest.Clip("cam-aborted", written.get("cam-east")), 0, palette);
                producer.send(new ProducerRecord<>("masks", "cam-aborted", aborted.toJson()));
                producer.flush();
                producer.abortTransaction();
            }

            Path out = dir.resolve("png");
            Process p = new ProcessBuilder(PYTHON, repo.resolve("examples/python/masks_to_png.py").toString(),
                    "--bootstrap-servers", kafka.bootstrapServers(), "--out", out.toString(), "--manifest",
                    bundle.resolve("manifest.json").toString(), "--idle-timeout", "5").redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the script did not end:\n" + log);
            assertEquals(0, p.exitValue(), log);
            assertTrue(log.contains("wrote 12 PNGs of 3 streams"), log);
            assertTrue(log.contains("1 repeats dropped, 1 unreadable"), log);

            for (Map.Entry<String, List<LabelMapPng.Image>> e : written.entrySet()) {
                Path folder = out.resolve(e.getKey().replaceAll("[^A-Za-z0-9._@-]", "_"));
                for (int seq = 0; seq < e.getValue().size(); seq++) {
                    Path png = folder.resolve(seq + ".png");
                    assertTrue(Files.isRegularFile(png), png + " missing:\n" + log);
                    BufferedImage img = ImageIO.read(png.toFile());
                    assertNotNull(img, png.toString());
                    LabelMapPng.Image labels = e.getValue().get(seq);
                    assertEquals(labels.width(), img.getWidth());
                    assertEquals(labels.height(), img.getHeight());
                    for (int y = 0; y < img.getHeight(); y++) {
                        for (int x = 0; x < img.getWidth(); x++) {
                            int id = labels.labels()[y * labels.width() + x] & 0xFF;
                            assertEquals(palette.rgb(id), img.getRGB(x, y) & 0xFFFFFF,
                                    png + " pixel " + x + "," + y + " (class " + id + ")");
                        }
                    }
                }
                try (var files = Files.list(folder)) {
                    assertEquals(e.getValue().size(), files.count(), folder + ": one PNG per document");
                }
            }
            assertTrue(!Files.exists(out.resolve("cam-aborted")), "a document of an aborted transaction was written");
            try (var bad = Files.list(out.resolve("_unreadable"))) {
                List<Path> kept = bad.toList();
                assertEquals(1, kept.size());
                assertEquals("{\"not\": \"a mask\"}", Files.readString(kept.get(0)));
            }
        }
    }
}
