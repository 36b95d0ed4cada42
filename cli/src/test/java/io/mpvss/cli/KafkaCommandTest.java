package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.config.RecordSizes;
import io.mpvss.format.WireFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpvss kafka --topics --frames.max-bytes N} as a user starts it (its own JVM, stopped with SIGTERM): the
 * topics are the spec's (kafka-config/topics.properties: zstd masks), their record limits derive from the one size
 * setting as {@code mpvss topics} derives them, and the broker takes the largest dead letter of that setting.
 */
class KafkaCommandTest {

    @TempDir
    Path dir;

    @Test
    void topicsAndRecordLimitsFollowFramesMaxBytes() throws Exception {
        int framesMaxBytes = 6 << 20; // above the default 4 MiB: the broker's own limit must follow it
        Path bootstrapFile = dir.resolve("bootstrap");
        Path log = dir.resolve("kafka.log");
        Process broker = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), Mpvss.class.getName(), "kafka", "--topics",
                "--partitions", "3", "--frames.max-bytes", Integer.toString(framesMaxBytes), "--bootstrap-file",
                bootstrapFile.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.isRegularFile(bootstrapFile) && broker.isAlive() && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            assertTrue(Files.isRegularFile(bootstrapFile), "no bootstrap file; log: " + Files.readString(log));
            String servers = Files.readString(bootstrapFile).trim();
            assertTrue(Files.readString(log).contains("frames.max-bytes " + framesMaxBytes), Files.readString(log));

            Properties props = new Properties();
            props.put("bootstrap.servers", servers);
            try (Admin admin = Admin.create(props)) {
                List<String> names = List.of(WireFormat.DEFAULT_FRAMES_TOPIC, WireFormat.DEFAULT_MASKS_TOPIC,
                        WireFormat.DEFAULT_DLQ_TOPIC);
                Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get();
                assertEquals(3, topics.get(WireFormat.DEFAULT_FRAMES_TOPIC).partitions().size());
                assertEquals(3, topics.get(WireFormat.DEFAULT_MASKS_TOPIC).partitions().size());
                assertEquals(1, topics.get(WireFormat.DEFAULT_DLQ_TOPIC).partitions().size());
                Map<ConfigResource, Config> configs = admin.describeConfigs(names.stream()
                        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList()).all().get();
                assertEquals(String.valueOf(RecordSizes.framesTopicBytes(framesMaxBytes)),
                        value(configs, WireFormat.DEFAULT_FRAMES_TOPIC, "max.message.bytes"));
                assertEquals(String.valueOf(RecordSizes.deadLetterBytes(framesMaxBytes)),
                        value(configs, WireFormat.DEFAULT_DLQ_TOPIC, "max.message.bytes"));
                assertEquals("zstd", value(configs, WireFormat.DEFAULT_MASKS_TOPIC, "compression.type"));
            }
            // the largest dead letter of this setting is accepted by the broker
            Properties user = new Properties();
            user.put("max.request.size", String.valueOf(RecordSizes.deadLetterBytes(framesMaxBytes)));
            Properties pp = KafkaClients.producer(servers, user);
            try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(pp)) {
                byte[] big = new byte[RecordSizes.deadLetterBytes(framesMaxBytes) - 4096];
                p.send(new ProducerRecord<>(WireFormat.DEFAULT_DLQ_TOPIC, "cam", big)).get(60, TimeUnit.SECONDS);
            }
        } finally {
            broker.destroy(); // SIGTERM, as Ctrl-C
            assertTrue(broker.waitFor(60, TimeUnit.SECONDS), "mpvss kafka ended after SIGTERM");
            broker.destroyForcibly();
        }
        assertFalse(Files.exists(bootstrapFile), "the bootstrap file is removed when the broker stops");
        assertTrue(new String(Files.readAllBytes(log), StandardCharsets.UTF_8).contains("stopping the broker"));
    }

    private static String value(Map<ConfigResource, Config> configs, String topic, String key) {
        return configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic)).get(key).value();
    }
}
