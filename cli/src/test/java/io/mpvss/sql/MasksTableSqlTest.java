package io.mpvss.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import io.mpvss.cli.KafkaClients;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.render.Palette;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/**
 * kafka-config/masks-table.sql as written: its CREATE TABLE and its example query (share of person pixels per stream
 * per minute) on Flink's own runtime (a MiniCluster), reading real mask documents (the job's MaskDocument JSON, label
 * maps of the demo clips) from a real broker through Flink's Kafka table connector and JSON format. The result must
 * equal the shares computed here from the same documents; a document in an aborted transaction must not count.
 */
class MasksTableSqlTest {

    private static final Path SQL = Path.of("..", "kafka-config", "masks-table.sql");
    /**
     * A whole minute a few minutes ago: documents span T0 .. T0 + 1:50 (two one-minute windows). Recent on purpose:
     * the broker's time-based retention (7 days) deletes records with older timestamps while the test runs.
     */
    private static final long T0 = (System.currentTimeMillis() / 60_000 - 5) * 60_000;

    /** The file's statements: `--` comments dropped, split at the `;` that ends a line. */
    static List<String> statements(String sql) {
        StringBuilder sb = new StringBuilder();
        for (String line : sql.split("\n")) {
            int c = line.indexOf("--");
            sb.append(c >= 0 ? line.substring(0, c) : line).append('\n');
        }
        List<String> r = new ArrayList<>();
        for (String s : sb.toString().split(";\\s*\n")) {
            if (!s.isBlank()) {
                r.add(s.trim().replaceAll(";$", ""));
            }
        }
        return r;
    }

    private static List<LabelMapPng.Image> labels(String clip) throws Exception {
        Path folder = Path.of("..", "model-ops", "demo-clips", clip, "labels");
        List<LabelMapPng.Image> l = new ArrayList<>();
        try (var files = Files.list(folder)) {
            for (Path p : files.sorted().limit(12).toList()) {
                l.add(LabelMapPng.read(Files.readAllBytes(p)));
            }
        }
        return l;
    }

