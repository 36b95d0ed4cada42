package io.mpvss.cli;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import io.mpvss.format.MaskDocument;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;

/**
 * Reads {@code masks} documents (read_committed), dropping repeats by (stream, seq) as an at-least-once consumer
 * must, until a limit, an idle timeout, a deadline or {@link #stop()}. The one consumer of mask documents of the tools
 * ({@code mpvss consume}, {@code mpvss demo}, {@code mpvss bench}).
 */
public final class MaskReader implements AutoCloseable {

    /** Receives one new document and the wall-clock time it was received. */
    public interface Handler {
        void accept(MaskDocument doc, long receivedMs) throws Exception;
    }

    /** Why reading ended. */
    public enum End { LIMIT, IDLE, DEADLINE, STOPPED }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Set<String> seen = new HashSet<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private long duplicates;
    private long unreadable;
    private String firstUnreadable;
    private long parseNanos;
    private long parsed;

    public MaskReader(Properties consumerProperties, String topic) {
        this.consumer = new KafkaConsumer<>(consumerProperties);
        consumer.subscribe(List.of(topic));
    }

    /**
     * Polls until {@code limit} new documents (0 = no limit), {@code idle} without a new document (null = wait
     * forever), {@code deadlineNanos} (System.nanoTime; 0 = none) or {@link #stop()}.
     */
    public End read(long limit, Duration idle, long deadlineNanos, Handler handler) throws Exception {
        long count = 0;
        long lastNew = System.nanoTime();
        try {
            while (true) {
                if (stop.get()) {
                    return End.STOPPED;
                }
                if (limit > 0 && count >= limit) {
                    return End.LIMIT;
                }
                long now = System.nanoTime();
                if (deadlineNanos != 0 && now - deadlineNanos > 0) {
                    return End.DEADLINE;
                }
                if (idle != null && now - lastNew > idle.toNanos()) {
                    return End.IDLE;
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    long received = System.currentTimeMillis();
                    MaskDocument d;
                    long parseStart = System.nanoTime();
                    try {
                        d = MaskDocument.fromJson(r.value());
                        parseNanos += System.nanoTime() - parseStart;
                        parsed++;
                    } catch (RuntimeException e) {
                        unreadable++;
                        if (firstUnreadable == null) {
                            firstUnreadable = "offset " + r.offset() + ": " + e.getMessage();
                        }
                        continue;
                    }
                    if (!seen.add(d.getStream() + "\u0000" + d.getSeq())) {
                        duplicates++;
                        continue;
                    }
                    count++;
                    lastNew = System.nanoTime();
                    handler.accept(d, received);
                }
            }
        } catch (WakeupException e) {
            return End.STOPPED;
        }
    }

    /** Ends {@link #read} from another thread (e.g. Ctrl-C). */
    public void stop() {
        stop.set(true);
        consumer.wakeup();
    }

    /** Repeats dropped so far (read it from another thread only after {@link #read} returned). */
    public long duplicates() {
        return duplicates;
    }

    long unreadable() {
        return unreadable;
    }

    String firstUnreadable() {
        return firstUnreadable;
    }

    /** Mean JSON parse time per document, ms (the client's share of a mask's cost). */
    public double parseMsPerDocument() {
        return parsed == 0 ? Double.NaN : parseNanos / 1e6 / parsed;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
