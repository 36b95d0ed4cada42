package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import io.mpvss.config.JobOptions;

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
        Path spec = TopicSpecs.specFile(args);
        Integer partitions = args.getPositiveIntOrNull("partitions");
        Integer replicationFactor = args.getPositiveIntOrNull("replication-factor");
        Short rf = replicationFactor == null ? null : replicationFactor.shortValue();
        Integer framesMaxBytes = args.getPositiveIntOrNull(JobOptions.FRAMES_MAX_BYTES.key());
        Properties user = KafkaClients.userProperties(args);
        args.rejectUnknown();
        TopicSpecs specs = TopicSpecs.read(spec);
        if (framesMaxBytes != null) {
            specs = specs.withFramesMaxBytes(TopicSpecs.checkedFramesMaxBytes(framesMaxBytes));
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
