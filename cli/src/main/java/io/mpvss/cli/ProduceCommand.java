package io.mpvss.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import io.mpvss.format.WireFormat;
import io.mpvss.metrics.LabelClips;

/** {@code mpvss produce}: a video file or a folder of images -> the frames topic, as one camera stream. */
final class ProduceCommand {

    static final String USAGE = String.join("\n",
            "usage: mpvss produce --input VIDEO|DIR [options]",
            "  Sends one camera stream to Kafka in the MPVSS wire format (key = stream id, value = JPEG/PNG,",
            "  headers mpvss.seq and mpvss.ts, record timestamp = capture time).",
            "  --input PATH               a video file (decoded with ffmpeg) or a folder of .jpg/.png frames",
            "                             (a dataset clip folder with frames/ inside works too)",
            KafkaClients.SERVERS_USAGE,
            "  --topic NAME               default frames",
            "  --stream ID                stream id = record key (default: the input's file name)",
            "  --fps N                    capture rate: timestamps step 1000/N ms; videos are resampled to it",
            "                             (default 10)",
            "  --realtime                 pace the sending at --fps, like a live camera (default: as fast as possible)",
            "  --limit N                  send at most N frames (default all)",
            "  --start-seq N              seq of the first frame (default 0)",
            "  --start-ts MS              capture time of the first frame, epoch ms (default now)",
            "  --size WxH                 videos only: scale frames to this size",
            "  --quality Q                videos only: JPEG quality 2 (best) .. 31 (default 3)",
            KafkaClients.PROPERTIES_USAGE);

    private ProduceCommand() {
    }

    /** The command's options. */
    record Options(Path input, String servers, String topic, double fps, boolean realtime, int limit, long seq0,
                   long ts0, String size, int quality, Properties user, String stream) {

        static Options from(Args args) {
            Path input = Path.of(args.required("input", "VIDEO|DIR"));
            String servers = KafkaClients.bootstrapServers(args);
            String topic = args.get("topic", WireFormat.DEFAULT_FRAMES_TOPIC);
            double fps = args.getDouble("fps", 10);
            if (!(fps > 0)) {
                throw new UsageException("--fps must be positive, got " + fps);
            }
            boolean realtime = args.getBoolean("realtime", false);
            int limit = args.getInt("limit", 0);
            long seq0 = args.getLong("start-seq", 0);
            long ts0 = args.getLong("start-ts", System.currentTimeMillis());
            String size = args.get("size", null);
            int quality = args.getInt("quality", 3);
            Properties user = KafkaClients.userProperties(args);
            String defaultStream = input.getFileName() == null ? "camera" : input.getFileName().toString()
                    .replaceFirst("\\.[^.]+$", "");
            String stream = args.get("stream", defaultStream);
            args.rejectUnknown();
            if (stream.isBlank()) {
                throw new UsageException("--stream must not be empty");
            }
            if (!Files.exists(input)) {
                throw new UsageException("no such file or folder: " + input);
            }
            return new Options(input, servers, topic, fps, realtime, limit, seq0, ts0, size, quality, user, stream);
        }
    }

    static int run(Args args, PrintStream out) throws Exception {
        Options o = Options.from(args);
        // a file is a video (decoded by ffmpeg), a folder holds the frames themselves
        List<Path> images = Files.isRegularFile(o.input()) ? null : images(o.input(), o.limit());
        if (images == null) {
            checkVideo(o.input(), out);
        }
        out.printf(Locale.ROOT, "producing stream '%s' to topic '%s' at %s (%s fps%s)%n", o.stream(), o.topic(),
                o.servers(), fmt(o.fps()), o.realtime() ? ", real time" : "");
        if (send(o, images, out) == 0) {
            throw new UsageException("no frames decoded from " + o.input());
        }
        return 0;
    }

    /** The .jpg/.png frames of a folder (or of its frames/ subfolder), at most {@code limit} (0: all). */
    private static List<Path> images(Path input, int limit) throws IOException {
        Path dir = Files.isDirectory(input.resolve("frames")) ? input.resolve("frames") : input;
        List<Path> files = LabelClips.listImages(dir);
        if (files.isEmpty()) {
            throw new UsageException("no .jpg/.png images in " + dir);
        }
        return limit > 0 && files.size() > limit ? files.subList(0, limit) : files;
    }

    /** A video file needs ffmpeg; an unusual extension is only worth a note (ffmpeg may still read it). */
    private static void checkVideo(Path input, PrintStream out) {
        if (!VideoFrames.looksLikeVideo(input)) {
            out.println("note: " + input.getFileName() + " does not have a usual video extension; trying ffmpeg");
        }
        if (VideoFrames.ffmpeg() == null) {
            throw new UsageException("ffmpeg not found: install it (e.g. apt-get install ffmpeg) to read video "
                    + "files, or pass a folder of JPEG/PNG frames");
        }
    }

    /**
     * Sends the frames of the video, or the images as they are (null: the input is a video), at --fps (paced when
     * --realtime); returns how many were sent.
     */
    private static long send(Options o, List<Path> images, PrintStream out) throws Exception {
        long stepMs = Math.round(1000.0 / o.fps());
        long start = System.nanoTime();
        long[] sent = {0};
        try (FrameSender sender = new FrameSender(KafkaClients.producer(o.servers(), o.user()), o.topic());
             Progress progress = new Progress(out)) {
            Progress.Counter produced = progress.counter("produced", images == null ? o.limit() : images.size());
            progress.extra(() -> String.format(Locale.ROOT, "%.1f MB", sender.bytes() / 1e6));
            progress.start();
            VideoFrames.FrameSink sink = image -> {
                long i = sent[0];
                if (o.realtime()) {
                    long due = start + Math.round(i * 1e9 / o.fps());
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                long ts = o.realtime() ? o.ts0() + (System.nanoTime() - start) / 1_000_000 : o.ts0() + i * stepMs;
                sender.send(o.stream(), o.seq0() + i, ts, image);
                sent[0]++;
                produced.set(sender.acked());
                return true;
            };
            if (images == null) {
                VideoFrames.decode(o.input(), o.fps(), o.size(), o.limit(), o.quality(), sink);
            } else {
                for (Path f : images) {
                    sink.accept(Files.readAllBytes(f));
                }
            }
            sender.flush();
            produced.total = sent[0];
            produced.set(sender.acked());
            progress.close();
            double s = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "produced %d frames of stream '%s' (seq %d..%d, %.1f MB) in %.1f s%n", sent[0],
                    o.stream(), o.seq0(), o.seq0() + sent[0] - 1, sender.bytes() / 1e6, s);
        }
        return sent[0];
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
