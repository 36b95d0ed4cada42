package io.mpvss.cli;

import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes frames to the {@code frames} topic in the wire format: key = stream id, value = the encoded image,
 * headers {@code mpvss.seq}, {@code mpvss.ts} (and {@code mpvss.encoding}), record timestamp = capture time.
 */
final class FrameSender implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicReference<Exception> firstError = new AtomicReference<>();

    FrameSender(Properties producerProperties, String topic) {
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
    void send(String stream, long seq, long captureTs, byte[] image) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, null, captureTs, stream, image);
        r.headers().add(WireFormat.HEADER_SEQ, Long.toString(seq).getBytes(StandardCharsets.UTF_8));
        r.headers().add(WireFormat.HEADER_TS, Long.toString(captureTs).getBytes(StandardCharsets.UTF_8));
        String enc = encodingOf(image);
        if (enc != null) {
            r.headers().add(WireFormat.HEADER_ENCODING, enc.getBytes(StandardCharsets.UTF_8));
        }
        sendRaw(r);
    }

    /** Sends a record as given (e.g. a deliberately broken one). */
    void sendRaw(ProducerRecord<String, byte[]> r) {
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

    String topic() {
        return topic;
    }

    /** Records acknowledged by the broker so far. */
    long acked() {
        return acked.get();
    }

    long bytes() {
        return bytes.get();
    }

    /** Throws the first send failure, if any. */
    void check() {
        Exception e = firstError.get();
        if (e != null) {
            throw new IllegalStateException("sending to topic '" + topic + "' failed: " + e.getMessage(), e);
        }
    }

    void flush() {
        producer.flush();
        check();
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(10));
    }
}
