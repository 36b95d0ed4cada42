package io.mpvss.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.config.JobOptions;
import io.mpvss.config.StartingOffsets;
import io.mpvss.job.MpvssJob;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.metrics.LabelClips;
import io.mpvss.model.ModelManifest;
import io.mpvss.render.Palette;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * {@code mpvss demo}: the whole system on one machine. A real Kafka broker (in-process KRaft), the bundled clips
 * sent as camera streams, the MPVSS job in a Flink MiniCluster, the masks read back (read_committed) and turned
 * into overlays, a contact sheet, and a summary with throughput, latency, mIoU against the clips' labels and the
 * dead-letter count.
 */
final class DemoCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss demo [options]",
            "  Starts a Kafka broker and a Flink MiniCluster in this JVM, streams the demo clips through the MPVSS",
            "  job as cameras (one stream per clip), and writes overlays, a contact sheet and a summary.",
            "  --out DIR                 output folder (default ./out)",
            "  --model-dir DIR           model bundle (default model-ops/bundle of this repository)",
            "  --clips DIR               clips: DIR/<clip>/frames/*.jpg, DIR/<clip>/labels/*.png",
            "                            (default model-ops/demo-clips of this repository)",
            "  --fps N                   camera frame rate (default 10)",
            "  --max-frames N            frames per stream (default all)",
            "  --max-streams N           streams (clips) to use (default all)",
            "  --replay                  queue all frames first, then run the job bounded (throughput; latency",
            "                            then includes the queueing); default: live cameras at --fps",
            "  --bad-frames N            corrupt frames sent on an extra stream to show the DLQ (default 1)",
            "  --sheet-step N            every N-th frame of a stream on the contact sheet (default: about 10)",
            "  --timeout DURATION        give up waiting for masks after this long (default 100s)",
            "  --no-overlays             skip the per-frame overlay PNGs (the contact sheet is still written)",
            "  --overlay-min-width PX    upscale narrower frames in the overlays (default 480; 1024 for large",
            "                            overlays, about 5x slower to write)",
            "  --<job option> VALUE      any job option or Flink key, e.g. --delivery.guarantee at-least-once,",
            "                            --key.interval 3, --parallelism.default 1,",
            "                            --execution.checkpointing.interval 500ms (see `mpvss run --help`)");

    /** What the demo keeps per received document. */
    record Received(String stream, long seq, long captureTs, boolean key, long keySeq, String keyReason,
                    double processingMs, long emittedTs, long receivedMs, int width, int height, byte[] png) {
    }

    private DemoCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        if (args.has("help")) {
            out.println(USAGE);
            return 0;
        }
        long t0 = System.nanoTime();
        Path outDir = args.getPath("out", Path.of("out")).toAbsolutePath().normalize();
        Path modelDir = RepoPaths.resolve(args.get("model-dir", null), RepoPaths.BUNDLED_MODEL);
        Path clipsDir = RepoPaths.resolve(args.get("clips", null), "model-ops/demo-clips");
        double fps = args.getDouble("fps", 10);
        if (!(fps > 0 && fps <= 1000)) {
            throw new UsageException("--fps must be in (0, 1000], got " + fps);
        }
        int maxFrames = args.getPositiveInt("max-frames", Integer.MAX_VALUE);
        int maxStreams = args.getPositiveInt("max-streams", Integer.MAX_VALUE);
        boolean replay = args.getBoolean("replay", false);
        int badFrames = args.getInt("bad-frames", 1);
        int sheetStepArg = args.getInt("sheet-step", 0);
        Duration timeout = args.getDuration("timeout", Duration.ofSeconds(100));
        boolean overlays = !args.getBoolean("no-overlays", false);
        int overlayMinWidth = args.getInt("overlay-min-width", 480);
        Map<String, String> jobSettings = new LinkedHashMap<>();
        for (String k : args.unread()) {
            if (!k.contains(".")) {
                throw new UsageException("unknown option --" + k + "");
            }
            jobSettings.put(k, args.get(k, null));
        }
        args.rejectUnknown();

        // ---- inputs
        if (!Files.isRegularFile(modelDir.resolve("manifest.json"))) {
            throw new UsageException("no model bundle at " + modelDir + " (manifest.json missing): the trained "
                    + "bundle comes from model-ops (see model-ops/README.md), or pass --model-dir DIR");
        }
        if (!Files.isDirectory(clipsDir)) {
            throw new UsageException("no demo clips at " + clipsDir + ": they come from model-ops (see "
                    + "model-ops/README.md), or pass --clips DIR");
        }
        ModelManifest manifest = ModelManifest.read(modelDir);
        Palette palette = Palette.fromManifest(modelDir);
        List<LabelClips.Clip> clips;
        try {
            clips = LabelClips.list(clipsDir);
        } catch (IOException e) {
            throw new UsageException(e.getMessage());
        }
        if (clips.size() > maxStreams) {
            clips = clips.subList(0, maxStreams);
        }
        Map<String, List<LabelClips.Frame>> frames = new LinkedHashMap<>();
        long total = 0;
        for (LabelClips.Clip c : clips) {
            List<LabelClips.Frame> f = c.frames().size() > maxFrames ? c.frames().subList(0, maxFrames) : c.frames();
            frames.put(c.id(), f);
            total += f.size();
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int parallelism = Integer.parseInt(jobSettings.getOrDefault("parallelism.default",
                String.valueOf(Math.max(1, Math.min(Math.min(4, cores), clips.size())))));
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", String.valueOf(parallelism));
        conf.setString("execution.checkpointing.interval", "1s");
        conf.setString("taskmanager.numberOfTaskSlots", String.valueOf(parallelism));
        // a demo that cannot work should say so, not restart forever (Flink's default with checkpointing)
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "2");
        conf.setString("restart-strategy.fixed-delay.delay", "1s");
        conf.set(JobOptions.MODEL_DIR, modelDir.toString());
        conf.set(JobOptions.SOURCE_BOUNDED, replay);
        conf.set(JobOptions.STARTING_OFFSETS, StartingOffsets.EARLIEST);
        conf.set(JobOptions.GROUP_ID, "mpvss-demo");
        conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "mpvss-demo");
        jobSettings.forEach(conf::setString);
        String guarantee = conf.get(JobOptions.DELIVERY_GUARANTEE).toString();
        String checkpointEvery = conf.getString("execution.checkpointing.interval", "1s");

        out.printf(Locale.ROOT, "MPVSS demo: model %s (%dx%d input, %d classes, key frame every %d), %d streams x "
                        + "%s frames at %s fps%n", manifest.modelId(), manifest.width(), manifest.height(),
                manifest.numClasses(), conf.get(JobOptions.KEY_INTERVAL) > 0 ? conf.get(JobOptions.KEY_INTERVAL)
                        : manifest.keyInterval(), clips.size(), frames.values().stream().map(l -> l.size())
                        .distinct().map(String::valueOf).reduce((a, b) -> a + "/" + b).orElse("0"),
                ProduceCommand.fmt(fps));
        out.printf(Locale.ROOT, "  %s mode, %s, checkpoint every %s, parallelism %d%n",
                replay ? "replay (bounded)" : "live", guarantee, checkpointEvery, parallelism);

        prepareOut(outDir);
        String framesTopic = conf.get(JobOptions.TOPIC_FRAMES);
        String masksTopic = conf.get(JobOptions.TOPIC_MASKS);
        String dlqTopic = conf.get(JobOptions.TOPIC_DLQ);

        List<Received> received = new ArrayList<>();
        AtomicLong firstSentMs = new AtomicLong();
        long lastReceivedMs;
        long jobStartMs;
        MaskReader.End end;
        long duplicates;
        DlqSummary dlq;
        AtomicReference<Exception> producerError = new AtomicReference<>();
        try (EmbeddedKafka kafka = startKafka(out)) {
            kafka.createTopics(Map.of(framesTopic, parallelism, masksTopic, parallelism, dlqTopic, 1));
            conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());

            try (FrameSender sender = new FrameSender(KafkaClients.producer(kafka.bootstrapServers(),
                    new java.util.Properties()), framesTopic);
                 MaskReader reader = new MaskReader(KafkaClients.consumer(kafka.bootstrapServers(),
                         new java.util.Properties(), "mpvss-demo-reader"), masksTopic);
                 Progress progress = new Progress(out)) {
                Progress.Counter produced = progress.counter("produced", total + Math.max(0, badFrames));
                Progress.Counter masks = progress.counter("masks", total);
                long[] firstMaskNanos = {0};
                progress.extra(() -> {
                    long n = masks.get();
                    if (n < 2 || firstMaskNanos[0] == 0) {
                        return "";
                    }
                    return String.format(Locale.ROOT, "%.1f frames/s",
                            (n - 1) / Math.max(1e-3, (System.nanoTime() - firstMaskNanos[0]) / 1e9));
                });

                Runnable produce = () -> {
                    try {
                        produceAll(sender, frames, fps, !replay, badFrames, firstSentMs, produced,
                                sender.acked());
                    } catch (Exception e) {
                        producerError.compareAndSet(null, e);
                    }
                };
                JobClient job;
                Thread producer = null;
                // a job that fails (or a bounded one that ends short) must not leave us waiting for a timeout
                AtomicReference<String> jobEnded = new AtomicReference<>();
                Thread watcher;
                if (replay) {
                    out.println("  queueing all frames, then starting the job ...");
                    progress.start();
                    produce.run();
                    if (producerError.get() != null) {
                        throw producerError.get();
                    }
                    job = startJob(conf);
                    watcher = watch(job, reader, jobEnded);
                    jobStartMs = System.currentTimeMillis();
                } else {
                    out.println("  starting the Flink job (MiniCluster) ...");
                    long js = System.nanoTime();
                    job = startJob(conf);
                    watcher = watch(job, reader, jobEnded);
                    awaitRunning(job, Duration.ofSeconds(60));
                    // one frame on a stream of its own: its mask shows that every task is up, the model loaded
                    // and the sink committing, so the cameras' latency is not the job's start-up time
                    byte[] first = Files.readAllBytes(frames.values().iterator().next().get(0).image());
                    sender.send("demo-warmup", 0, System.currentTimeMillis(), first);
                    sender.flush();
                    if (reader.read(1, null, System.nanoTime() + Duration.ofSeconds(90).toNanos(), (d, r) -> { })
                            != MaskReader.End.LIMIT) {
                        progress.close();
                        throw jobEnded.get() != null ? jobFailure(job, jobEnded.get(), 0, total)
                                : new IllegalStateException("the job produced no mask within 90 s of starting");
                    }
                    out.printf(Locale.ROOT, "  job running, first mask %.1f s after submission; cameras on%n",
                            (System.nanoTime() - js) / 1e9);
                    jobStartMs = System.currentTimeMillis();
                    progress.start();
                    producer = new Thread(produce, "mpvss-demo-cameras");
                    producer.setDaemon(true);
                    producer.start();
                }
                long deadline = System.nanoTime() + timeout.toNanos();
                end = reader.read(total, null, deadline, (doc, rcv) -> {
                    if (firstMaskNanos[0] == 0) {
                        firstMaskNanos[0] = System.nanoTime();
                    }
                    if (!frames.containsKey(doc.getStream())) {
                        return;
                    }
                    received.add(new Received(doc.getStream(), doc.getSeq(), doc.getCaptureTs(), doc.isKeyFrame(),
                            doc.getKeySeq(), doc.getKeyReason(), doc.getProcessingMs(), doc.getEmittedTs(), rcv,
                            doc.getWidth(), doc.getHeight(), doc.getLabelMapPng()));
                    masks.increment();
                    if (producerError.get() != null) {
                        reader.stop();
                    }
                });
                lastReceivedMs = System.currentTimeMillis();
                watcher.interrupt();
                duplicates = reader.duplicates();
                if (end != MaskReader.End.LIMIT && jobEnded.get() != null) {
                    progress.close();
                    throw jobFailure(job, jobEnded.get(), received.size(), total);
                }
                progress.close();
                if (producer != null) {
                    producer.join(5000);
                }
                if (producerError.get() != null) {
                    throw producerError.get();
                }
                stopJob(job, replay, out);
            }
            dlq = readDlq(kafka.bootstrapServers(), dlqTopic);
            out.println("  stopping Kafka ...");
        }
        if (end != MaskReader.End.LIMIT) {
            out.printf(Locale.ROOT, "warning: received %d of %d masks before the %s timeout (see the log: %s)%n",
                    received.size(), total, timeout, System.getProperty("mpvss.log.file", "stderr"));
        }

        // ---- score, render, report
        long rs = System.nanoTime();
        out.println("  scoring ...");
        DemoReport report = DemoReport.build(manifest, palette, frames, received, replay, fps, guarantee,
                checkpointEvery, parallelism, firstSentMs.get(), jobStartMs, lastReceivedMs, duplicates, dlq,
                badFrames);
        out.printf(Locale.ROOT, "  scored %d masks against the clip labels in %.1f s; rendering ...%n",
                received.size(), (System.nanoTime() - rs) / 1e9);
        long renderStart = System.nanoTime();
        int sheetStep = sheetStepArg > 0 ? sheetStepArg : autoSheetStep(frames, conf.get(JobOptions.KEY_INTERVAL)
                > 0 ? conf.get(JobOptions.KEY_INTERVAL) : manifest.keyInterval());
        Map<String, List<LabelClips.Frame>> framesByStream = frames;
        try (OverlayWriter writer = new OverlayWriter(outDir, palette, sheetStep, (stream, seq) -> {
            List<LabelClips.Frame> l = framesByStream.get(stream);
            return l == null || seq < 0 || seq >= l.size() ? null : LabelClips.readImage(l.get((int) (long) seq)
                    .image());
        }, Math.max(1, cores), overlayMinWidth)) {
            for (Received r : received) {
                MaskDocument d = new MaskDocument();
                d.setStream(r.stream());
                d.setSeq(r.seq());
                d.setCaptureTs(r.captureTs());
                d.setKeyFrame(r.key());
                d.setKeySeq(r.keySeq());
                d.setKeyReason(r.keyReason());
                d.setModel(manifest.modelId());
                d.setWidth(r.width());
                d.setHeight(r.height());
                d.setLabelMapPng(r.png());
                d.setProcessingMs(r.processingMs());
                d.setEmittedTs(r.emittedTs());
                d.classPixels(report.classPixels(r));
                if (overlays || r.seq() % sheetStep == 0) {
                    writer.submit(d);
                }
            }
            writer.await();
            if (!overlays) {
                deleteTree(outDir.resolve("overlays"));
            }
            writer.writeSheet(outDir.resolve("contact-sheet.png"), "MPVSS demo \u2014 " + manifest.modelId(),
                    String.format(Locale.ROOT, "%d streams, %d frames, %s; every %sframe shown; mIoU %s",
                            frames.size(), received.size(), guarantee, ordinal(sheetStep), report.miouText()));
        }
        out.printf(Locale.ROOT, "  rendered %s and the contact sheet in %.1f s%n",
                overlays ? received.size() + " overlays" : "no overlays", (System.nanoTime() - renderStart) / 1e9);
        report.write(outDir);
        out.println();
        out.print(report.markdown());
        out.printf(Locale.ROOT, "%nwrote %s: %scontact-sheet.png, summary.json, summary.md  (%.0f s in all)%n",
                outDir, overlays ? "overlays/<stream>/<seq>.png, " : "", (System.nanoTime() - t0) / 1e9);
        return end == MaskReader.End.LIMIT ? 0 : 1;
    }

    /** 1 -> "", 2 -> "2nd ", 3 -> "3rd ", 6 -> "6th " (for "every 6th frame"). */
    static String ordinal(int n) {
        if (n == 1) {
            return "";
        }
        String suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : switch (n % 10) {
            case 1 -> "st";
            case 2 -> "nd";
            case 3 -> "rd";
            default -> "th";
        };
        return n + suffix + " ";
    }

    static int autoSheetStep(Map<String, List<LabelClips.Frame>> frames, int keyInterval) {
        int longest = frames.values().stream().mapToInt(List::size).max().orElse(1);
        int step = Math.max(1, (int) Math.ceil(longest / 10.0));
        if (keyInterval > 1 && step % keyInterval == 0) {
            step++; // otherwise every tile would be a key frame
        }
        return step;
    }

    private static EmbeddedKafka startKafka(PrintStream out) throws Exception {
        long s = System.nanoTime();
        EmbeddedKafka k = EmbeddedKafka.start();
        out.printf(Locale.ROOT, "  Kafka broker (KRaft, in-process) at %s, started in %.1f s%n", k.bootstrapServers(),
                (System.nanoTime() - s) / 1e9);
        return k;
    }

    private static JobClient startJob(Configuration conf) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        MpvssJob.buildKafkaPipeline(env, conf);
        return env.executeAsync("mpvss-demo");
    }

    /**
     * Stops {@code reader} when the job ends on its own: failed (ended = "FAILED: cause") or finished (after a
     * grace period for its last committed masks). The returned thread is interrupted before we cancel the job.
     */
    private static Thread watch(JobClient job, MaskReader reader, AtomicReference<String> ended) {
        Thread t = new Thread(() -> {
            try {
                job.getJobExecutionResult().get();
                Thread.sleep(3000); // a finished job's last committed masks may still be on the way
                ended.set("FINISHED");
            } catch (InterruptedException e) {
                return; // we are stopping the job ourselves
            } catch (Exception e) {
                if (Thread.currentThread().isInterrupted()) {
                    return;
                }
                ended.set("FAILED: " + Mpvss.rootMessage(e));
            }
            reader.stop();
        }, "mpvss-demo-job-watch");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static IllegalStateException jobFailure(JobClient job, String state, long got, long total) {
        return new IllegalStateException("the Flink job ended after " + got + " of " + total + " masks ("
                + state + ")");
    }

    private static void awaitRunning(JobClient job, Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            JobStatus s = job.getJobStatus().get(10, TimeUnit.SECONDS);
            if (s == JobStatus.RUNNING) {
                return;
            }
            if (s.isGloballyTerminalState()) {
                job.getJobExecutionResult().get(10, TimeUnit.SECONDS); // throws the failure cause
                throw new IllegalStateException("the job ended before it ran: " + s);
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the job did not reach RUNNING within " + limit.toSeconds() + " s");
    }

    private static void stopJob(JobClient job, boolean bounded, PrintStream out) throws Exception {
        JobStatus s = job.getJobStatus().get(10, TimeUnit.SECONDS);
        if (s == JobStatus.FAILED) {
            job.getJobExecutionResult().get(10, TimeUnit.SECONDS);
        }
        if (bounded) {
            try {
                job.getJobExecutionResult().get(30, TimeUnit.SECONDS);
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                out.println("  the bounded job did not finish within 30 s of the last mask; cancelling it");
            }
        }
        if (!job.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()) {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Sends every stream's frames; live: paced at fps (capture time = send time), replay: at once (capture times
     * spaced 1/fps, ending now). Streams are interleaved frame by frame as cameras would be.
     */
    static void produceAll(FrameSender sender, Map<String, List<LabelClips.Frame>> frames, double fps,
                           boolean live, int badFrames, AtomicLong firstSentMs, Progress.Counter produced,
                           long ackedBefore) throws Exception {
        int longest = frames.values().stream().mapToInt(List::size).max().orElse(0);
        long stepMs = Math.round(1000 / fps);
        long replayBase = System.currentTimeMillis() - longest * stepMs;
        long start = System.nanoTime();
        firstSentMs.set(System.currentTimeMillis());
        int badAt = Math.max(0, longest / 2);
        for (int i = 0; i < longest; i++) {
            if (live) {
                long wait = start + Math.round(i * 1e9 / fps) - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
            long ts = live ? System.currentTimeMillis() : replayBase + i * stepMs;
            for (Map.Entry<String, List<LabelClips.Frame>> e : frames.entrySet()) {
                if (i < e.getValue().size()) {
                    sender.send(e.getKey(), i, ts, Files.readAllBytes(e.getValue().get(i).image()));
                }
            }
            if (i == badAt) {
                sendBadFrames(sender, frames, badFrames, ts);
            }
            produced.set(sender.acked() - ackedBefore);
        }
        sender.flush();
        produced.set(sender.acked() - ackedBefore);
    }

    /** A camera whose uploads are cut off: truncated JPEGs, which the job must route to the DLQ. */
    private static void sendBadFrames(FrameSender sender, Map<String, List<LabelClips.Frame>> frames, int n, long ts)
            throws IOException {
        if (n <= 0 || frames.isEmpty()) {
            return;
        }
        byte[] real = Files.readAllBytes(frames.values().iterator().next().get(0).image());
        byte[] cut = java.util.Arrays.copyOf(real, Math.min(real.length, 600));
        for (int j = 0; j < n; j++) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(sender.topic(), null, ts,
                    "demo-broken-camera", cut);
            r.headers().add(WireFormat.HEADER_SEQ, Long.toString(j).getBytes(StandardCharsets.UTF_8));
            r.headers().add(WireFormat.HEADER_TS, Long.toString(ts).getBytes(StandardCharsets.UTF_8));
            sender.sendRaw(r);
        }
    }

    /** What ended up in the dead-letter topic. */
    record DlqSummary(long count, Map<String, Long> byErrorClass, List<String> examples) {
    }

    static DlqSummary readDlq(String servers, String topic) {
        java.util.Properties p = KafkaClients.consumer(servers, new java.util.Properties(), "mpvss-demo-dlq");
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
        return new DlqSummary(n, byClass, examples);
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Removes the previous run's outputs (only the files this command writes). */
    private static void prepareOut(Path out) throws IOException {
        Files.createDirectories(out);
        deleteTree(out.resolve("overlays"));
        for (String f : new String[] {"contact-sheet.png", "summary.json", "summary.md"}) {
            Files.deleteIfExists(out.resolve(f));
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
