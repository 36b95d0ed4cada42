package io.mpvss.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

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
            "  --bootstrap-servers HOSTS  Kafka (default localhost:9092)",
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
            "  --kafka-properties-file F  Kafka client properties (TLS/SASL; see kafka-config/)",
            "  --kafka.properties.K V     one Kafka client property");

    private ProduceCommand() {
    }

    static int run(Args args, PrintStream out) throws Exception {
        Path input = Path.of(args.required("input", "VIDEO|DIR"));
        String servers = args.get("bootstrap-servers", "localhost:9092");
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
        var user = KafkaClients.userProperties(args);
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

        long stepMs = Math.round(1000.0 / fps);
        boolean video = Files.isRegularFile(input);
        List<Path> files = null;
        if (!video) {
            Path dir = Files.isDirectory(input.resolve("frames")) ? input.resolve("frames") : input;
            files = LabelClips.listImages(dir);
            if (files.isEmpty()) {
                throw new UsageException("no .jpg/.png images in " + dir);
            }
            if (limit > 0 && files.size() > limit) {
                files = files.subList(0, limit);
            }
        } else if (!VideoFrames.looksLikeVideo(input)) {
            out.println("note: " + input.getFileName() + " does not have a usual video extension; trying ffmpeg");
        }
        if (video && VideoFrames.ffmpeg() == null) {
            throw new UsageException("ffmpeg not found: install it (e.g. apt-get install ffmpeg) to read video "
                    + "files, or pass a folder of JPEG/PNG frames");
        }

        out.printf(Locale.ROOT, "producing stream '%s' to topic '%s' at %s (%s fps%s)%n", stream, topic, servers,
                fmt(fps), realtime ? ", real time" : "");
        long start = System.nanoTime();
        long[] sent = {0};
        try (FrameSender sender = new FrameSender(KafkaClients.producer(servers, user), topic);
             Progress progress = new Progress(out)) {
            Progress.Counter produced = progress.counter("produced", video ? limit : files.size());
            progress.extra(() -> String.format(Locale.ROOT, "%.1f MB", sender.bytes() / 1e6));
            progress.start();
            VideoFrames.FrameSink sink = image -> {
                long i = sent[0];
                if (realtime) {
                    long due = start + Math.round(i * 1e9 / fps);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                long ts = realtime ? ts0 + (System.nanoTime() - start) / 1_000_000 : ts0 + i * stepMs;
                sender.send(stream, seq0 + i, ts, image);
                sent[0]++;
                produced.set(sender.acked());
                return true;
            };
            if (video) {
                VideoFrames.decode(input, fps, size, limit, quality, sink);
            } else {
                for (Path f : files) {
                    sink.accept(Files.readAllBytes(f));
                }
            }
            sender.flush();
            produced.total = sent[0];
            produced.set(sender.acked());
            progress.close();
            double s = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "produced %d frames of stream '%s' (seq %d..%d, %.1f MB) in %.1f s%n", sent[0],
                    stream, seq0, seq0 + sent[0] - 1, sender.bytes() / 1e6, s);
        }
        if (sent[0] == 0) {
            throw new UsageException("no frames decoded from " + input);
        }
        return 0;
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
