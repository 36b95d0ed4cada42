package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;

/** {@code mpvss topics}: creates the topics of kafka-config/topics.properties with the Kafka Admin client. */
final class TopicsCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss topics [options]",
            "  Creates frames, masks and frames-dlq as specified in kafka-config/topics.properties (existing",
            "  topics are left as they are).",
            KafkaClients.SERVERS_USAGE,
            "  --spec FILE                topic spec (default kafka-config/topics.properties)",
            "  --replication-factor N     override (1 for a single broker; min.insync.replicas follows)",
            "  --partitions N             override the partition count of every topic",
            "  --frames.max-bytes N       the job's frames.max-bytes (default: the spec's, 4194304); max.message.bytes",
            "                             of frames (+64 KiB) and frames-dlq (+128 KiB) are derived from it",
            KafkaClients.PROPERTIES_USAGE);

    private TopicsCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        String servers = KafkaClients.bootstrapServers(args);
        Path spec = RepoPaths.resolve(args.get("spec", null), "kafka-config/topics.properties");
        Integer partitions = args.has("partitions") ? args.getPositiveInt("partitions", 1) : null;
        Short rf = args.has("replication-factor") ? (short) args.getPositiveInt("replication-factor", 1) : null;
        Integer framesMaxBytes = args.has("frames.max-bytes") ? args.getPositiveInt("frames.max-bytes", 1) : null;
        Properties user = KafkaClients.userProperties(args);
        args.rejectUnknown();
        if (!Files.isRegularFile(spec)) {
            throw new UsageException("no topic spec file: " + spec);
        }
        TopicSpecs specs = TopicSpecs.read(spec);
        if (framesMaxBytes != null) {
            try {
                specs = specs.withFramesMaxBytes(io.mpvss.config.RecordSizes.checked(framesMaxBytes));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
        }
        Properties props = KafkaClients.admin(servers, user);
        props.putIfAbsent(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        int failed = 0;
        try (Admin admin = Admin.create(props)) {
            for (TopicSpecs.Spec s0 : specs.topics()) {
                TopicSpecs.Spec s = s0.with(partitions, rf);
                Map<String, KafkaFuture<Void>> r = admin.createTopics(java.util.List.of(s.toNewTopic())).values();
                String state;
                try {
                    r.get(s.name()).get();
                    state = "created";
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) {
                        state = "exists (unchanged)";
                    } else {
                        state = "FAILED: " + e.getCause().getMessage();
                        failed++;
                    }
                }
                out.printf(Locale.ROOT, "%-12s partitions=%-3d replication-factor=%d  %s%n", s.name(), s.partitions(),
                        s.replicationFactor(), state);
            }
        }
        return failed == 0 ? 0 : 1;
    }
}
