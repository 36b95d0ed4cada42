package io.mpvss.view;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;

/**
 * {@code mpvss view}: a local web page with every stream's latest label map, live. One Kafka consumer thread reads
 * {@code masks} (read_committed) and {@code frames-dlq} into a {@link StreamBoard}; the JDK's HTTP server serves
 * the page ({@code /}), the board as JSON ({@code /api/streams}, polled by the page twice a second) and each
 * stream's latest label map as a colour PNG ({@code /frame.png?stream=ID}).
 *
 * <p>The consumer is not in a consumer group (it assigns every partition itself and commits nothing): any number
 * of views can watch without disturbing each other or a real consumer. It starts {@code backlog} records before the
 * end of each partition, so that the tiles show the latest state at once instead of waiting for the next frame.
 */
public final class LiveView implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final StreamBoard board;
    private final Properties consumerProperties;
    private final String masksTopic;
    private final String dlqTopic;
    private final int backlog;
    private final PrintStream out;
    private final HttpServer server;
    private final ExecutorService httpThreads;
    private final Thread reader;
    private volatile boolean stopping;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile String readerError;
    private final byte[] page;

    private LiveView(Builder b) throws IOException {
        this.board = Objects.requireNonNull(b.board, "board");
        this.consumerProperties = Objects.requireNonNull(b.consumerProperties, "consumerProperties");
        this.masksTopic = b.masksTopic;
        this.dlqTopic = b.dlqTopic;
        this.backlog = b.backlog;
        this.out = b.out;
        try (InputStream in = LiveView.class.getResourceAsStream("index.html")) {
            if (in == null) {
                throw new IOException("index.html missing from the build");
            }
            this.page = in.readAllBytes();
        }
        this.server = HttpServer.create(new InetSocketAddress(b.host, b.port), 16);
        this.httpThreads = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "mpvss-view-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(httpThreads);
        server.createContext("/", this::handle);
        this.reader = new Thread(this::readLoop, "mpvss-view-kafka");
        reader.setDaemon(true);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a live view. */
    public static final class Builder {
        private StreamBoard board;
        private Properties consumerProperties;
        private String masksTopic = WireFormat.DEFAULT_MASKS_TOPIC;
        private String dlqTopic = WireFormat.DEFAULT_DLQ_TOPIC;
        private String host = "127.0.0.1";
        private int port = 8080;
        private int backlog = 100;
        private PrintStream out = System.out;

        public Builder board(StreamBoard board) {
            this.board = board;
            return this;
        }

        /** Kafka consumer settings (bootstrap servers, read_committed, TLS/SASL); no group is joined. */
        public Builder consumerProperties(Properties p) {
            this.consumerProperties = p;
            return this;
        }

        public Builder masksTopic(String t) {
            this.masksTopic = t;
            return this;
        }

        /** The dead-letter topic (null: not shown). */
        public Builder dlqTopic(String t) {
            this.dlqTopic = t;
            return this;
        }

        /** Address to listen on (default 127.0.0.1: this machine only). */
        public Builder host(String h) {
            this.host = h;
            return this;
        }

        /** Port (0 = any free one). */
        public Builder port(int p) {
            this.port = p;
            return this;
        }

        /** Records read before the end of each masks partition at start. */
        public Builder backlog(int n) {
            this.backlog = n;
            return this;
        }

        public Builder out(PrintStream out) {
            this.out = out;
            return this;
        }

        public LiveView build() throws IOException {
            return new LiveView(this);
        }
    }

    public void start() {
        server.start();
        reader.start();
    }

    /** The page's address, e.g. http://127.0.0.1:8080/ */
    public URI uri() {
        InetSocketAddress a = server.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getHostString();
        return URI.create("http://" + host + ":" + a.getPort() + "/");
    }

    public StreamBoard board() {
        return board;
    }

    /** Why reading Kafka stopped, or null while it runs. */
    public String readerError() {
        return readerError;
    }

    private void readLoop() {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(consumerProperties)) {
            consumer = c;
            List<TopicPartition> masks = waitForPartitions(c, masksTopic);
            if (masks == null) {
                return;
            }
            List<TopicPartition> all = new ArrayList<>(masks);
            List<TopicPartition> dlq = dlqTopic == null ? List.of() : partitionsNow(c, dlqTopic);
            all.addAll(dlq);
            c.assign(all);
            Map<TopicPartition, Long> begin = c.beginningOffsets(masks);
            Map<TopicPartition, Long> end = c.endOffsets(masks);
            for (TopicPartition tp : masks) {
                c.seek(tp, Math.max(begin.get(tp), end.get(tp) - backlog));
            }
            if (!dlq.isEmpty()) {
                c.seekToBeginning(dlq); // the dead-letter count is over what the topic holds
            }
            out.println("reading " + masksTopic + " (" + partitions(masks.size()) + ")"
                    + (dlq.isEmpty() ? "" : " and " + dlqTopic + " (" + partitions(dlq.size()) + ")"));
            while (!stopping) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    long received = System.currentTimeMillis();
                    if (r.topic().equals(masksTopic)) {
                        MaskDocument doc;
                        try {
                            doc = MaskDocument.fromJson(r.value());
                        } catch (RuntimeException e) {
                            board.countUnreadable();
                            continue;
                        }
                        if (board.accept(doc, received)) {
                            out.println("new stream: " + doc.getStream() + " (" + doc.getWidth() + "x"
                                    + doc.getHeight() + ", " + doc.getModel() + ")");
                        }
                    } else {
                        board.acceptDeadLetter(header(r, WireFormat.DLQ_ERROR_CLASS),
                                header(r, WireFormat.DLQ_ERROR_MESSAGE));
                    }
                }
            }
        } catch (WakeupException e) {
            // stopping
        } catch (RuntimeException e) {
            readerError = e.getMessage();
            out.println("reading Kafka failed: " + e.getMessage());
        } finally {
            consumer = null;
        }
    }

    private static String partitions(int n) {
        return n + (n == 1 ? " partition" : " partitions");
    }

    /** The topic's partitions; waits (printing once) while the topic does not exist yet. */
    private List<TopicPartition> waitForPartitions(KafkaConsumer<String, byte[]> c, String topic) {
        boolean said = false;
        while (!stopping) {
            List<TopicPartition> tps = partitionsNow(c, topic);
            if (!tps.isEmpty()) {
                return tps;
            }
            if (!said) {
                out.println("waiting for topic '" + topic + "' (it does not exist yet, or Kafka at "
                        + consumerProperties.getProperty("bootstrap.servers") + " cannot be reached) ...");
                said = true;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    private static List<TopicPartition> partitionsNow(KafkaConsumer<String, byte[]> c, String topic) {
        List<TopicPartition> r = new ArrayList<>();
        List<PartitionInfo> infos;
        try {
            infos = c.partitionsFor(topic, Duration.ofSeconds(10));
        } catch (org.apache.kafka.common.errors.TimeoutException
                 | org.apache.kafka.common.errors.UnknownTopicOrPartitionException e) {
            return r; // not there (yet)
        }
        if (infos != null) {
            for (PartitionInfo p : infos) {
                r.add(new TopicPartition(topic, p.partition()));
            }
        }
        return r;
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                send(ex, 405, "text/plain; charset=utf-8", "GET only\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getPath();
            switch (path) {
                case "/", "/index.html" -> send(ex, 200, "text/html; charset=utf-8", page);
                case "/api/streams" -> {
                    Map<String, Object> snap = board.snapshot(System.currentTimeMillis());
                    snap.put("topic", masksTopic);
                    snap.put("reader_error", readerError);
                    send(ex, 200, "application/json", JSON.writeValueAsBytes(snap));
                }
                case "/frame.png" -> {
                    String stream = query(ex.getRequestURI().getRawQuery(), "stream");
                    byte[] png = stream == null ? null : board.png(stream);
                    if (png == null) {
                        send(ex, 404, "text/plain; charset=utf-8", ("no stream '" + stream + "'\n")
                                .getBytes(StandardCharsets.UTF_8));
                    } else {
                        send(ex, 200, "image/png", png);
                    }
                }
                case "/healthz" -> send(ex, readerError == null ? 200 : 503, "text/plain; charset=utf-8",
                        (readerError == null ? "ok\n" : readerError + "\n").getBytes(StandardCharsets.UTF_8));
                default -> send(ex, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
            }
        } catch (RuntimeException e) {
            // a broken document must not take the page down; the client sees why
            send(ex, 500, "text/plain; charset=utf-8", (e + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    static String query(String rawQuery, String key) {
        if (rawQuery == null) {
            return null;
        }
        for (String kv : rawQuery.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            if (k.equals(key)) {
                return eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        }
    }

    @Override
    public void close() {
        stopping = true;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        server.stop(0);
        httpThreads.shutdownNow();
        try {
            reader.join(5000);
            httpThreads.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
