package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArgsTest {

    @Test
    void keyValueFlagsAndEquals() {
        Args a = Args.parse(new String[] {"--fps", "12.5", "--realtime", "--limit=3", "--offset", "-5", "--x.y", "z"});
        assertEquals(12.5, a.getDouble("fps", 0));
        assertTrue(a.getBoolean("realtime", false));
        assertEquals(3, a.getInt("limit", 0));
        assertEquals(-5, a.getLong("offset", 0));
        assertEquals("z", a.get("x.y", null));
        assertEquals("d", a.get("missing", "d"));
        a.rejectUnknown();
        assertArrayEquals(new String[] {"--fps", "12.5", "--realtime", "true", "--limit", "3", "--offset", "-5",
                "--x.y", "z"}, a.toArgv());
    }

    @Test
    void clearMessagesForBadInput() {
        assertEquals("unexpected argument 'file.mp4' (options are --key value)",
                assertThrows(UsageException.class, () -> Args.parse(new String[] {"file.mp4"})).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> Args.parse(new String[] {"--a", "1", "--a", "2"}))
                .getMessage().contains("twice"));
        Args a = Args.parse(new String[] {"--limit", "many", "--typo", "1", "--d", "soon"});
        assertEquals("--limit expects a whole number, got 'many'",
                assertThrows(UsageException.class, () -> a.getInt("limit", 0)).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> a.getDuration("d", Duration.ZERO)).getMessage()
                .contains("duration"));
        assertEquals("unknown option --typo", assertThrows(UsageException.class, a::rejectUnknown).getMessage());
        assertEquals("--input VIDEO|DIR is required", assertThrows(UsageException.class,
                () -> Args.parse(new String[0]).required("input", "VIDEO|DIR")).getMessage());
        assertThrows(UsageException.class, () -> Args.parse(new String[] {"--n", "0"}).getPositiveInt("n", 1));
    }

    @Test
    void durationsAndPrefixes() {
        Args a = Args.parse(new String[] {"--t", "500ms", "--kafka.properties.security.protocol", "SSL"});
        assertEquals(Duration.ofMillis(500), a.getDuration("t", null));
        assertEquals("SSL", a.withPrefix("kafka.properties.").get("kafka.properties.security.protocol"));
        assertFalse(a.unread().contains("kafka.properties.security.protocol"));
    }

    @Test
    void kafkaPropertiesFromFileAndFlags(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.properties");
        Files.writeString(f, "# comment\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n");
        Args a = Args.parse(new String[] {"--kafka-properties-file", f.toString(),
                "--kafka.properties.sasl.mechanism", "PLAIN"});
        Properties p = KafkaClients.userProperties(a);
        assertEquals("SASL_SSL", p.getProperty("security.protocol"));
        assertEquals("PLAIN", p.getProperty("sasl.mechanism"), "flags win over the file");
        a.rejectUnknown();
        assertTrue(assertThrows(UsageException.class, () -> KafkaClients.userProperties(Args.parse(
                new String[] {"--kafka-properties-file", dir.resolve("nope").toString()}))).getMessage()
                .contains("no such properties file"));
    }

    @Test
    void runCommandExpandsThePropertiesFileForTheJob(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("c.properties");
        Files.writeString(f, "security.protocol=SSL\n");
        Args a = Args.parse(new String[] {"--kafka-properties-file", f.toString(), "--kafka.bootstrap-servers",
                "b:9093", "--model.dir", "/m"});
        String joined = String.join(" ", RunCommand.jobArgs(a));
        assertTrue(joined.contains("--kafka.properties.security.protocol SSL"), joined);
        assertTrue(joined.contains("--model.dir /m"), joined);
        assertFalse(joined.contains("kafka-properties-file"), joined);
    }

    @Test
    void topicSpecsOfTheRepository() throws IOException {
        Path spec = RepoPaths.resolve(null, "kafka-config/topics.properties");
        TopicSpecs s = TopicSpecs.read(spec);
        assertEquals(3, s.topics().size());
        TopicSpecs.Spec frames = s.topics().stream().filter(t -> t.name().equals("frames")).findFirst().orElseThrow();
        // the spec's frames.max-bytes is the job's default, and frames' record limit derives from it (+64 KiB)
        assertEquals(io.mpvss.config.JobOptions.FRAMES_MAX_BYTES.defaultValue(), s.framesMaxBytes());
        assertEquals("4259840", frames.configs().get("max.message.bytes"));
        TopicSpecs.Spec one = frames.with(null, (short) 1);
        assertEquals("1", one.configs().get("min.insync.replicas"), "capped at the replication factor");
        assertEquals(frames.partitions(), one.partitions());
    }

    @Test
    void progressBar() {
        assertEquals("[##########----------]", Progress.bar(5, 10, 20));
        assertEquals("[????]", Progress.bar(5, 0, 4));
        Progress p = new Progress(System.out, false);
        p.counter("masks", 4).set(1);
        assertTrue(p.line().startsWith("masks 1/4 [#####---------------]  25%"), p.line());
    }

    @Test
    void listsFoldersAndJobSettings(@TempDir Path dir) {
        Args a = Args.parse(new String[] {"--intervals", "1, 5,", "--guarantees", "exactly-once,at-least-once",
            "--clips", dir.toString(), "--key.interval", "3", "--parallelism.default", "1", "--typo", "x"});
        assertEquals(List.of(1, 5), a.getIntList("intervals", List.of()));
        assertEquals(List.of("exactly-once", "at-least-once"), a.getList("guarantees", List.of()));
        assertEquals(dir, a.getFolder("clips", null));
        // job options are the dotted keys the command did not read itself; a typo without a dot stays unknown
        assertEquals(Map.of("key.interval", "3", "parallelism.default", "1"), a.jobSettings());
        assertEquals("unknown option --typo", assertThrows(UsageException.class, a::rejectUnknown).getMessage());
        assertEquals("--n expects whole numbers separated by commas, got '1,x'", assertThrows(UsageException.class,
                () -> Args.parse(new String[] {"--n", "1,x"}).getIntList("n", null)).getMessage());
        assertTrue(assertThrows(UsageException.class, () -> Args.parse(new String[] {"--clips",
            dir.resolve("nope").toString()}).getFolder("clips", null)).getMessage().startsWith("no such folder: "));
    }
}
