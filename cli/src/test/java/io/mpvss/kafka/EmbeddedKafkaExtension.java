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
 * static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();
 * }</pre>
 *
 * <p>The broker starts when the class first uses it, so a class whose {@code @BeforeAll} skips it (a tool missing)
 * starts none; it is closed after the class's last test. The methods are {@link EmbeddedKafka}'s.
 */
public final class EmbeddedKafkaExtension implements AfterAllCallback {

    private EmbeddedKafka kafka;

    /** The broker, started on first use. */
    public synchronized EmbeddedKafka broker() {
        if (kafka == null) {
            try {
                kafka = EmbeddedKafka.start();
            } catch (Exception e) {
                throw new IllegalStateException("the embedded Kafka broker did not start", e);
            }
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
