package io.mpvss.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Kafka client settings of every tool (produce, consume, topics, demo, bench): bootstrap servers plus TLS/SASL
 * properties, large records allowed. The tools' one place for client properties; {@code user} properties win.
 */
public final class KafkaClients {

    /** Option prefix shared with the job (JobOptions.KAFKA_PROPERTIES_PREFIX). */
    static final String PROPERTIES_PREFIX = "kafka.properties.";
    /** Records up to this size: the job's largest dead letter at its default frames.max-bytes (RecordSizes). */
    static final int MAX_RECORD_BYTES = io.mpvss.kafka.EmbeddedKafka.MAX_MESSAGE_BYTES;

    /** The help line of {@code --bootstrap-servers}, as {@link #bootstrapServers} reads it. */
    static final String SERVERS_USAGE = "  --bootstrap-servers HOSTS  Kafka (default localhost:9092)";
    /** The help lines of the options {@link #userProperties} reads. */
    static final String PROPERTIES_USAGE = String.join("\n",
            "  --kafka-properties-file F  Kafka client properties (TLS/SASL; see kafka-config/)",
            "  --kafka.properties.K V     one Kafka client property");

    private KafkaClients() {
    }

    /** {@code --bootstrap-servers HOSTS}, default localhost:9092. */
    static String bootstrapServers(Args args) {
        return args.get("bootstrap-servers", "localhost:9092");
    }

    /**
     * The client properties from {@code --kafka-properties-file FILE} and {@code --kafka.properties.<name> v}
     * (the latter win).
     */
    static Properties userProperties(Args args) {
        Properties p = new Properties();
        String file = args.get("kafka-properties-file", null);
        if (file != null) {
            p.putAll(Args.readPropertiesFile(Path.of(file)));
        }
        for (Map.Entry<String, String> e : args.withPrefix(PROPERTIES_PREFIX).entrySet()) {
            p.setProperty(e.getKey().substring(PROPERTIES_PREFIX.length()), e.getValue());
        }
        return p;
    }

    /**
     * Admin client settings: the user's properties with these servers, and 30 s for each call unless the user's
     * properties say otherwise.
     */
    static Properties admin(String bootstrap, Properties user) {
        Properties p = new Properties();
        p.putAll(user);
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.putIfAbsent(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return p;
    }

    public static Properties producer(String bootstrap, Properties user) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(MAX_RECORD_BYTES));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "mpvss-produce-" + UUID.randomUUID().toString().substring(0, 8));
        p.putAll(user);
        return p;
    }

    public static Properties consumer(String bootstrap, Properties user, String groupId) {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(MAX_RECORD_BYTES));
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(8 * MAX_RECORD_BYTES));
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "mpvss-consume-" + UUID.randomUUID().toString().substring(0, 8));
        p.putAll(user);
        return p;
    }
}
