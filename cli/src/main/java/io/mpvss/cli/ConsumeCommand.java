package io.mpvss.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

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
            KafkaClients.SERVERS_USAGE,
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
            KafkaClients.PROPERTIES_USAGE);

    private ConsumeCommand() {
    }

    /** The command's options. */
    record Options(String servers, String topic, Path outDir, long limit, Duration idle, Path modelDir,
                   Path framesDir, String onlyStream, String from, String group, int sheetStep, int overlayMinWidth,
                   Properties user) {

        static Options from(Args args) {
            String servers = KafkaClients.bootstrapServers(args);
            String topic = args.get("topic", WireFormat.DEFAULT_MASKS_TOPIC);
            Path outDir = args.getPath("out", Path.of("out", "masks"));
            long limit = args.getLong("limit", 0);
            Duration idle = args.getDuration("idle-timeout", Duration.ofSeconds(30));
            boolean modelGiven = args.has(JobOptions.MODEL_DIR.key());
            Path modelDir = RepoPaths.modelDir(args);
            Path framesDir = args.getPath("frames", null);
            String onlyStream = args.get("stream", null);
            String from = args.get("from", "earliest");
            if (!from.equals("earliest") && !from.equals("latest")) {
                throw new UsageException("--from expects earliest or latest, got '" + from + "'");
            }
            String group = args.get("group-id", "mpvss-consume-" + UUID.randomUUID());
            int sheetStep = args.getPositiveInt("sheet-step", 3);
            int overlayMinWidth = args.getInt("overlay-min-width", 480);
            Properties user = KafkaClients.userProperties(args);
            args.rejectUnknown();
            if (framesDir != null && !Files.isDirectory(framesDir)) {
                throw new UsageException("no such frames folder: " + framesDir);
            }
            if (modelGiven) {
                RepoPaths.requireModelBundle(modelDir);
            }
            return new Options(servers, topic, outDir, limit, idle, modelDir, framesDir, onlyStream, from, group,
                    sheetStep, overlayMinWidth, user);
        }
    }

    static int run(Args args, PrintStream out) throws Exception {
        Options o = Options.from(args);
        Palette palette = RepoPaths.isModelBundle(o.modelDir()) ? Palette.fromManifest(o.modelDir()) : null;
        Properties props = KafkaClients.consumer(o.servers(), o.user(), o.group());
        props.put("auto.offset.reset", o.from());
        Files.createDirectories(o.outDir());
        out.printf(Locale.ROOT, "reading '%s' at %s into %s (%s; Ctrl-C to stop)%n", o.topic(), o.servers(),
                o.outDir(), o.limit() > 0 ? "up to " + o.limit() + " documents" : o.idle().isZero() ? "until stopped"
                        : "until " + o.idle().toSeconds() + " s without documents");
        if (palette == null) {
            out.println("note: no manifest at " + o.modelDir() + ": default colours, class names from the documents");
        }
        Overlays overlays = new Overlays(o, palette);
        // Ctrl-C: stop reading, write what was received (the JVM exits when this hook returns)
        StopSignal stop = new StopSignal("mpvss-consume-stop", Duration.ofSeconds(60));
        try {
            long n = read(o, props, overlays, stop, out);
            return write(o, overlays, n, out);
        } finally {
            stop.finished();
        }
    }

    /** Reads until --limit, --idle-timeout or Ctrl-C; returns how many documents of the wanted streams came. */
    private static long read(Options o, Properties props, Overlays overlays, StopSignal stop, PrintStream out)
            throws Exception {
        try (MaskReader reader = new MaskReader(props, o.topic()); Progress progress = new Progress(out)) {
            Progress.Counter docs = progress.counter("masks", o.limit());
            progress.extra(overlays::progressText);
            progress.start();
            stop.install(reader::stop);
            reader.read(o.limit(), o.idle().isZero() ? null : o.idle(), 0, (doc, received) -> {
                if (o.onlyStream() == null || o.onlyStream().equals(doc.getStream())) {
                    overlays.add(doc, received, progress);
                    docs.increment();
                }
            });
            long n = docs.get();
            progress.close();
            if (reader.unreadable() > 0) {
                out.println("warning: " + reader.unreadable() + " records were not mask documents (first: "
                        + reader.firstUnreadable() + ")");
            }
            if (reader.duplicates() > 0) {
                out.println("dropped " + reader.duplicates() + " repeated documents (at-least-once delivery)");
            }
            return n;
        } finally {
            stop.uninstall();
        }
    }

    /** Waits for the overlays, writes the contact sheet and the summary; 1 if no document came at all. */
    private static int write(Options o, Overlays overlays, long n, PrintStream out) throws Exception {
        OverlayWriter writer = overlays.writer;
        if (writer == null) {
            out.println("no mask documents received");
            return n > 0 ? 0 : 1;
        }
        try (writer) {
            writer.await();
            double keyShare = 100.0 * overlays.keys / Math.max(1, n);
            Path sheet = o.outDir().resolve("contact-sheet.png");
            writer.writeSheet(sheet, "MPVSS masks from '" + o.topic() + "'", String.format(Locale.ROOT,
                    "%d frames, %d stream(s), key frames %.0f%%; every %sseq shown", n, overlays.streams.size(),
                    keyShare, DemoCommand.ordinal(o.sheetStep())));
            out.printf(Locale.ROOT, "%d documents from %d stream(s) (key frames %.0f%%); emitted -> received %s%n",
                    n, overlays.streams.size(), keyShare, overlays.latency.summary());
            out.println("wrote " + writer.written() + " overlays under " + o.outDir().resolve("overlays") + " and "
                    + sheet);
        }
        return 0;
    }

    /**
     * The documents read so far: each goes to the overlay writer, made at the first document in the manifest's
     * colours (without a manifest: default colours for the first document's class names); the summary's counts.
     */
    private static final class Overlays {
        private final Options o;
        private final FrameLookup lookup;
        private final Set<String> warnedNoFrames = new HashSet<>();
        private final Set<String> streams = new TreeSet<>();
        private final LatencyStats latency = new LatencyStats();
        private Palette palette;
        /** Read by the progress line's thread too. */
        private volatile OverlayWriter writer;
        private long keys;

        Overlays(Options o, Palette palette) {
            this.o = o;
            this.palette = palette;
            this.lookup = o.framesDir() == null ? null : new FrameLookup(o.framesDir());
        }

        void add(MaskDocument doc, long receivedMs, Progress progress) throws IOException {
            if (writer == null) {
                if (palette == null) {
                    palette = paletteFromDocument(doc);
                }
                writer = new OverlayWriter(o.outDir(), palette, o.sheetStep(), lookup == null ? null : lookup::frame,
                        2, o.overlayMinWidth());
            }
            String stream = doc.getStream();
            if (lookup != null && lookup.frames(stream).isEmpty() && warnedNoFrames.add(stream)) {
                progress.note("note: no frames for stream '" + stream + "' under " + o.framesDir()
                        + " (looked in <dir>/" + stream + "/frames, <dir>/" + stream + ", <dir>/frames, <dir>): "
                        + "colours only");
            }
            writer.submit(doc);
            streams.add(stream);
            if (doc.isKeyFrame()) {
                keys++;
            }
            latency.add(Math.max(0, receivedMs - doc.getEmittedTs()));
        }

        String progressText() {
            OverlayWriter w = writer;
            return w == null ? "" : "overlays " + w.written();
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
