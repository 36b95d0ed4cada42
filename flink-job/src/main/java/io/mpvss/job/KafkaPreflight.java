package io.mpvss.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The start-up check against Kafka, before anything is submitted: without it a job pointed at a closed port or a
 * missing topic fails over every minute forever with a hundred stack lines. One admin client, bounded by
 * {@code kafka.connect-timeout}: the brokers answer, the topics exist, and the dead-letter topic takes the largest
 * dead letter. Every failure is one line naming the servers tried.
 */
public final class KafkaPreflight {

    /** The start-up check failed: one line. */
    public static final class KafkaUnavailableException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        KafkaUnavailableException(String message) {
            super(message);
        }
    }

    private KafkaPreflight() {}

    /**
     * The smallest max.message.bytes a topic the job writes must have.
     *
     * @param bytes the limit
     * @param option the job option it comes from
     * @param what what the job writes there ("a dead letter")
     */
    record RecordLimit(int bytes, String option, String what) {}

    /**
     * @param clientProperties the job's Kafka client properties (TLS/SASL)
     * @param topics the topics the job reads and writes
     * @param limits written topics whose max.message.bytes must be at least a limit
     */
    static void check(String servers, Properties clientProperties, List<String> topics, Map<String, RecordLimit> limits,
            Duration timeout) {
        Properties p = new Properties();
        p.putAll(clientProperties);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, servers);
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        p.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "mpvss-preflight");
        String where = "Kafka at " + servers;
        String within = " within " + format(timeout) + " (kafka.connect-timeout)";
        long deadline = System.nanoTime() + timeout.toNanos();
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (RuntimeException e) {
            throw new KafkaUnavailableException("cannot connect to " + where + ": " + oneLine(e));
        }
        try {
            admin.describeCluster().nodes().get(remaining(deadline), TimeUnit.NANOSECONDS);
            Set<String> existing = admin.listTopics().names().get(remaining(deadline), TimeUnit.NANOSECONDS);
            List<String> missing = new ArrayList<>();
            for (String t : new LinkedHashSet<>(topics)) {
                if (!existing.contains(t)) {
                    missing.add(t);
                }
            }
            if (!missing.isEmpty()) {
                throw new KafkaUnavailableException("topic" + (missing.size() > 1 ? "s " : " ") + String.join(", ", missing)
                        + (missing.size() > 1 ? " do" : " does") + " not exist on " + where + " (create them with "
                        + "./mpvss topics --bootstrap-servers " + servers + ", or kafka-config/create-topics.sh)");
            }
            List<ConfigResource> written = limits.keySet().stream()
                    .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
            Map<ConfigResource, Config> configs;
            try {
                configs = admin.describeConfigs(written).all().get(remaining(deadline), TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                // e.g. no DescribeConfigs permission: the size rule is then the operator's to keep (kafka-config/)
                return;
            }
            for (ConfigResource topic : written) {
                RecordLimit need = limits.get(topic.name());
                ConfigEntry limit = configs.get(topic).get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
                if (limit != null && limit.value() != null && Long.parseLong(limit.value()) < need.bytes()) {
                    throw new KafkaUnavailableException("topic " + topic.name() + " on " + where + " takes records "
                            + "up to " + limit.value() + " bytes (max.message.bytes), but " + need.option() + " needs "
                            + need.bytes() + " for " + need.what() + ": raise its max.message.bytes to " + need.bytes()
                            + " or lower " + need.option() + " (kafka-config/README.md)");
                }
            }
        } catch (TimeoutException e) {
            throw new KafkaUnavailableException("cannot reach " + where + within
                    + ": no broker answered (check the address, the port and the listeners' advertised names)");
        } catch (ExecutionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new KafkaUnavailableException("cannot reach " + where + within
                        + ": no broker answered (check the address, the port and the listeners' advertised names)");
            }
            throw new KafkaUnavailableException("cannot use " + where + ": " + oneLine(c));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaUnavailableException("interrupted while checking " + where);
        } finally {
            admin.close(Duration.ofSeconds(1));
        }
    }

    private static long remaining(long deadline) {
        return Math.max(1, deadline - System.nanoTime());
    }

    static String format(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String oneLine(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause(); // "Failed to create new KafkaAdminClient" says less than its cause
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getClass().getSimpleName() + ": " + t.getMessage();
        return m.replaceAll("\\s+", " ").trim();
    }
}
