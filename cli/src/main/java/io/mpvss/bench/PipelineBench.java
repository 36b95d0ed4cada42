package io.mpvss.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import io.mpvss.cli.DeadLetters;
import io.mpvss.cli.FrameSender;
import io.mpvss.cli.KafkaClients;
import io.mpvss.cli.LocalJob;
import io.mpvss.cli.MaskReader;
import io.mpvss.cli.Mpvss;
import io.mpvss.format.MaskDocument;
import io.mpvss.job.MpvssJob;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.metrics.LatencyStats;

/**
 * One run of the real pipeline: a real Kafka broker ({@link EmbeddedKafka}), the product's Kafka job
 * ({@link MpvssJob#buildKafkaPipeline}) on a local Flink MiniCluster, S camera streams produced into {@code frames},
 * and a consumer on {@code masks} that timestamps every document as it arrives.
 *
 * <p>Two modes. <b>Backlog</b>: all frames are produced before the job starts, the job runs bounded (stops at the
 * offsets that were latest at start) and the throughput is the drain rate, masks received over the time from the
 * first to the last mask (steady state; start-up reported apart). <b>Paced</b>: the job is started and warmed up
 * first, then frames are produced at a fixed rate with capture time = send time, and latency is consumer receive time
 * minus the document's capture_ts.
 */
public final class PipelineBench {

    private PipelineBench() {
    }

    /** What one run measured. */
    public record Result(String mode, String guarantee, int streams, int k, long framesSent, long masksReceived,
                         long duplicates, long keyFrames, double produceSeconds, double startupSeconds,
                         double drainSeconds, double fps, double wallFps, double offeredFps,
                         LatencyStats.Summary latencyMs, LatencyStats.Summary processingMs, double consumeMsPerMask,
                         long peakHeapBytes, long peakRssBytes, long peakDirectBytes, long deadLetters,
                         boolean complete) {
    }

    /** Settings of one run. */
    public record Run(String mode, String guarantee, int streams, int k, int framesPerStream, double pacedFps,
                      int warmupPerStream, long checkpointMs, int partitions, Map<String, String> settings,
                      Duration timeout) {
    }

    private static final AtomicLong RUN_IDS = new AtomicLong();

    /** The topics of one run (fresh per run: no run sees another's records). */
    private record Topics(String frames, String masks, String dlq) {
    }

