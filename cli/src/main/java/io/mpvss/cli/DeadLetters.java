package io.mpvss.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

import io.mpvss.format.WireFormat;

/**
 * What is in a dead-letter topic: the count, the count by {@code mpvss.error.class}, and a few examples. Read by
 * {@code mpvss demo} (its summary) and {@code mpvss bench} (bad input must be 0 there).
 */
public record DeadLetters(long count, Map<String, Long> byErrorClass, List<String> examples) {

    /** Reads {@code topic} from its start to the end offsets it has now (read_committed). */
    public static DeadLetters read(String servers, String topic) {
        Properties p = KafkaClients.consumer(servers, new Properties(), "mpvss-dlq-reader-" + System.nanoTime());
        Map<String, Long> byClass = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        long n = 0;
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> endOffsets = c.endOffsets(parts, Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline && parts.stream().anyMatch(tp -> c.position(tp) < endOffsets.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    n++;
                    String cls = header(r, WireFormat.DLQ_ERROR_CLASS);
                    byClass.merge(cls == null ? "?" : cls, 1L, Long::sum);
                    if (examples.size() < 3) {
                        examples.add(r.key() + " seq " + header(r, WireFormat.HEADER_SEQ) + ": " + cls + " \u2014 "
                                + header(r, WireFormat.DLQ_ERROR_MESSAGE));
                    }
                }
            }
        }
        return new DeadLetters(n, byClass, examples);
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
