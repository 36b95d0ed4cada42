package io.mpvss.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.mpvss.config.JobOptions;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.metrics.LatencyStats;
import io.mpvss.render.Palette;

/** {@code mpvss consume}: masks topic -> overlay PNGs (label maps in the model's colours) and a contact sheet. */
final class ConsumeCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss consume [options]",
            "  Reads mask documents (isolation.level=read_committed, repeats dropped by stream+seq) and writes",
            "  OUT/overlays/<stream>/<seq>.png and OUT/contact-sheet.png.",
            "  --bootstrap-servers HOSTS  Kafka (default localhost:9092)",
            "  --topic NAME               default masks",
            "  --out DIR                  output folder (default ./out/masks)",
            "  --limit N                  stop after N documents (default: no limit)",
            "  --idle-timeout DURATION    stop after this long without a new document (default 30s; 0 = never)",
            "  --model.dir DIR            bundle whose manifest.json gives class colours (default model-ops/bundle;",
            "                             without it: default colours, names from the documents)",
            "  --frames DIR               blend overlays over the original frames: the seq-th image of",
            "                             DIR/<stream>/frames/, DIR/<stream>/, DIR/frames/ or DIR/",
            "  --stream ID                only this stream",
            "  --from earliest|latest     where a new reader starts (default earliest)",
            "  --group-id ID              consumer group (default: a fresh one, nothing committed)",
            "  --sheet-step N             every N-th seq goes on the contact sheet (default 3)",
            "  --overlay-min-width PX     upscale narrower frames in the overlays (default 480)",
            "  --kafka-properties-file F  Kafka client properties (TLS/SASL; see kafka-config/)",
            "  --kafka.properties.K V     one Kafka client property");

    private ConsumeCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        String servers = args.get("bootstrap-servers", "localhost:9092");
        String topic = args.get("topic", WireFormat.DEFAULT_MASKS_TOPIC);
        Path outDir = args.getPath("out", Path.of("out", "masks"));
        long limit = args.getLong("limit", 0);
        Duration idle = args.getDuration("idle-timeout", Duration.ofSeconds(30));
        String modelDirArg = args.get(JobOptions.MODEL_DIR.key(), null);
        Path framesDir = args.getPath("frames", null);
        String onlyStream = args.get("stream", null);
        String from = args.get("from", "earliest");
        if (!from.equals("earliest") && !from.equals("latest")) {
            throw new UsageException("--from expects earliest or latest, got '" + from + "'");
        }
        String group = args.get("group-id", "mpvss-consume-" + UUID.randomUUID());
        int sheetStep = args.getPositiveInt("sheet-step", 3);
        int overlayMinWidth = args.getInt("overlay-min-width", 480);
        var user = KafkaClients.userProperties(args);
        args.rejectUnknown();
        if (framesDir != null && !Files.isDirectory(framesDir)) {
            throw new UsageException("no such frames folder: " + framesDir);
        }
        Path modelDir = RepoPaths.resolve(modelDirArg, RepoPaths.BUNDLED_MODEL);
        if (modelDirArg != null && !Files.isRegularFile(modelDir.resolve("manifest.json"))) {
            throw new UsageException("no manifest.json in --model.dir " + modelDir);
        }
        Palette palette = Files.isRegularFile(modelDir.resolve("manifest.json"))
                ? Palette.fromManifest(modelDir) : null;

        var props = KafkaClients.consumer(servers, user, group);
        props.put("auto.offset.reset", from);
        Files.createDirectories(outDir);
        out.printf(Locale.ROOT, "reading '%s' at %s into %s (%s; Ctrl-C to stop)%n", topic, servers, outDir,
                limit > 0 ? "up to " + limit + " documents" : idle.isZero() ? "until stopped"
                        : "until " + idle.toSeconds() + " s without documents");
        if (palette == null) {
            out.println("note: no manifest at " + modelDir + ": default colours, class names from the documents");
        }

        FrameLookup lookup = framesDir == null ? null : new FrameLookup(framesDir);
        AtomicReference<OverlayWriter> writerRef = new AtomicReference<>();
        AtomicReference<Palette> paletteRef = new AtomicReference<>(palette);
        LatencyStats latency = new LatencyStats();
        TreeSet<String> streams = new TreeSet<>();
        java.util.Set<String> warnedNoFrames = new java.util.HashSet<>();
        AtomicLong keys = new AtomicLong();
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        try {
            List<Thread> hooks = new ArrayList<>();
            long n;
            try (MaskReader reader = new MaskReader(props, topic); Progress progress = new Progress(out)) {
                Progress.Counter docs = progress.counter("masks", limit);
                progress.extra(() -> {
                    OverlayWriter w = writerRef.get();
                    return w == null ? "" : "overlays " + w.written();
                });
                progress.start();
                // Ctrl-C: stop reading, write what was received (the JVM exits when this hook returns)
                Thread hook = new Thread(() -> {
                    reader.stop();
                    try {
                        finished.await(60, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException ignored) {
                        // exiting anyway
                    }
                }, "mpvss-consume-stop");
                Runtime.getRuntime().addShutdownHook(hook);
                hooks.add(hook);
                reader.read(limit, idle.isZero() ? null : idle, 0, (doc, received) -> {
                    if (onlyStream != null && !onlyStream.equals(doc.getStream())) {
                        return;
                    }
                    if (writerRef.get() == null) {
                        if (paletteRef.get() == null) {
                            paletteRef.set(paletteFromDocument(doc));
                        }
                        writerRef.set(new OverlayWriter(outDir, paletteRef.get(), sheetStep,
                                lookup == null ? null : lookup::frame, 2, overlayMinWidth));
                    }
                    if (lookup != null && lookup.frames(doc.getStream()).isEmpty() && warnedNoFrames.add(doc.getStream())) {
                        progress.note("note: no frames for stream '" + doc.getStream() + "' under " + framesDir
                                + " (looked in <dir>/" + doc.getStream() + "/frames, <dir>/" + doc.getStream()
                                + ", <dir>/frames, <dir>): colours only");
                    }
                    writerRef.get().submit(doc);
                    streams.add(doc.getStream());
                    if (doc.isKeyFrame()) {
                        keys.incrementAndGet();
                    }
                    latency.add(Math.max(0, received - doc.getEmittedTs()));
                    docs.increment();
                });
                n = docs.get();
                progress.close();
                if (reader.unreadable() > 0) {
                    out.println("warning: " + reader.unreadable() + " records were not mask documents (first: "
                            + reader.firstUnreadable() + ")");
                }
                if (reader.duplicates() > 0) {
                    out.println("dropped " + reader.duplicates() + " repeated documents (at-least-once delivery)");
                }
            } finally {
                for (Thread h : hooks) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(h);
                    } catch (IllegalStateException ignored) {
                        // shutting down
                    }
                }
            }
            OverlayWriter writer = writerRef.get();
            if (writer == null) {
                out.println("no mask documents received");
                return n > 0 ? 0 : 1;
            }
            try (writer) {
                writer.await();
                Path sheet = outDir.resolve("contact-sheet.png");
                writer.writeSheet(sheet, "MPVSS masks from '" + topic + "'", String.format(Locale.ROOT,
                        "%d frames, %d stream(s), key frames %.0f%%; every %sseq shown", n, streams.size(),
                        100.0 * keys.get() / Math.max(1, n), DemoCommand.ordinal(sheetStep)));
                out.printf(Locale.ROOT, "%d documents from %d stream(s) (key frames %.0f%%); emitted -> received %s%n",
                        n, streams.size(), 100.0 * keys.get() / Math.max(1, n), latency.summary());
                out.println("wrote " + writer.written() + " overlays under " + outDir.resolve("overlays") + " and "
                        + sheet);
            }
            return 0;
        } finally {
            finished.countDown();
        }
    }

    /** Class names from a document's class_pixels (in id order), default colours. */
    static Palette paletteFromDocument(MaskDocument doc) throws IOException {
        List<String> names = new ArrayList<>(doc.classPixels().keySet());
        Palette def = Palette.defaultPalette(Math.max(1, names.size()));
        List<java.awt.Color> cols = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            cols.add(def.color(i));
        }
        return names.isEmpty() ? def : Palette.of(names, cols);
    }
}
