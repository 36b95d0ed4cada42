package io.mpvss.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mpvss.cli.KafkaClients;
import io.mpvss.cli.Mpvss;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.operator.OfflineReference;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job on a real cluster of separate processes, driven the way an operator drives it: a Kafka broker process
 * ({@code kafka.Kafka}, KRaft, storage formatted with Kafka's StorageTool), a JobManager and a TaskManager started by
 * {@code deploy/standalone/start-cluster.sh} (free ports, a temporary directory), topics created with
 * {@code mpvss topics}, the demo clips sent with {@code mpvss produce}, the shaded job jar submitted with Flink's own
 * client ({@code submit.sh}), and stopped with a savepoint by {@code stop.sh}.
 *
 * <p>Three streams go through four phases, split at frames that are not key frames, so that each phase starts by
 * propagating from a key frame that came back from a checkpoint or savepoint:
 * <ol>
 *   <li>parallelism 1; after the first masks are committed the TaskManager is killed (SIGKILL) and a new one is
 *       started (start-cluster.sh waits for it to register); the job recovers from its last checkpoint;</li>
 *   <li>after the recovery, more frames; then stop.sh stops the job with a savepoint;</li>
 *   <li>submit.sh --from-savepoint at parallelism 2 (rescale up), more frames, stop with a savepoint;</li>
 *   <li>submit.sh --from-savepoint at parallelism 1 (rescale down), more frames, one undecodable record and one
 *       without mpvss.seq (dead letters of the keyed operator and of the validate step); the TaskManager's
 *       Prometheus endpoint is scraped for the operators' metrics.</li>
 * </ol>
 * Read back with read_committed: exactly one mask per frame, key frames exactly where an uninterrupted run puts them
 * (no key frame forced by a failure or a restore: the first frame after each restore has key_frame=false and the
 * key_seq of a frame before it), and every label map bit-equal to {@link OfflineReference} (the same graphs on the
 * same frames, same key frames, same state compaction: uint8 masks, JPEG key image), i.e. to a failure-free run.
 *
 * <p>Tagged {@code cluster}: it starts seven JVMs, so it runs in its own CI stage ({@code scripts/test-cluster.sh}),
 * not in the default {@code mvn verify}.
 */
@Tag("cluster")
class StandaloneClusterTest {

    static final int STREAMS = 3;
    /** Phase boundaries (seq of each phase's first frame); none is a multiple of the key interval 5. */
    static final int[] PHASES = {0, 12, 23, 31, 38};
    /** Capture-time step: timestamps follow seq, so no phase's pause counts as a time gap (key.max-time-gap). */
    static final long STEP_MS = 40;
    static final Duration WAIT = Duration.ofMinutes(3);

    @TempDir
    static Path work;

    static Path repo;
    static Map<String, String> clusterEnv;
    static Process broker;
    static String bootstrap;
    static int tmMetricsPort;
    static int restPort;
    static final long T0 = System.currentTimeMillis();

    @BeforeAll
    static void startBrokerAndCluster() throws Exception {
        repo = repoRoot();
        Path cp = repo.resolve("cli/target/classpath.txt");
        assertTrue(Files.isRegularFile(cp), "no " + cp + ": build first (mvn -DskipTests package)");
        try (Stream<Path> jars = Files.list(repo.resolve("flink-job/target"))) {
            assertTrue(jars.anyMatch(p -> p.getFileName().toString().matches("mpvss-flink-job-.*-job\\.jar")),
                    "no shaded job jar in flink-job/target: build first (mvn -DskipTests package)");
        }
        bootstrap = startBroker(Files.readString(cp).trim());

        int[] ports = freePorts(4);
        restPort = ports[0];
        tmMetricsPort = ports[3];
        clusterEnv = new LinkedHashMap<>();
        clusterEnv.put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        clusterEnv.put("MPVSS_STANDALONE_DIR", work.resolve("flink").toString());
        clusterEnv.put("MPVSS_REST_PORT", Integer.toString(ports[0]));
        clusterEnv.put("MPVSS_RPC_PORT", Integer.toString(ports[1]));
        clusterEnv.put("MPVSS_JM_METRICS_PORT", Integer.toString(ports[2]));
        clusterEnv.put("MPVSS_TM_METRICS_PORT", Integer.toString(ports[3]));
        // Notice the killed TaskManager in seconds, not the default 50 s; restart at a fixed 1 s delay.
        clusterEnv.put("MPVSS_FLINK_PROPERTIES", "heartbeat.interval=1s heartbeat.timeout=8s "
                + "restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=20 "
                + "restart-strategy.fixed-delay.delay=1s");
        script("start-cluster.sh");
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (clusterEnv != null) {
            try {
                script("stop-cluster.sh");
            } catch (AssertionError | Exception e) {
                System.err.println("stop-cluster.sh: " + e.getMessage());
            }
        }
        if (broker != null) {
            broker.destroy();
            if (!broker.waitFor(20, TimeUnit.SECONDS)) {
                broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void failoverStopWithSavepointAndRescaleGiveOneIdenticalMaskPerFrameAndMetricsAreScraped() throws Exception {
        Map<String, List<Path>> clips = clips();
        List<String> streams = new ArrayList<>(clips.keySet());
        int total = STREAMS * PHASES[PHASES.length - 1];
        long start = System.nanoTime();

        assertEquals(0, mpvss("topics", "--bootstrap-servers", bootstrap, "--replication-factor", "1",
                "--partitions", "2"));
        String txPrefix = "cluster-test-" + System.nanoTime();
        List<String> job = List.of("--kafka.bootstrap-servers", bootstrap, "--kafka.starting-offsets", "earliest",
                "--kafka.transactional-id-prefix", txPrefix, "--execution.checkpointing.interval", "1s");

        try (KafkaConsumer<byte[], byte[]> masks = consumer("masks")) {
            List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();

            // (a) a TaskManager killed mid-stream and replaced
            String job1 = lastLine(script("submit.sh", concat(List.of("--parallelism", "1"), job)));
            produce(clips, 0, 1);
            awaitMasks(masks, seen, STREAMS * 4);
            String killedIds = rest("/taskmanagers");
            long tm = Long.parseLong(Files.readString(work.resolve("flink/pid/taskmanager.pid")).trim());
            ProcessHandle victim = ProcessHandle.of(tm).orElseThrow();
            Runtime.getRuntime().exec(new String[] {"kill", "-KILL", Long.toString(tm)}).waitFor();
            victim.onExit().get(30, TimeUnit.SECONDS);
            String restarted = script("start-cluster.sh");
            Matcher registered = Pattern.compile("TaskManager (\\S+) registered").matcher(restarted);
            assertTrue(registered.find(), restarted);
            assertFalse(killedIds.contains("\"" + registered.group(1) + "\""),
                    "start-cluster.sh must wait for the new TaskManager, not count the killed one: " + restarted);
            produce(clips, 1, 2);
            awaitMasks(masks, seen, STREAMS * PHASES[2]);

            // (b) stop with a savepoint, restore at parallelism 2, stop again, restore at parallelism 1
            String sp1 = lastLine(script("stop.sh", "--savepoint", work.resolve("savepoints").toString(), job1));
            assertEquals("FINISHED", jobState(job1));
            produce(clips, 2, 3);
            String job2 = lastLine(script("submit.sh", concat(List.of("--from-savepoint", sp1, "--parallelism", "2"),
                    job)));
            assertEquals(2, operatorParallelism(job2, "mask-propagation"));
            awaitMasks(masks, seen, STREAMS * PHASES[3]);
            String sp2 = lastLine(script("stop.sh", "--savepoint", work.resolve("savepoints").toString(), job2));
            assertTrue(!sp2.equals(sp1), "a new savepoint");

            produce(clips, 3, 4);
            try (KafkaProducer<byte[], byte[]> p = producer()) {
                // one dead letter for the metrics: a record that is not an image, on a stream of its own
                p.send(new ProducerRecord<>("frames", null, T0, "garbage-cam".getBytes(StandardCharsets.UTF_8),
                        "not an image".getBytes(StandardCharsets.UTF_8), List.of(
                        new RecordHeader(WireFormat.HEADER_SEQ, "0".getBytes(StandardCharsets.UTF_8)),
                        new RecordHeader(WireFormat.HEADER_TS, Long.toString(T0).getBytes(StandardCharsets.UTF_8)))))
                        .get();
                // and one the validate step answers before the key-by: no mpvss.seq header
                p.send(new ProducerRecord<>("frames", null, T0, "no-seq-cam".getBytes(StandardCharsets.UTF_8),
                        "not an image either".getBytes(StandardCharsets.UTF_8), List.of(
                        new RecordHeader(WireFormat.HEADER_TS, Long.toString(T0).getBytes(StandardCharsets.UTF_8)))))
                        .get();
            }
            String job3 = lastLine(script("submit.sh", concat(List.of("--from-savepoint", sp2, "--parallelism", "1"),
                    job)));
            assertEquals(1, operatorParallelism(job3, "mask-propagation"));
            awaitMasks(masks, seen, total);

            // (c) the operator's metrics as Prometheus scrapes them from the TaskManager (this job: phase 4 only)
            checkMetrics(PHASES[4] - PHASES[3]);
            script("stop.sh", "--savepoint", work.resolve("savepoints").toString(), job3);
        }
        System.out.printf("cluster: %d frames through 3 jobs (TaskManager killed once, 2 savepoints, p=1->2->1) "
                + "in %.1f s%n", total, (System.nanoTime() - start) / 1e9);

        // --- everything committed, read again from the start: exactly one identical mask per frame
        List<ConsumerRecord<byte[], byte[]>> all = readAll("masks", total);
        assertEquals(total, all.size(), "exactly one committed mask per frame");
        Map<String, List<MaskDocument>> byStream = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            MaskDocument d = MaskDocument.fromJson(r.value());
            byStream.computeIfAbsent(d.getStream(), k -> new ArrayList<>()).add(d);
        }
        try (ModelBundle bundle = ModelBundle.open(repo.resolve("model-ops/bundle"), InferenceOptions.defaults())) {
            int k = bundle.manifest().keyInterval();
            for (int b : PHASES) {
                assertTrue(b == 0 || b % k != 0, "phase boundary " + b + " must not be a key frame (K=" + k + ")");
            }
            for (String s : streams) {
                List<MaskDocument> docs = byStream.get(s);
                assertNotNull(docs, "no masks for " + s);
                docs.sort(Comparator.comparingLong(MaskDocument::getSeq));
                assertEquals(PHASES[PHASES.length - 1], docs.size(), s + ": one mask per frame");
                OfflineReference offline = OfflineReference.withJobDefaults(bundle);
                for (int seq = 0; seq < docs.size(); seq++) {
                    MaskDocument d = docs.get(seq);
                    assertEquals(seq, d.getSeq(), s + ": every seq once");
                    boolean key = seq % k == 0;
                    assertEquals(key, d.isKeyFrame(), s + "#" + seq + ": key frame as in an uninterrupted run");
                    assertEquals(seq - seq % k, d.getKeySeq(), s + "#" + seq + ": key seq");
                    byte[] image = Files.readAllBytes(clips.get(s).get(seq));
                    byte[] want = offline.next(FrameRecord.of(s, seq, 0, image), key);
                    assertArrayEquals(want, LabelMapPng.read(d.getLabelMapPng()).labels(),
                            s + "#" + seq + ": label map != the failure-free run");
                }
            }
        }
        // nothing replayed into the operator twice (that would be a stale-or-duplicate dead letter): only the two bad records
        List<ConsumerRecord<byte[], byte[]>> dead = readAll("frames-dlq", 2);
        assertEquals(2, dead.size(), "dead letters");
        assertEquals(Set.of(WireFormat.ERR_UNDECODABLE_IMAGE, WireFormat.ERR_MISSING_HEADER), dead.stream()
                .map(r -> new String(r.headers().lastHeader(WireFormat.DLQ_ERROR_CLASS).value(), StandardCharsets.UTF_8))
                .collect(java.util.stream.Collectors.toSet()));
    }

    /** Scrapes the TaskManager's /metrics until the operator's metrics show the last job's frames. */
    static void checkMetrics(int framesPerStream) throws Exception {
        int k = io.mpvss.model.ModelManifest.read(repo.resolve("model-ops/bundle")).keyInterval();
        int keys = 0;
        for (int seq = PHASES[3]; seq < PHASES[4]; seq++) {
            keys += seq % k == 0 ? 1 : 0;
        }
        double wantKeys = STREAMS * keys;
        double wantPropagated = STREAMS * (framesPerStream - keys);
        String prefix = "flink_taskmanager_job_task_operator_mpvss_";
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<Sample> ours = List.of();
        String problem = "no scrape";
        while (System.nanoTime() < deadline) {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + tmMetricsPort
                    + "/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            List<Sample> all = Sample.parse(body);
            ours = all.stream().filter(x -> x.name.startsWith(prefix)
                    && "mask_propagation".equals(x.labels.get("operator_name"))).toList();
            problem = metricsProblem(ours, prefix, wantKeys, wantPropagated);
            boolean validated = all.stream().anyMatch(x -> x.name.equals(prefix + "error_class_deadLetters")
                    && "validate".equals(x.labels.get("operator_name"))
                    && promLabel(WireFormat.ERR_MISSING_HEADER).equals(x.labels.get("error_class")) && x.value == 1);
            if (problem == null && !validated) {
                problem = "no error_class_deadLetters{operator_name=\"validate\",error_class=\""
                        + promLabel(WireFormat.ERR_MISSING_HEADER) + "\"} 1";
            }
            if (problem == null) {
                System.out.println("cluster: scraped " + ours.size() + " mpvss samples, e.g. "
                        + ours.stream().filter(x -> x.name.endsWith("keyFrames") || x.name.endsWith("lagMs")
                        || x.name.endsWith("framesPerSecond")).map(Sample::toString).toList());
                return;
            }
            Thread.sleep(1000);
        }
        fail("metrics: " + problem + "\n" + String.join("\n", ours.stream().map(Sample::toString).toList()));
    }

    static String metricsProblem(List<Sample> s, String prefix, double keys, double propagated) {
        Map<String, Double> sum = new TreeMap<>();
        for (Sample x : s) {
            if (!x.labels.containsKey("quantile")) {
                sum.merge(x.name.substring(prefix.length()), x.value, Double::sum);
            }
        }
        if (sum.getOrDefault("keyFrames", 0.0) != keys) {
            return "keyFrames " + sum.get("keyFrames") + " != " + keys;
        }
        if (sum.getOrDefault("propagatedFrames", 0.0) != propagated) {
            return "propagatedFrames " + sum.get("propagatedFrames") + " != " + propagated;
        }
        if (sum.getOrDefault("segmentorLatencyMs_count", 0.0) != keys
                || sum.getOrDefault("propagatorLatencyMs_count", 0.0) != propagated) {
            return "latency histogram counts " + sum;
        }
        for (String h : List.of("segmentorLatencyMs", "propagatorLatencyMs")) {
            boolean median = s.stream().anyMatch(x -> x.name.equals(prefix + h)
                    && "0.5".equals(x.labels.get("quantile")) && x.value > 0);
            if (!median) {
                return h + " has no median > 0";
            }
        }
        boolean dead = s.stream().anyMatch(x -> x.name.equals(prefix + "error_class_deadLetters")
                && promLabel(WireFormat.ERR_UNDECODABLE_IMAGE).equals(x.labels.get("error_class")) && x.value == 1);
        if (!dead) {
            return "no error_class_deadLetters{error_class=\"" + promLabel(WireFormat.ERR_UNDECODABLE_IMAGE) + "\"} 1";
        }
        if (!(sum.getOrDefault("framesPerSecond", 0.0) > 0)) {
            return "framesPerSecond not > 0 (the meter updates every 5 s)";
        }
        boolean provider = s.stream().anyMatch(x -> x.name.equals(prefix + "provider_executionProvider")
                && List.of("CPU", "CUDA").contains(x.labels.get("provider")) && x.value == 1);
        if (!provider) {
            return "no provider_executionProvider{provider=CPU|CUDA} 1";
        }
        // one subtask at parallelism 1: its last key frame's state and its last frame's lag
        double stateBytes = sum.getOrDefault("keyFrameStateBytes", -1.0);
        if (!(stateBytes > 1000)) {
            return "keyFrameStateBytes " + stateBytes;
        }
        double lag = sum.getOrDefault("lagMs", -1.0);
        if (!(lag >= 0 && lag < Duration.ofHours(1).toMillis())) {
            return "lagMs " + lag;
        }
        return null;
    }

    /** A label value as Flink's Prometheus reporter writes it: characters other than [A-Za-z0-9:_] become '_'. */
    static String promLabel(String value) {
        return value.replaceAll("[^A-Za-z0-9:_]", "_");
    }

    /** One line of Prometheus' text format. */
    record Sample(String name, Map<String, String> labels, double value) {
        static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

        static List<Sample> parse(String text) {
            List<Sample> out = new ArrayList<>();
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int brace = line.indexOf('{');
                int space = line.lastIndexOf(' ');
                String name = brace >= 0 ? line.substring(0, brace) : line.substring(0, space);
                Map<String, String> labels = new HashMap<>();
                if (brace >= 0) {
                    Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}')));
                    while (m.find()) {
                        labels.put(m.group(1), m.group(2));
                    }
                }
                out.add(new Sample(name, labels, Double.parseDouble(line.substring(space + 1))));
            }
            return out;
        }

        @Override
        public String toString() {
            return name + (labels.containsKey("quantile") ? "{quantile=" + labels.get("quantile") + "}" : "")
                    + (labels.containsKey("subtask_index") ? "[" + labels.get("subtask_index") + "]" : "") + " "
                    + value;
        }
    }

    // ------------------------------------------------------------------------------------------------ processes

    /** A broker process: {@code kafka.Kafka} on the Maven classpath, KRaft (broker + controller), storage formatted. */
    static String startBroker(String classpath) throws Exception {
        int[] ports = freePorts(2);
        Path dir = Files.createDirectories(work.resolve("kafka"));
        Properties p = new Properties();
        p.putAll(EmbeddedKafka.brokerConfig(Map.of()));
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@localhost:" + ports[1]);
        p.put("listeners", "PLAINTEXT://localhost:" + ports[0] + ",CONTROLLER://localhost:" + ports[1]);
        p.put("advertised.listeners", "PLAINTEXT://localhost:" + ports[0]);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dir.resolve("data").toString());
        Path props = dir.resolve("server.properties");
        try (var w = Files.newBufferedWriter(props)) {
            p.store(w, "generated by StandaloneClusterTest");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process format = new ProcessBuilder(java, "-Xmx256m", "-cp", classpath, "kafka.tools.StorageTool", "format",
                "-t", Uuid.randomUuid().toString(), "-c", props.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("format.log").toFile()).start();
        assertTrue(format.waitFor(60, TimeUnit.SECONDS), "StorageTool format timed out");
        assertEquals(0, format.exitValue(), () -> "StorageTool format failed: " + read(dir.resolve("format.log")));
        broker = new ProcessBuilder(java, "-Xmx512m", "-cp", classpath, "kafka.Kafka", props.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("broker.log").toFile()).start();
        String servers = "localhost:" + ports[0];
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Properties admin = new Properties();
        admin.put("bootstrap.servers", servers);
        while (true) {
            assertTrue(broker.isAlive(), () -> "the broker exited: " + read(dir.resolve("broker.log")));
            try (var a = org.apache.kafka.clients.admin.Admin.create(admin)) {
                a.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                return servers;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the broker did not come up: " + read(dir.resolve("broker.log")), e);
                }
                Thread.sleep(500);
            }
        }
    }

    /** Runs deploy/standalone/NAME with the test's environment; returns its stdout, fails with its output. */
    static String script(String name, String... args) throws Exception {
        return script(name, List.of(args));
    }

    static String script(String name, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("deploy/standalone").resolve(name).toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(repo.toFile());
        pb.environment().putAll(clusterEnv);
        Path out = Files.createTempFile(work, name, ".out");
        Path err = Files.createTempFile(work, name, ".err");
        long t = System.nanoTime();
        Process proc = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!proc.waitFor(5, TimeUnit.MINUTES)) {
            proc.destroyForcibly();
            fail(name + " timed out: " + read(err));
        }
        String stdout = read(out);
        System.out.printf("cluster: %s %s -> %s (%.1f s, test at %.0f s)%n", name, String.join(" ", args),
                lastLine(stdout.isBlank() ? "(no output)" : stdout), (System.nanoTime() - t) / 1e9,
                (System.currentTimeMillis() - T0) / 1e3);
        assertEquals(0, proc.exitValue(), () -> name + " failed:\n" + stdout + read(err) + logs());
        return stdout;
    }

    static String logs() {
        StringBuilder b = new StringBuilder();
        for (String f : List.of("jobmanager.log", "taskmanager.log", "client.log")) {
            String text = read(work.resolve("flink/log").resolve(f));
            String[] lines = text.split("\n");
            b.append("\n--- ").append(f).append(" (tail)\n")
                    .append(String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 40), lines.length)));
        }
        return b.toString();
    }

    /** The project's own CLI, in process ({@code mpvss topics}, {@code mpvss produce}). */
    static int mpvss(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = Mpvss.execute(argv, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        System.out.print(out.toString(StandardCharsets.UTF_8));
        return rc;
    }

    /** Frames [PHASES[from], PHASES[to]) of every stream, sent with {@code mpvss produce} (one folder per part). */
    static void produce(Map<String, List<Path>> clips, int from, int to) throws Exception {
        int a = PHASES[from];
        int b = PHASES[to];
        for (Map.Entry<String, List<Path>> e : clips.entrySet()) {
            Path part = Files.createDirectories(work.resolve("parts").resolve(e.getKey() + "-" + a));
            for (Path f : e.getValue().subList(a, b)) {
                Files.copy(f, part.resolve(f.getFileName()));
            }
            assertEquals(0, mpvss("produce", "--input", part.toString(), "--stream", e.getKey(),
                    "--bootstrap-servers", bootstrap, "--start-seq", Integer.toString(a),
                    "--start-ts", Long.toString(T0 + a * STEP_MS), "--fps", Double.toString(1000.0 / STEP_MS)));
        }
    }

    /** The first PHASES[last] frames of the first three demo clips. */
    static Map<String, List<Path>> clips() throws IOException {
        Map<String, List<Path>> clips = new LinkedHashMap<>();
        int n = PHASES[PHASES.length - 1];
        try (Stream<Path> dirs = Files.list(repo.resolve("model-ops/demo-clips"))) {
            for (Path clip : dirs.filter(d -> Files.isDirectory(d.resolve("frames"))).sorted().toList()) {
                try (Stream<Path> fs = Files.list(clip.resolve("frames"))) {
                    List<Path> jpgs = fs.filter(f -> f.toString().endsWith(".jpg")).sorted().limit(n).toList();
                    if (jpgs.size() == n && clips.size() < STREAMS) {
                        clips.put("cam-" + clip.getFileName(), jpgs);
                    }
                }
            }
        }
        assertEquals(STREAMS, clips.size(), "demo clips with " + n + " frames in model-ops/demo-clips");
        return clips;
    }

    // ---------------------------------------------------------------------------------------------------- Kafka

    static void awaitMasks(KafkaConsumer<byte[], byte[]> c, List<ConsumerRecord<byte[], byte[]>> seen, int atLeast) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (seen.size() < atLeast && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(200)).forEach(seen::add);
        }
        assertTrue(seen.size() >= atLeast, "only " + seen.size() + " of " + atLeast + " masks committed in " + WAIT
                + logs());
        System.out.printf("cluster: %d masks committed (test at %.0f s)%n", seen.size(),
                (System.currentTimeMillis() - T0) / 1e3);
    }

    static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int expected) {
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(topic)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            int idle = 0;
            while (System.nanoTime() < deadline && (out.size() < expected || idle < 4)) {
                int before = out.size();
                c.poll(Duration.ofMillis(500)).forEach(out::add);
                idle = out.size() == before && out.size() >= expected ? idle + 1 : 0;
            }
        }
        return out;
    }

    /** A read_committed consumer of {@code topic} from its start (the tools' settings), keys as bytes. */
    static KafkaConsumer<byte[], byte[]> consumer(String topic) {
        Properties keys = new Properties();
        keys.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaClients.consumer(bootstrap, keys,
                "cluster-test-" + topic + "-" + System.nanoTime()));
        c.subscribe(List.of(topic));
        return c;
    }

    /** A producer with the tools' settings, keys as bytes. */
    static KafkaProducer<byte[], byte[]> producer() {
        Properties keys = new Properties();
        keys.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return new KafkaProducer<>(KafkaClients.producer(bootstrap, keys));
    }

    // ---------------------------------------------------------------------------------------------------- REST

    static String rest(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + restPort
                + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static String jobState(String jobId) throws Exception {
        Matcher m = Pattern.compile("\"state\":\"([A-Z]+)\"").matcher(rest("/jobs/" + jobId));
        assertTrue(m.find());
        return m.group(1);
    }

    /** The parallelism of the job vertex whose name starts with {@code name} (REST /jobs/ID). */
    static int operatorParallelism(String jobId, String name) throws Exception {
        String json = rest("/jobs/" + jobId);
        Matcher m = Pattern.compile("\"name\":\"" + Pattern.quote(name) + "[^\"]*\",\"maxParallelism\":\\d+,"
                + "\"parallelism\":(\\d+)").matcher(json);
        Matcher m2 = Pattern.compile("\"name\":\"" + Pattern.quote(name) + "[^\"]*\",\"parallelism\":(\\d+)")
                .matcher(json);
        if (m.find()) {
            return Integer.parseInt(m.group(1));
        }
        assertTrue(m2.find(), () -> "no vertex " + name + " in " + json);
        return Integer.parseInt(m2.group(1));
    }

    // ---------------------------------------------------------------------------------------------------- misc

    static int[] freePorts(int n) throws IOException {
        ServerSocket[] sockets = new ServerSocket[n];
        int[] ports = new int[n];
        try {
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                ports[i] = sockets[i].getLocalPort();
            }
        } finally {
            for (ServerSocket s : sockets) {
                if (s != null) {
                    s.close();
                }
            }
        }
        return ports;
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    static String lastLine(String text) {
        String[] lines = text.strip().split("\n");
        return lines[lines.length - 1].strip();
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "(" + e + ")";
        }
    }

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("deploy/standalone")) && Files.isDirectory(p.resolve("model-ops"))) {
                return p;
            }
        }
        throw new IllegalStateException("repository root (deploy/standalone, model-ops) not found above "
                + Path.of("").toAbsolutePath());
    }
}
