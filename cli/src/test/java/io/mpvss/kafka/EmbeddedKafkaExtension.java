package io.mpvss.kafka;

import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The tests' one way to a real in-process broker ({@link EmbeddedKafka}: Apache Kafka in KRaft mode), one broker per
 * test class:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension("frames");
 * }</pre>
 *
 * <p>The broker starts when the class first uses it, so a class that is skipped (a tool missing) starts none; it is
 * closed after the class's last test. The methods are {@link EmbeddedKafka}'s.
 */
public final class EmbeddedKafkaExtension implements AfterAllCallback {

    private final String[] topics;
    private EmbeddedKafka kafka;

    /** @param topics created (one partition each) when the broker starts */
    public EmbeddedKafkaExtension(String... topics) {
        this.topics = topics.clone();
    }

    /** The broker, started on first use. */
    public synchronized EmbeddedKafka broker() {
        if (kafka == null) {
            EmbeddedKafka started = null;
            try {
                started = EmbeddedKafka.start();
                if (topics.length > 0) {
                    started.createTopics(topics);
                }
            } catch (Exception e) {
                IllegalStateException failed = new IllegalStateException("the embedded Kafka broker did not start", e);
                if (started != null) {
                    try {
                        started.close();
                    } catch (Exception suppressed) {
                        failed.addSuppressed(suppressed);
                    }
                }
                throw failed;
            }
            kafka = started;
        }
        return kafka;
    }

    /** @see EmbeddedKafka#bootstrapServers() */
    public String bootstrapServers() {
        return broker().bootstrapServers();
    }

    /** @see EmbeddedKafka#clientProperties() */
    public Properties clientProperties() {
        return broker().clientProperties();
    }

    /** @see EmbeddedKafka#admin() */
    public Admin admin() {
        return broker().admin();
    }

    /** @see EmbeddedKafka#createTopics(String...) */
    public void createTopics(String... topics) throws InterruptedException, ExecutionException {
        broker().createTopics(topics);
    }

    /** @see EmbeddedKafka#createTopics(Map) */
    public void createTopics(Map<String, Integer> partitionsByTopic) throws InterruptedException, ExecutionException {
        broker().createTopics(partitionsByTopic);
    }

    /** @see EmbeddedKafka#createTopics(Collection) */
    public void createTopics(Collection<NewTopic> topics) throws InterruptedException, ExecutionException {
        broker().createTopics(topics);
    }

    @Override
    public synchronized void afterAll(ExtensionContext context) throws Exception {
        if (kafka != null) {
            try {
                kafka.close();
            } finally {
                kafka = null;
            }
        }
    }
}