    public static Result run(EmbeddedKafka kafka, BenchFrames frames, Run run, PrintStream log) throws Exception {
        long id = RUN_IDS.incrementAndGet();
        String tag = String.format(Locale.ROOT, "bench %s %s S=%d K=%d", run.mode(), run.guarantee(), run.streams(),
                run.k());
        Topics topics = new Topics("frames-" + id, "masks-" + id, "dlq-" + id);
        kafka.createTopics(Map.of(topics.frames(), run.partitions(), topics.masks(), run.partitions(), topics.dlq(),
                1));
        // Checkpoints on disk: the key frames of a few streams at the bundled resolution already exceed the
        // JobManager's in-memory checkpoint storage limit (5 MB), and a failed checkpoint would restart the job.
        Path ckpt = Files.createTempDirectory("mpvss-bench-ckpt-");
        boolean backlog = run.mode().equals("backlog");
        Configuration conf = jobConfiguration(run, kafka, topics, id, ckpt, backlog);

        long total = (long) run.streams() * run.framesPerStream();
        long warm = backlog ? 0 : (long) run.streams() * run.warmupPerStream();
        MaskCollector collector = new MaskCollector(kafka, topics.masks(), run.streams());
        try (MemoryProbe mem = new MemoryProbe(200);
             FrameSender sender = new FrameSender(KafkaClients.producer(kafka.bootstrapServers(), PRODUCER),
                     topics.frames())) {
            sender.awaitLeaders(List.of(topics.frames(), topics.masks(), topics.dlq()), Duration.ofSeconds(30));
            double produceSec = 0;
            if (backlog) {
                log.printf(Locale.ROOT, "%s: producing a backlog of %d frames%n", tag, total);
                long p0 = System.nanoTime();
                for (int t = 0; t < run.framesPerStream(); t++) {
                    sendRound(sender, frames, run.streams(), t);
                }
                sender.flush();
                produceSec = (System.nanoTime() - p0) / 1e9;
            }
            collector.start();
            long j0 = System.nanoTime();
            LocalJob job = LocalJob.startKafkaPipeline(conf, "mpvss-bench-" + id);
            try {
                if (!backlog) {
                    warmUp(sender, frames, run, collector, warm, tag, log);
                    produceSec = producePaced(sender, frames, run, collector, warm, tag, log);
                }
                awaitMasks(collector, job, backlog, warm, total, run.timeout(), tag, log);
            } finally {
                stop(job, backlog, tag, log);
            }
            collector.stop();
            long dead = DeadLetters.read(kafka.bootstrapServers(), topics.dlq()).count();
            Result r = result(run, collector, mem, warm, total, produceSec, backlog ? 0 : total / produceSec, j0,
                    dead);
            log.printf(Locale.ROOT, "%s: %d/%d masks, %.1f frames/s (steady), %.1f frames/s incl. start-up %.1f s%s%n",
                    tag, r.masksReceived(), total, r.fps(), r.wallFps(), r.startupSeconds(),
                    r.latencyMs() == null || backlog ? ""
                            : String.format(Locale.ROOT, ", latency p50 %.0f p95 %.0f p99 %.0f ms",
                                    r.latencyMs().p50(), r.latencyMs().p95(), r.latencyMs().p99()));
            return r;
        } finally {
            collector.stop();
            deleteRecursively(ckpt);
        }
    }

