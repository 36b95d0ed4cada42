package io.mpvss.kafka;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Apache Kafka broker, in this JVM, in KRaft mode: one node that is both broker and controller.
 *
 * <p>Built on Kafka's own test kit ({@link KafkaClusterTestKit}), so it runs the same broker code as a production
 * cluster: transactions, read_committed isolation and consumer groups all behave as they do there. The settings are
 * made for one node (replication factor 1 for the internal topics, min.insync.replicas=1) so that Flink's exactly-once
 * {@code KafkaSink} works against it. Used by {@code mpvss demo} and the tests; not part of the job jar.
 *
 * <pre>{@code
 * try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
 *     kafka.createTopics(Map.of("frames", 4, "masks", 4));
 *     String servers = kafka.bootstrapServers();
 * }
 * }</pre>
 */
public final class EmbeddedKafka implements AutoCloseable {

    /**
     * Largest record the broker and its topics accept: the largest dead letter of the job at its default
     * {@code frames.max-bytes} (io.mpvss.config.RecordSizes), so every record the job can read it can also write.
     */
    public static final int MAX_MESSAGE_BYTES = RecordSizes.deadLetterBytes(JobOptions.FRAMES_MAX_BYTES.defaultValue());

    private final KafkaClusterTestKit cluster;
    private final Path baseDir;
    private final boolean ownsBaseDir;

    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** Closes the broker and deletes its data if the JVM exits without {@link #close()} (e.g. Ctrl-C). */
    private final Thread exitHook;

    private EmbeddedKafka(KafkaClusterTestKit cluster, Path baseDir, boolean ownsBaseDir) {
        this.cluster = cluster;
        this.baseDir = baseDir;
        this.ownsBaseDir = ownsBaseDir;
        this.exitHook = new Thread(() -> {
            try {
                closeNow();
            } catch (Exception ignored) {
                // exiting anyway
            }
        }, "embedded-kafka-exit");
        Runtime.getRuntime().addShutdownHook(exitHook);
    }

    /** Starts a broker with default settings in a fresh temporary directory. */
    public static EmbeddedKafka start() throws Exception {
        return start(Map.of());
    }

    /**
     * Starts a broker in a fresh temporary directory (deleted on close).
     *
     * @param brokerOverrides broker configuration overriding the defaults of this class (e.g. {@code log.retention.ms})
     */
    public static EmbeddedKafka start(Map<String, String> brokerOverrides) throws Exception {
        Path dir = Files.createTempDirectory("mpvss-kafka-");
        return start(dir, brokerOverrides, true);
    }

    static EmbeddedKafka start(Path baseDir, Map<String, String> brokerOverrides, boolean deleteOnClose)
            throws Exception {
        TestKitNodes nodes = new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                .setBaseDirectory(baseDir)
                .setBootstrapMetadataVersion(MetadataVersion.LATEST_PRODUCTION)
                .build();
        KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(deleteOnClose);
        for (Map.Entry<String, String> e : brokerConfig(brokerOverrides).entrySet()) {
            builder.setConfigProp(e.getKey(), e.getValue());
        }
        KafkaClusterTestKit cluster = builder.build();
        PrintStream stdout = System.out;
        try {
            // the storage formatter prints to System.out: keep the terminal clean
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                cluster.format();
            } finally {
                System.setOut(stdout);
            }
            cluster.startup();
            cluster.waitForReadyBrokers();
        } catch (Exception e) {
            try {
                cluster.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new EmbeddedKafka(cluster, baseDir, deleteOnClose);
    }

    /** The broker settings used for one node, with {@code overrides} applied last. */
    public static Map<String, String> brokerConfig(Map<String, String> overrides) {
        Map<String, String> c = new LinkedHashMap<>();
        // one node: every internal topic has a single replica
        c.put("offsets.topic.replication.factor", "1");
        c.put("offsets.topic.num.partitions", "4");
        c.put("transaction.state.log.replication.factor", "1");
        c.put("transaction.state.log.min.isr", "1");
        c.put("transaction.state.log.num.partitions", "4");
        c.put("share.coordinator.state.topic.replication.factor", "1");
        c.put("share.coordinator.state.topic.min.isr", "1");
        c.put("default.replication.factor", "1");
        c.put("min.insync.replicas", "1");
        // fast start and fast consumer groups
        c.put("group.initial.rebalance.delay.ms", "0");
        // Flink's KafkaSink keeps transactions open for up to a checkpoint interval plus recovery time
        c.put("transaction.max.timeout.ms", String.valueOf(Duration.ofHours(1).toMillis()));
        // frames are images: allow records of several MB
        c.put("message.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        c.put("replica.fetch.max.bytes", String.valueOf(MAX_MESSAGE_BYTES));
        c.put("auto.create.topics.enable", "false");
        c.put("num.partitions", "1");
        c.put("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        c.putAll(overrides);
        return c;
    }

    /** {@code host:port} of the broker's client listener. */
    public String bootstrapServers() {
        return cluster.bootstrapServers();
    }

    /** Client properties with {@code bootstrap.servers} set: a base for producers, consumers and admin clients. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** The directory holding the broker's logs and metadata. */
    public Path baseDirectory() {
        return baseDir;
    }

    /** Creates topics with one partition each (existing topics are left as they are). */
    public void createTopics(String... topics) throws InterruptedException, ExecutionException {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String t : topics) {
            m.put(t, 1);
        }
        createTopics(m);
    }

    /** Creates topics with the given partition counts (existing topics are left as they are). */
    public void createTopics(Map<String, Integer> partitionsByTopic) throws InterruptedException, ExecutionException {
        List<NewTopic> topics = new ArrayList<>();
        for (Map.Entry<String, Integer> e : partitionsByTopic.entrySet()) {
            topics.add(new NewTopic(e.getKey(), e.getValue(), (short) 1)
                    .configs(Map.of("max.message.bytes", String.valueOf(MAX_MESSAGE_BYTES))));
        }
        createTopics(topics);
    }

    /** Creates topics exactly as given (existing topics are left as they are). */
    public void createTopics(Collection<NewTopic> topics) throws InterruptedException, ExecutionException {
        try (Admin admin = admin()) {
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e :
                    admin.createTopics(topics).values().entrySet()) {
                try {
                    e.getValue().get();
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw ex;
                    }
                }
            }
        }
    }

    /** A new admin client for this broker; the caller closes it. */
    public Admin admin() {
        Map<String, Object> conf = new HashMap<>();
        conf.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return Admin.create(conf);
    }

    @Override
    public void close() throws Exception {
        try {
            Runtime.getRuntime().removeShutdownHook(exitHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs (or ran) closeNow()
        }
        closeNow();
    }

    private void closeNow() throws Exception {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            cluster.close();
        } finally {
            if (ownsBaseDir) {
                deleteQuietly(baseDir);
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (Exception ignored) {
                    // best effort: a temp dir
                }
            });
        } catch (Exception ignored) {
            // best effort
        }
    }
}
