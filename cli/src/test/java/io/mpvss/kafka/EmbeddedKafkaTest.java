package io.mpvss.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A real in-process KRaft broker: plain and transactional round trips, large records, read_committed. */
class EmbeddedKafkaTest {

    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();

    @Test
    void transactionalRoundTripWithLargeRecordsAndHeaders() throws Exception {
        kafka.createTopics(Map.of("rt", 2));
        kafka.createTopics("rt"); // idempotent
        assertTrue(kafka.admin().listTopics().names().get().contains("rt"));

        byte[] big = new byte[3 * 1024 * 1024];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        Properties pp = kafka.clientProperties();
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(EmbeddedKafka.MAX_MESSAGE_BYTES));
        pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "embedded-kafka-test");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            producer.initTransactions();
            // an aborted transaction is invisible to read_committed consumers
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("rt", "aborted".getBytes(StandardCharsets.UTF_8), new byte[] {1}));
            producer.flush();
            producer.abortTransaction();

            producer.beginTransaction();
            ProducerRecord<byte[], byte[]> rec =
                    new ProducerRecord<>("rt", null, 1234L, "cam-1".getBytes(StandardCharsets.UTF_8), big);
            rec.headers().add("mpvss.seq", "7".getBytes(StandardCharsets.UTF_8));
            producer.send(rec);
            producer.send(new ProducerRecord<>("rt", "cam-2".getBytes(StandardCharsets.UTF_8), new byte[] {2}));
            producer.commitTransaction();
        }

        Properties cp = kafka.clientProperties();
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "t");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(EmbeddedKafka.MAX_MESSAGE_BYTES));
        List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of("rt"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (got.size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(got::add);
            }
        }
        assertEquals(2, got.size(), "committed records only");
        ConsumerRecord<byte[], byte[]> cam1 = got.stream()
                .filter(r -> new String(r.key(), StandardCharsets.UTF_8).equals("cam-1")).findFirst().orElseThrow();
        assertEquals(big.length, cam1.value().length);
        assertEquals(1234L, cam1.timestamp());
        assertEquals("7", new String(cam1.headers().lastHeader("mpvss.seq").value(), StandardCharsets.UTF_8));
        assertTrue(java.util.Arrays.equals(big, cam1.value()));
    }
}