    private static Configuration jobConfiguration(Run run, EmbeddedKafka kafka, Topics topics, long id, Path ckpt,
                                                  boolean bounded) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("parallelism.default", "1");
        settings.put("execution.checkpointing.dir", ckpt.toUri().toString());
        // A benchmark run that fails must say so, not restart in a loop.
        settings.put("restart-strategy.type", "none");
        settings.putAll(run.settings());
        settings.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        settings.put("kafka.topic.frames", topics.frames());
        settings.put("kafka.topic.masks", topics.masks());
        settings.put("kafka.topic.dlq", topics.dlq());
        settings.put("kafka.group-id", "mpvss-bench-" + id);
        settings.put("kafka.transactional-id-prefix", "mpvss-bench-" + id);
        settings.put("kafka.starting-offsets", "earliest");
        settings.put("delivery.guarantee", run.guarantee());
        settings.put("key.interval", Integer.toString(run.k()));
        settings.put("execution.checkpointing.interval", run.checkpointMs() + " ms");
        settings.put("source.bounded", Boolean.toString(bounded));
        return Configuration.fromMap(settings);
    }

    /** Frame {@code t} of every stream, capture time now. */
    private static void sendRound(FrameSender sender, BenchFrames frames, int streams, int t) {
        for (int s = 0; s < streams; s++) {
            sender.send(streamId(s), t, System.currentTimeMillis(), frames.frame(s, t));
        }
    }

    /** Warm-up frames (model load, first key frames), not measured. */
    private static void warmUp(FrameSender sender, BenchFrames frames, Run run, MaskCollector collector, long warm,
                               String tag, PrintStream log) throws InterruptedException {
        for (int t = 0; t < run.warmupPerStream(); t++) {
            sendRound(sender, frames, run.streams(), t);
        }
        sender.flush();
        if (!collector.awaitCount(warm, run.timeout().toMillis())) {
            log.printf("%s: warm-up incomplete (%d/%d masks)%n", tag, collector.count(), warm);
        }
        collector.resetStats();
    }

    /** The measured frames at the paced rate, capture time = send time; returns the seconds it took. */
    private static double producePaced(FrameSender sender, BenchFrames frames, Run run, MaskCollector collector,
                                       long warm, String tag, PrintStream log) throws InterruptedException {
        long total = (long) run.streams() * run.framesPerStream();
        log.printf(Locale.ROOT, "%s: warm, sending %d frames at %.1f frames/s%n", tag, total, run.pacedFps());
        long p0 = System.nanoTime();
        long sent = 0;
        long nextLog = p0;
        for (int t = run.warmupPerStream(); t < run.warmupPerStream() + run.framesPerStream(); t++) {
            for (int s = 0; s < run.streams(); s++) {
                long due = p0 + (long) (sent * 1e9 / run.pacedFps());
                long now = sleepUntil(due);
                sender.send(streamId(s), t, System.currentTimeMillis(), frames.frame(s, t));
                sent++;
                if (now >= nextLog) {
                    nextLog = now + 5_000_000_000L;
                    log.printf(Locale.ROOT, "%s: sent %d/%d, received %d%n", tag, sent, total,
                            collector.count() - warm);
                }
            }
        }
        sender.flush();
        return (System.nanoTime() - p0) / 1e9;
    }

    /** Until every mask has come, the timeout, or (bounded) the job has ended and no mask came for 5 s. */
    private static void awaitMasks(MaskCollector collector, LocalJob job, boolean bounded, long warm, long total,
                                   Duration timeout, String tag, PrintStream log) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextLog = System.nanoTime() + 5_000_000_000L;
        while (collector.count() < warm + total && System.nanoTime() < deadline) {
            Thread.sleep(50);
            if (System.nanoTime() > nextLog) {
                nextLog = System.nanoTime() + 5_000_000_000L;
                log.printf(Locale.ROOT, "%s: %d/%d masks%n", tag, collector.count() - warm, total);
            }
            if (bounded && job.terminated() && collector.quietForMs() > 5000) {
                break;
            }
        }
    }

    /** A bounded job is given 30 s to finish; a paced one is cancelled. Failures are logged, not thrown. */
    private static void stop(LocalJob job, boolean bounded, String tag, PrintStream log) {
        if (bounded) {
            try {
                job.stop(Duration.ofSeconds(30), log);
            } catch (Exception e) {
                log.println(tag + ": JOB FAILED: " + Mpvss.rootMessage(e));
            }
        } else {
            if (job.terminated()) {
                log.println(tag + ": JOB ENDED before it was cancelled (failed?), see the log file");
            }
            job.close();
        }
    }

    private static Result result(Run run, MaskCollector collector, MemoryProbe mem, long warm, long total,
                                 double produceSec, double offered, long j0, long dead) {
        long received = collector.count() - warm;
        double startup = collector.firstNanos() > 0 ? (collector.firstNanos() - j0) / 1e9 : Double.NaN;
        double drain = (collector.lastNanos() - collector.firstNanos()) / 1e9;
        double fps = received > 1 && drain > 0 ? (received - 1) / drain : Double.NaN;
        double wallFps = received / ((collector.lastNanos() - j0) / 1e9);
        return new Result(run.mode(), run.guarantee(), run.streams(), run.k(), total, received,
                collector.duplicates(), collector.keyFrames(), produceSec, startup, drain, fps, wallFps,
                offered, collector.latency().isEmpty() ? null : collector.latency().summary(),
                collector.processing().isEmpty() ? null : collector.processing().summary(),
                collector.consumeMsPerMask(), mem.peakHeapUsed(), mem.peakRss(), mem.peakDirect(), dead,
                received >= total);
    }

    static void deleteRecursively(Path dir) {
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException | RuntimeException e) {
            // best effort
        }
    }

    /** Waits until {@code System.nanoTime()} reaches {@code dueNanos}: sleeps, then spins the last millisecond. */
    static long sleepUntil(long dueNanos) throws InterruptedException {
        long now;
        while ((now = System.nanoTime()) < dueNanos) {
            long ms = (dueNanos - now) / 1_000_000;
            if (ms > 0) {
                Thread.sleep(ms);
            } else {
                Thread.onSpinWait();
            }
        }
        return now;
    }

    static String streamId(int s) {
        return String.format(Locale.ROOT, "cam-%03d", s);
    }

    /**
     * Frame producer settings on top of the tools' ({@link KafkaClients#producer}): plain (non-idempotent), one
     * request in flight: per-partition order is kept across retries, and the topics are brand new, where an
     * idempotent producer's first batches can be rejected as out of order.
     */
    static final Properties PRODUCER = new Properties();
    /** Masks are timestamped on arrival: do not let the broker hold a fetch back. */
    static final Properties COLLECTOR = new Properties();

    static {
        PRODUCER.put(ProducerConfig.LINGER_MS_CONFIG, "2");
        PRODUCER.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
        PRODUCER.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        COLLECTOR.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
    }

    /**
     * Reads the masks topic in a background thread ({@link MaskReader}: read_committed, repeats dropped), recording
     * arrival times and latencies.
     */
    static final class MaskCollector implements Runnable {
        private final MaskReader reader;
        private final Thread thread;
        private final AtomicBoolean stopped = new AtomicBoolean();
        private volatile long count;
        private volatile long firstNanos;
        private volatile long lastNanos;
        private long duplicatesBefore;
        private long keyFrames;
        private LatencyStats latency = new LatencyStats();
        private LatencyStats processing = new LatencyStats();

        MaskCollector(EmbeddedKafka kafka, String topic, int streams) {
            reader = new MaskReader(KafkaClients.consumer(kafka.bootstrapServers(), COLLECTOR,
                    "bench-collector-" + topic), topic);
            thread = new Thread(this, "mpvss-bench-collector");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        @Override
        public void run() {
            try {
                reader.read(0, null, 0, this::add);
            } catch (Exception e) {
                throw new IllegalStateException("reading masks failed", e);
            } finally {
                reader.close();
            }
        }

        private void add(MaskDocument d, long receivedMs) {
            long now = System.nanoTime();
            synchronized (this) {
                if (d.isKeyFrame()) {
                    keyFrames++;
                }
                latency.add(receivedMs - d.getCaptureTs());
                processing.add(d.getProcessingMs());
            }
            if (firstNanos == 0) {
                firstNanos = now;
            }
            lastNanos = now;
            count++;
        }

        /** After the warm-up: what follows is measured (repeats counted from here). */
        synchronized void resetStats() {
            latency = new LatencyStats();
            processing = new LatencyStats();
            keyFrames = 0;
            duplicatesBefore = reader.duplicates();
            firstNanos = 0;
        }

        long count() {
            return count;
        }

        long firstNanos() {
            return firstNanos;
        }

        long lastNanos() {
            return lastNanos;
        }

        long quietForMs() {
            return lastNanos == 0 ? Long.MAX_VALUE : (System.nanoTime() - lastNanos) / 1_000_000;
        }

        /** Repeats dropped since the warm-up (after {@link #stop}). */
        synchronized long duplicates() {
            return reader.duplicates() - duplicatesBefore;
        }

        synchronized long keyFrames() {
            return keyFrames;
        }

        synchronized LatencyStats latency() {
            return latency;
        }

        synchronized LatencyStats processing() {
            return processing;
        }

        /** JSON parse time per mask (after {@link #stop}). */
        double consumeMsPerMask() {
            return reader.parseMsPerDocument();
        }

        boolean awaitCount(long n, long timeoutMs) throws InterruptedException {
            long end = System.currentTimeMillis() + timeoutMs;
            while (count < n && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            return count >= n;
        }

        /** Ends reading and closes the consumer; again is a no-op. */
        void stop() {
            if (!stopped.compareAndSet(false, true)) {
                return;
            }
            if (thread.getState() == Thread.State.NEW) {
                reader.close(); // never started
                return;
            }
            reader.stop();
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