    private static MaskDocument document(String stream, long seq, long captureTs, LabelMapPng.Image img,
                                         Palette palette) {
        long[] counts = new long[palette.size()];
        for (byte b : img.labels()) {
            if ((b & 0xFF) < counts.length) {
                counts[b & 0xFF]++;
            }
        }
        Map<String, Long> pixels = new LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            pixels.put(palette.name(i), counts[i]);
        }
        MaskDocument d = new MaskDocument();
        d.setSchema(MaskDocument.SCHEMA);
        d.setStream(stream);
        d.setSeq(seq);
        d.setCaptureTs(captureTs);
        d.setKeyFrame(seq % 5 == 0);
        d.setKeySeq(seq - seq % 5);
        d.setKeyReason(seq % 5 == 0 ? (seq == 0 ? "no-state" : "interval") : null);
        d.setModel("mpvss-synth@1.1.0");
        d.setWidth(img.width());
        d.setHeight(img.height());
        d.setLabelMapPng(LabelMapPng.encode(img.labels(), img.width(), img.height()));
        d.classPixels(pixels);
        d.setProcessingMs(8.5);
        d.setEmittedTs(captureTs + 40);
        return d;
    }

    @Test
    void personSharePerStreamPerMinuteFromTheDdlFile() throws Exception {
        Palette palette = Palette.fromManifest(Path.of("..", "model-ops", "bundle"));
        int person = palette.idOf("person");
        assertTrue(person >= 0);
        // expected: stream -> window start -> {person pixels, all pixels, frames}
        Map<String, Map<Long, long[]>> expected = new TreeMap<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            // one partition: Flink's Kafka source starts a partition's watermark at its first record, so with two
            // partitions one may run ahead at start and make the other's first records late (docs/sql.md)
            kafka.createTopics(Map.of("masks", 1));
            Properties txn = new Properties();
            txn.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sql-test");
            Map<String, List<LabelMapPng.Image>> clips = new LinkedHashMap<>();
            clips.put("cam-east", labels("test-300097"));
            clips.put("cam-west", labels("test-300098"));
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(
                    kafka.bootstrapServers(), txn))) {
                producer.initTransactions();
                for (int i = 0; i < 12; i++) { // one frame every 10 s of capture time per stream
                    long ts = T0 + i * 10_000L;
                    producer.beginTransaction();
                    for (Map.Entry<String, List<LabelMapPng.Image>> c : clips.entrySet()) {
                        LabelMapPng.Image img = c.getValue().get(i);
                        MaskDocument d = document(c.getKey(), i, ts, img, palette);
                        producer.send(new ProducerRecord<>("masks", null, ts, c.getKey(), d.toJson()));
                        long[] e = expected.computeIfAbsent(c.getKey(), k -> new TreeMap<>())
                                .computeIfAbsent(ts - ts % 60_000, k -> new long[3]);
                        e[0] += d.classPixels().get("person");
                        e[1] += (long) d.getWidth() * d.getHeight();
                        e[2]++;
                    }
                    producer.commitTransaction();
                    if (i == 5) {
                        // an aborted write (a job that failed before its checkpoint): all person, never counted
                        producer.beginTransaction();
                        LabelMapPng.Image img = clips.get("cam-east").get(0);
                        byte[] all = new byte[img.labels().length];
                        java.util.Arrays.fill(all, (byte) person);
                        producer.send(new ProducerRecord<>("masks", null, ts + 1, "cam-east", document("cam-east",
                                1000, ts + 1, new LabelMapPng.Image(all, img.width(), img.height()), palette)
                                .toJson()));
                        producer.flush();
                        producer.abortTransaction();
                    }
                }
            }

            List<String> statements = statements(Files.readString(SQL, StandardCharsets.UTF_8));
            assertEquals(2, statements.size(), "CREATE TABLE and the example query: " + statements);
            TableEnvironment tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
            tEnv.getConfig().setLocalTimeZone(ZoneOffset.UTC);
            tEnv.getConfig().set("parallelism.default", "1");
            tEnv.executeSql(statements.get(0));
            // as docs/sql.md says: point it at the broker, and read up to the latest offsets so the query ends
            tEnv.executeSql("ALTER TABLE masks SET ('properties.bootstrap.servers' = '" + kafka.bootstrapServers()
                    + "', 'scan.bounded.mode' = 'latest-offset')");

            Map<String, Map<Long, Object[]>> actual = new TreeMap<>();
            TableResult result = tEnv.executeSql(statements.get(1));
            try (CloseableIterator<Row> rows = result.collect()) {
                while (rows.hasNext()) {
                    Row r = rows.next();
                    LocalDateTime start = (LocalDateTime) r.getField("window_start");
                    LocalDateTime end = (LocalDateTime) r.getField("window_end");
                    assertEquals(start.plusMinutes(1), end);
                    actual.computeIfAbsent((String) r.getField("stream"), k -> new TreeMap<>())
                            .put(start.toInstant(ZoneOffset.UTC).toEpochMilli(),
                                    new Object[] {r.getField("frames"), r.getField("person_share")});
                }
            }

            assertEquals(expected.keySet(), actual.keySet());
            for (String stream : expected.keySet()) {
                Map<Long, long[]> e = expected.get(stream);
                Map<Long, Object[]> a = actual.get(stream);
                assertEquals(e.keySet(), a.keySet(), stream + " windows");
                for (Long w : e.keySet()) {
                    long[] x = e.get(w);
                    Object[] y = a.get(w);
                    String what = stream + " window " + Instant.ofEpochMilli(w);
                    assertEquals(x[2], ((Number) y[0]).longValue(), what + ": frames");
                    double share = x[0] / (double) x[1];
                    assertEquals(share, (Double) y[1], 1e-12, what + ": person share");
                    assertTrue(share > 0 && share < 0.5, what + ": implausible share " + share);
                }
            }
        }
    }
}
