package io.mpvss.eval;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Hands a job's output to the client thread of the same JVM through an in-memory queue. Only for jobs on a local
 * MiniCluster (eval runs the job in-process), where the sink and the caller share the JVM and its classes; it avoids
 * the collect-sink round trips and the warnings the collect client logs when a bounded job's MiniCluster has already
 * shut down.
 */
public final class LocalQueueSink<T> implements Sink<T> {

    private static final long serialVersionUID = 1L;
    private static final Map<String, BlockingQueue<Object>> QUEUES = new ConcurrentHashMap<>();

    private final String id;

    private LocalQueueSink(String id) {
        this.id = id;
    }

    /** A sink and its queue under a fresh id; {@link #release} when done. */
    public static <T> LocalQueueSink<T> create(String id) {
        QUEUES.put(id, new LinkedBlockingQueue<>());
        return new LocalQueueSink<>(id);
    }

    @SuppressWarnings("unchecked")
    public BlockingQueue<T> queue() {
        return (BlockingQueue<T>) (BlockingQueue<?>) QUEUES.get(id);
    }

    public void release() {
        QUEUES.remove(id);
    }

    @Override
    public SinkWriter<T> createWriter(WriterInitContext context) {
        BlockingQueue<Object> q = QUEUES.get(id);
        if (q == null) {
            throw new IllegalStateException("LocalQueueSink '" + id + "' has no queue in this JVM: it only works on a "
                    + "local MiniCluster started by the same process");
        }
        return new SinkWriter<>() {
            @Override
            public void write(T element, Context ctx) {
                q.add(element);
            }

            @Override
            public void flush(boolean endOfInput) {
            }

            @Override
            public void close() {
            }
        };
    }
}
