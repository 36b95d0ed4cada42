package io.mpvss.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;

/**
 * Writes frames to the {@code frames} topic in the wire format: key = stream id, value = the encoded image,
 * headers {@code mpvss.seq}, {@code mpvss.ts} (and {@code mpvss.encoding}), record timestamp = capture time. The one
 * frame producer of the tools ({@code mpvss produce}, {@code mpvss demo}, {@code mpvss bench}).
 */
public final class FrameSender implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<Exception> firstError = new AtomicReference<>();

    public FrameSender(Properties producerProperties, String topic) {
        this.producer = new KafkaProducer<>(producerProperties);
        this.topic = topic;
    }

    /** "jpeg", "png" or null, from the magic bytes. */
    static String encodingOf(byte[] image) {
        if (image.length >= 3 && (image[0] & 0xFF) == 0xFF && (image[1] & 0xFF) == 0xD8 && (image[2] & 0xFF) == 0xFF) {
            return WireFormat.ENCODING_JPEG;
        }
        if (image.length >= 8 && (image[0] & 0xFF) == 0x89 && image[1] == 'P' && image[2] == 'N' && image[3] == 'G') {
            return WireFormat.ENCODING_PNG;
        }
        return null;
    }

    /** Sends asynchronously; failures are kept and reported by {@link #check()}. */
    public void send(String stream, long seq, long captureTs, byte[] image) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, null, captureTs, stream, image);
        r.headers().add(WireFormat.HEADER_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        r.headers().add(WireFormat.HEADER_TS, Long.toString(captureTs).getBytes(StandardCharsets.UTF_8));
        String enc = encodingOf(image);
        if (enc != null) {
            r.headers().add(WireFormat.HEADER_ENCODING, enc.getBytes(StandardCharsets.UTF_8));
        }
        sendRaw(r);
    }

    private void sendRaw(ProducerRecord<String, byte[]> r) {
        check();
        int size = r.value() == null ? 0 : r.value().length;
        producer.send(r, (md, e) -> {
            if (e != null) {
                firstError.compareAndSet(null, e);
            } else {
                acked.incrementAndGet();
                bytes.addAndGet(size);
            }
        });
    }

    /** Waits until every partition of {@code topics} has a leader (new topics: the first sends would fail). */
    public void awaitLeaders(List<String> topics, Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        for (String t : topics) {
            while (System.nanoTime() < end) {
                List<PartitionInfo> parts = producer.partitionsFor(t);
                if (!parts.isEmpty() && parts.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty())) {
                    break;
                }
                Thread.sleep(100);
            }
        }
    }

    public String topic() {
        return topic;
    }

    /** Records acknowledged by the broker so far. */
    public long acked() {
        return acked.get();
    }

    public long bytes() {
        return bytes.get();
    }

    /** Throws the first send failure, if any. */
    public void check() {
        Exception e = firstError.get();
        if (e != null) {
            throw new IllegalStateException("sending to topic '" + topic + "' failed: " + e.getMessage(), e);
        }
    }

    public void flush() {
        producer.flush();
        check();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
