package io.mpvss.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.job.KafkaPreflight;
import io.mpvss.job.MpvssJob;
import io.mpvss.model.TestBundles;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The command line's keys and values against the job's and Flink's declared options, and main's start-up checks. */
class KnownOptionsTest {

    static void accepted(String... kv) {
        KnownOptions.check(map(kv), Set.of());
    }

    static String refused(String... kv) {
        return assertThrows(KnownOptions.InvalidOptionException.class, () -> KnownOptions.check(map(kv), Set.of()))
                .getMessage();
    }

    static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void acceptsJobOptionsFlinksOwnKeysAndKafkaProperties() {
        accepted("kafka.bootstrap-servers", "b:9092", "key.interval", "3", "key.max-time-gap", "500 ms",
                "delivery.guarantee", "at-least-once", "frames.max-bytes", "8388608", "kafka.connect-timeout", "2 s");
        accepted("parallelism.default", "4", "execution.checkpointing.interval", "1 s", "execution.checkpointing.dir",
                "file:///tmp/c", "state.backend.type", "rocksdb", "restart-strategy.type", "none",
                "taskmanager.memory.task.off-heap.size", "2g", "execution.state-recovery.path", "file:///tmp/s",
                "execution.checkpointing.savepoint-dir", "file:///tmp/sp", "pipeline.max-parallelism", "128");
        accepted("state.backend.rocksdb.localdir", "/tmp/r", "kafka.properties.security.protocol", "SASL_SSL",
                "metrics.reporter.prom.factory.class", "x", "s3.endpoint", "https://s3");
        // deprecated spellings Flink still reads
        accepted("state.checkpoints.dir", "file:///tmp/c");
        assertTrue(KnownOptions.flinkOptions().size() > 500, "Flink declares hundreds: " + KnownOptions.flinkOptions().size());
    }

    @Test
    void refusesUnknownKeysWithTheNearestKnownOne() {
        assertEquals("unknown option --kafka.bootstrap-server (did you mean --kafka.bootstrap-servers?)",
                refused("kafka.bootstrap-server", "h"));
        assertTrue(refused("parallelism.defualt", "2").contains("did you mean --parallelism.default?"));
        assertTrue(refused("key.intervall", "2").contains("did you mean --key.interval?"));
        assertTrue(refused("foo.bar", "1").startsWith("unknown option --foo.bar (did you mean --"));
        assertFalse(refused("foo.bar", "1").contains("\n"));
    }

    @Test
    void refusesBadValuesNamingKeyValueAndWhatIsExpected() {
        assertEquals("--key.interval: 'abc' is not valid: expected a whole number", refused("key.interval", "abc"));
        assertEquals("--key.max-time-gap: 'soon' is not valid: expected a duration such as 500 ms, 2 s or 1 min",
                refused("key.max-time-gap", "soon"));
        assertEquals("--source.bounded: 'maybe' is not valid: expected true or false", refused("source.bounded", "maybe"));
        assertEquals("--delivery.guarantee: 'twice' is not valid: expected one of exactly-once | at-least-once | none",
                refused("delivery.guarantee", "twice"));
        assertTrue(refused("parallelism.default", "x").startsWith("--parallelism.default: 'x'"));
        assertTrue(refused("taskmanager.memory.task.off-heap.size", "lots").contains("a size such as"));
        assertTrue(refused("frames.max-bytes", "10").contains("between 1024 and"));
        assertEquals("--key.interval needs a value: expected a whole number", refused("key.interval", "__NO_VALUE_KEY"));
    }

    @Test
    void mainFailsBeforeSubmissionWithTheSameLine() throws Exception {
        String bundle = TestBundles.dir().toString();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MpvssJob.main(new String[] {
                "--model.dir", bundle, "--kafka.bootstrap-server", "h:1"}));
        assertEquals("unknown option --kafka.bootstrap-server (did you mean --kafka.bootstrap-servers?)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MpvssJob.main(new String[] {"--model.dir", bundle,
                "--key.interval", "abc"}));
        assertEquals("--key.interval: 'abc' is not valid: expected a whole number", e.getMessage());
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        long t0 = System.nanoTime();
        String servers = "127.0.0.1:" + port;
        IllegalStateException down = assertThrows(KafkaPreflight.KafkaUnavailableException.class, () -> MpvssJob.main(
                new String[] {"--model.dir", bundle, "--kafka.bootstrap-servers", servers, "--kafka.connect-timeout",
                        "2 s", "--delivery.guarantee", "at-least-once"}));
        assertTrue(System.nanoTime() - t0 < 30_000_000_000L, "bounded by kafka.connect-timeout");
        assertEquals("cannot reach Kafka at " + servers + " within 2 s (kafka.connect-timeout): no broker answered "
                + "(check the address, the port and the listeners' advertised names)", down.getMessage());
    }
}
