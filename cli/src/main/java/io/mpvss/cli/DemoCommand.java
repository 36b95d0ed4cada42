package io.mpvss.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import io.mpvss.format.MaskDocument;
import io.mpvss.config.JobOptions;
import io.mpvss.config.StartingOffsets;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.metrics.LabelClips;
import io.mpvss.model.ModelManifest;
import io.mpvss.render.Palette;

import org.apache.flink.configuration.Configuration;

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
            "  --model.dir DIR           model bundle (default model-ops/bundle of this repository)",
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

        /** Back to a mask document (for the overlay writer), with the class pixel counts scoring found. */
        MaskDocument toDocument(String model, Map<String, Long> classPixels) {
            MaskDocument d = new MaskDocument();
            d.setStream(stream);
            d.setSeq(seq);
            d.setCaptureTs(captureTs);
            d.setKeyFrame(key);
            d.setKeySeq(keySeq);
            d.setKeyReason(keyReason);
            d.setModel(model);
            d.setWidth(width);
            d.setHeight(height);
            d.setLabelMapPng(png);
            d.setProcessingMs(processingMs);
            d.setEmittedTs(emittedTs);
            d.classPixels(classPixels);
            return d;
        }
    }

    private DemoCommand() {
    }

    /** The demo's options. */
    static final class Options {
        final Path outDir;
        final Path modelDir;
        final Path clipsDir;
        final double fps;
        final int maxFrames;
        final int maxStreams;
        final boolean replay;
        final int badFrames;
        final int sheetStep;
        final Duration timeout;
        final boolean overlays;
        final int overlayMinWidth;
        /** Job options and Flink keys given on the command line (they win over the demo's). */
        final Map<String, String> jobSettings;

        private Options(Args args) {
            outDir = args.getPath("out", Path.of("out")).toAbsolutePath().normalize();
            modelDir = RepoPaths.modelDir(args);
            clipsDir = RepoPaths.resolve(args.get("clips", null), RepoPaths.DEMO_CLIPS);
            fps = args.getDouble("fps", 10);
            if (!(fps > 0 && fps <= 1000)) {
                throw new UsageException("--fps must be in (0, 1000], got " + fps);
            }
            maxFrames = args.getPositiveInt("max-frames", Integer.MAX_VALUE);
            maxStreams = args.getPositiveInt("max-streams", Integer.MAX_VALUE);
            replay = args.getBoolean("replay", false);
            badFrames = args.getInt("bad-frames", 1);
            sheetStep = args.getInt("sheet-step", 0);
            timeout = args.getDuration("timeout", Duration.ofSeconds(100));
            overlays = !args.getBoolean("no-overlays", false);
            overlayMinWidth = args.getInt("overlay-min-width", 480);
            jobSettings = args.jobSettings();
            args.rejectUnknown();
        }

        static Options from(Args args) {
            return new Options(args);
        }
    }

    /** The model and the clips the demo streams, one stream per clip. */
    record Inputs(ModelManifest manifest, Palette palette, Map<String, List<LabelClips.Frame>> frames, long total) {

        static Inputs load(Options o) throws IOException {
            RepoPaths.requireModelBundle(o.modelDir);
            if (!Files.isDirectory(o.clipsDir)) {
                throw new UsageException("no demo clips at " + o.clipsDir + ": they come from model-ops (see "
                        + "model-ops/README.md), or pass --clips DIR");
            }
            ModelManifest manifest = ModelManifest.read(o.modelDir);
            List<LabelClips.Clip> clips;
            try {
                clips = LabelClips.list(o.clipsDir);
            } catch (IOException e) {
                throw new UsageException(e.getMessage());
            }
            if (clips.size() > o.maxStreams) {
                clips = clips.subList(0, o.maxStreams);
            }
            Map<String, List<LabelClips.Frame>> frames = new LinkedHashMap<>();
            long total = 0;
            for (LabelClips.Clip c : clips) {
                List<LabelClips.Frame> f = c.frames().size() > o.maxFrames ? c.frames().subList(0, o.maxFrames)
                        : c.frames();
                frames.put(c.id(), f);
                total += f.size();
            }
            return new Inputs(manifest, Palette.of(manifest), frames, total);
        }

        /** The key interval the job will use (the option, else the manifest's). */
        int keyInterval(Configuration conf) {
            int k = conf.get(JobOptions.KEY_INTERVAL);
            return k > 0 ? k : manifest.keyInterval();
        }
    }

    /** What streaming the clips through Kafka and the job gave. */
    record Streamed(List<Received> received, long firstSentMs, long jobStartMs, long lastReceivedMs, long duplicates,
                    DeadLetters dlq, MaskReader.End end) {
    }

    static int run(Args args, PrintStream out) throws Exception {
        long t0 = System.nanoTime();
        Options o = Options.from(args);
        Inputs in = Inputs.load(o);
        Configuration conf = jobConfiguration(o, in.frames().size());
        printPlan(o, in, conf, out);
        prepareOut(o.outDir);
        Streamed st = stream(o, in, conf, out);
        if (st.end() != MaskReader.End.LIMIT) {
            out.printf(Locale.ROOT, "warning: received %d of %d masks before the %s timeout (see the log: %s)%n",
                    st.received().size(), in.total(), o.timeout, System.getProperty("mpvss.log.file", "stderr"));
        }
        DemoReport report = score(o, in, conf, st, out);
        render(o, in, conf, st, report, out);
        report.write(o.outDir);
        out.println();
        out.print(report.markdown());
        out.printf(Locale.ROOT, "%nwrote %s: %scontact-sheet.png, summary.json, summary.md  (%.0f s in all)%n",
                o.outDir, o.overlays ? "overlays/<stream>/<seq>.png, " : "", (System.nanoTime() - t0) / 1e9);
        return st.end() == MaskReader.End.LIMIT ? 0 : 1;
    }

    /** The demo's job settings (exactly-once with 1 s checkpoints, bounded in replay), then the user's. */
    static Configuration jobConfiguration(Options o, int streams) {
        int cores = Runtime.getRuntime().availableProcessors();
        int parallelism = Integer.parseInt(o.jobSettings.getOrDefault("parallelism.default",
                String.valueOf(Math.max(1, Math.min(Math.min(4, cores), streams)))));
        Configuration conf = new Configuration();
        conf.setString("parallelism.default", String.valueOf(parallelism));
        conf.setString("execution.checkpointing.interval", "1s");
        conf.setString("taskmanager.numberOfTaskSlots", String.valueOf(parallelism));
        // a demo that cannot work should say so, not restart forever (Flink's default with checkpointing)
        conf.setString("restart-strategy.type", "fixed-delay");
        conf.setString("restart-strategy.fixed-delay.attempts", "2");
        conf.setString("restart-strategy.fixed-delay.delay", "1s");
        conf.set(JobOptions.MODEL_DIR, o.modelDir.toString());
        conf.set(JobOptions.SOURCE_BOUNDED, o.replay);
        conf.set(JobOptions.STARTING_OFFSETS, StartingOffsets.EARLIEST);
        conf.set(JobOptions.GROUP_ID, "mpvss-demo");
        conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "mpvss-demo");
        o.jobSettings.forEach(conf::setString);
        return conf;
    }

    private static int parallelism(Configuration conf) {
        return Integer.parseInt(conf.getString("parallelism.default", "1"));
    }

    private static String checkpointInterval(Configuration conf) {
        return conf.getString("execution.checkpointing.interval", "1s");
    }

    private static void printPlan(Options o, Inputs in, Configuration conf, PrintStream out) {
        ModelManifest manifest = in.manifest();
        out.printf(Locale.ROOT, "MPVSS demo: model %s (%dx%d input, %d classes, key frame every %d), %d streams x "
                        + "%s frames at %s fps%n", manifest.modelId(), manifest.width(), manifest.height(),
                manifest.numClasses(), in.keyInterval(conf), in.frames().size(), in.frames().values().stream()
                        .map(l -> l.size()).distinct().map(String::valueOf).reduce((a, b) -> a + "/" + b).orElse("0"),
                ProduceCommand.fmt(o.fps));
        out.printf(Locale.ROOT, "  %s mode, %s, checkpoint every %s, parallelism %d%n",
                o.replay ? "replay (bounded)" : "live", conf.get(JobOptions.DELIVERY_GUARANTEE),
                checkpointInterval(conf), parallelism(conf));
    }

    /** Kafka up, the job and the cameras running, every mask read back, the dead letters counted; Kafka down. */
    private static Streamed stream(Options o, Inputs in, Configuration conf, PrintStream out) throws Exception {
        String framesTopic = conf.get(JobOptions.TOPIC_FRAMES);
        String dlqTopic = conf.get(JobOptions.TOPIC_DLQ);
        int parallelism = parallelism(conf);
        try (EmbeddedKafka kafka = startKafka(out)) {
            kafka.createTopics(Map.of(framesTopic, parallelism, conf.get(JobOptions.TOPIC_MASKS), parallelism,
                    dlqTopic, 1));
            conf.set(JobOptions.BOOTSTRAP_SERVERS, kafka.bootstrapServers());
            Streamed st;
            try (Session session = new Session(o, in, conf, out)) {
                st = session.run();
            }
            DeadLetters dlq = DeadLetters.read(kafka.bootstrapServers(), dlqTopic);
            out.println("  stopping Kafka ...");
            return new Streamed(st.received(), st.firstSentMs(), st.jobStartMs(), st.lastReceivedMs(),
                    st.duplicates(), dlq, st.end());
        }
    }

    /** One pass of the cameras through the job: the producer, the mask reader, the job and the progress line. */
    private static final class Session implements AutoCloseable {
        private final Options o;
        private final Inputs in;
        private final Configuration conf;
        private final PrintStream out;
        private final FrameSender sender;
        private final MaskReader reader;
        private final Progress progress;
        private final Progress.Counter produced;
        private final Progress.Counter masks;
        private final List<Received> received = new ArrayList<>();
        private final AtomicLong firstSentMs = new AtomicLong();
        private final AtomicReference<Exception> producerError = new AtomicReference<>();
        private volatile long firstMaskNanos;
        private long jobStartMs;

        Session(Options o, Inputs in, Configuration conf, PrintStream out) {
            this.o = o;
            this.in = in;
            this.conf = conf;
            this.out = out;
            String servers = conf.get(JobOptions.BOOTSTRAP_SERVERS);
            sender = new FrameSender(KafkaClients.producer(servers, new Properties()),
                    conf.get(JobOptions.TOPIC_FRAMES));
            reader = new MaskReader(KafkaClients.consumer(servers, new Properties(), "mpvss-demo-reader"),
                    conf.get(JobOptions.TOPIC_MASKS));
            progress = new Progress(out);
            produced = progress.counter("produced", in.total() + Math.max(0, o.badFrames));
            masks = progress.counter("masks", in.total());
            progress.extra(() -> {
                long n = masks.get();
                if (n < 2 || firstMaskNanos == 0) {
                    return "";
                }
                return String.format(Locale.ROOT, "%.1f frames/s",
                        (n - 1) / Math.max(1e-3, (System.nanoTime() - firstMaskNanos) / 1e9));
            });
        }

        Streamed run() throws Exception {
            Thread cameras = null;
            LocalJob job;
            if (o.replay) {
                job = startReplay();
            } else {
                job = startLive();
                cameras = new Thread(this::produce, "mpvss-demo-cameras");
                cameras.setDaemon(true);
                cameras.start();
            }
            try (job) {
                MaskReader.End end = collect();
                long lastReceivedMs = System.currentTimeMillis();
                if (end != MaskReader.End.LIMIT && job.ended() != null) {
                    progress.close();
                    throw jobFailure(job.ended(), received.size(), in.total());
                }
                progress.close();
                if (cameras != null) {
                    cameras.join(5000);
                }
                if (producerError.get() != null) {
                    throw producerError.get();
                }
                job.stop(o.replay ? Duration.ofSeconds(30) : Duration.ZERO, out);
                return new Streamed(received, firstSentMs.get(), jobStartMs, lastReceivedMs, reader.duplicates(),
                        null, end);
            }
        }

        /** Replay: every frame queued first, then the bounded job. */
        private LocalJob startReplay() throws Exception {
            out.println("  queueing all frames, then starting the job ...");
            progress.start();
            produce();
            if (producerError.get() != null) {
                throw producerError.get();
            }
            LocalJob job = LocalJob.startKafkaPipeline(conf, "mpvss-demo");
            job.onEnd(state -> reader.stop());
            jobStartMs = System.currentTimeMillis();
            return job;
        }

        /** Live: the job up and warm before the cameras start, so that latency is not the job's start-up. */
        private LocalJob startLive() throws Exception {
            out.println("  starting the Flink job (MiniCluster) ...");
            long js = System.nanoTime();
            LocalJob job = LocalJob.startKafkaPipeline(conf, "mpvss-demo");
            try {
                job.onEnd(state -> reader.stop());
                job.awaitRunning(Duration.ofSeconds(60));
                // one frame on a stream of its own: its mask shows that every task is up, the model loaded and the
                // sink committing
                byte[] first = Files.readAllBytes(in.frames().values().iterator().next().get(0).image());
                sender.send("demo-warmup", 0, System.currentTimeMillis(), first);
                sender.flush();
                if (reader.read(1, null, System.nanoTime() + Duration.ofSeconds(90).toNanos(), (d, r) -> { })
                        != MaskReader.End.LIMIT) {
                    progress.close();
                    throw job.ended() != null ? jobFailure(job.ended(), 0, in.total())
                            : new IllegalStateException("the job produced no mask within 90 s of starting");
                }
            } catch (Exception e) {
                job.close();
                throw e;
            }
            out.printf(Locale.ROOT, "  job running, first mask %.1f s after submission; cameras on%n",
                    (System.nanoTime() - js) / 1e9);
            jobStartMs = System.currentTimeMillis();
            progress.start();
            return job;
        }

        /** The cameras; a failure is kept for the main thread. */
        private void produce() {
            try {
                produceAll(sender, in.frames(), o.fps, !o.replay, o.badFrames, firstSentMs, produced,
                        sender.acked());
            } catch (Exception e) {
                producerError.compareAndSet(null, e);
            }
        }

        /** Reads masks until every frame's has come, the job ended, the cameras failed or the timeout. */
        private MaskReader.End collect() throws Exception {
            long deadline = System.nanoTime() + o.timeout.toNanos();
            return reader.read(in.total(), null, deadline, (doc, rcv) -> {
                if (firstMaskNanos == 0) {
                    firstMaskNanos = System.nanoTime();
                }
                if (!in.frames().containsKey(doc.getStream())) {
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
        }

        @Override
        public void close() {
            progress.close();
            reader.close();
            sender.close();
        }
    }

    private static DemoReport score(Options o, Inputs in, Configuration conf, Streamed st, PrintStream out)
            throws IOException {
        long rs = System.nanoTime();
        out.println("  scoring ...");
        DemoReport report = DemoReport.builder(in.manifest(), in.frames())
                .received(st.received(), st.duplicates())
                .mode(o.replay, o.fps)
                .job(conf.get(JobOptions.DELIVERY_GUARANTEE).toString(), checkpointInterval(conf), parallelism(conf))
                .timeline(st.firstSentMs(), st.jobStartMs(), st.lastReceivedMs())
                .deadLetters(st.dlq(), o.badFrames)
                .build();
        out.printf(Locale.ROOT, "  scored %d masks against the clip labels in %.1f s; rendering ...%n",
                st.received().size(), (System.nanoTime() - rs) / 1e9);
        return report;
    }

    /** The overlays (all, or only the contact sheet's with --no-overlays) and the contact sheet. */
    private static void render(Options o, Inputs in, Configuration conf, Streamed st, DemoReport report,
                               PrintStream out) throws Exception {
        long renderStart = System.nanoTime();
        int sheetStep = o.sheetStep > 0 ? o.sheetStep : autoSheetStep(in.frames(), in.keyInterval(conf));
        Map<String, List<LabelClips.Frame>> framesByStream = in.frames();
        int cores = Runtime.getRuntime().availableProcessors();
        try (OverlayWriter writer = new OverlayWriter(o.outDir, in.palette(), sheetStep, (stream, seq) -> {
            List<LabelClips.Frame> l = framesByStream.get(stream);
            return l == null || seq < 0 || seq >= l.size() ? null : LabelClips.readImage(l.get((int) (long) seq)
                    .image());
        }, Math.max(1, cores), o.overlayMinWidth)) {
            for (Received r : st.received()) {
                if (o.overlays || r.seq() % sheetStep == 0) {
                    writer.submit(r.toDocument(in.manifest().modelId(), report.classPixels(r)));
                }
            }
            writer.await();
            if (!o.overlays) {
                deleteTree(o.outDir.resolve("overlays"));
            }
            writer.writeSheet(o.outDir.resolve("contact-sheet.png"), "MPVSS demo \u2014 " + in.manifest().modelId(),
                    String.format(Locale.ROOT, "%d streams, %d frames, %s; every %sframe shown; mIoU %s",
                            in.frames().size(), st.received().size(), conf.get(JobOptions.DELIVERY_GUARANTEE),
                            ordinal(sheetStep), report.miouText()));
        }
        out.printf(Locale.ROOT, "  rendered %s and the contact sheet in %.1f s%n",
                o.overlays ? st.received().size() + " overlays" : "no overlays",
                (System.nanoTime() - renderStart) / 1e9);
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

    private static IllegalStateException jobFailure(String state, long got, long total) {
        return new IllegalStateException("the Flink job ended after " + got + " of " + total + " masks ("
                + state + ")");
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
            sender.send("demo-broken-camera", j, ts, cut);
        }
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
