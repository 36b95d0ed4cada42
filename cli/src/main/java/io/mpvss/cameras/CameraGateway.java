package io.mpvss.cameras;

import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The camera gateway: many cameras in one process, one thread and one {@code ffmpeg} child per camera, all frames
 * through one {@link FrameOutput} (one Kafka producer). Prints an event line when a camera changes state and a status
 * block (state, fps, frames sent, reconnects, last error per camera) every status interval.
 *
 * <p>Built with {@link #builder()}; {@link #start()}, then {@link #stop()} (Ctrl-C) or {@link #awaitEnd()} (every
 * camera is a file without loop).
 */
public final class CameraGateway implements AutoCloseable {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT);

    private final List<CameraWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final FrameOutput output;
    private final PrintStream out;
    private final Duration statusInterval;
    private final ScheduledExecutorService timer;
    private final Map<String, long[]> lastSent = new HashMap<>();
    private volatile boolean stopped;

    private CameraGateway(Builder b) {
        this.output = Objects.requireNonNull(b.output, "output");
        this.out = b.out;
        this.statusInterval = b.statusInterval;
        for (CameraConfig.Camera c : b.cameras) {
            workers.add(new CameraWorker(c, b.ffmpeg, output, b.splitter, b.startSeq, this::event));
        }
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mpvss-cameras-status");
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a gateway. */
    public static final class Builder {
        private List<CameraConfig.Camera> cameras = List.of();
        private String ffmpeg = "ffmpeg";
        private FrameOutput output;
        private JpegSplitter splitter;
        private long startSeq;
        private PrintStream out = System.out;
        private Duration statusInterval = Duration.ofSeconds(5);

        public Builder cameras(List<CameraConfig.Camera> cameras) {
            this.cameras = List.copyOf(cameras);
            return this;
        }

        /** The ffmpeg binary. */
        public Builder ffmpeg(String ffmpeg) {
            this.ffmpeg = ffmpeg;
            return this;
        }

        public Builder output(FrameOutput output) {
            this.output = output;
            return this;
        }

        public Builder splitter(JpegSplitter splitter) {
            this.splitter = splitter;
            return this;
        }

        /** Seq of every camera's first frame. */
        public Builder startSeq(long startSeq) {
            this.startSeq = startSeq;
            return this;
        }

        /** Where event and status lines go. */
        public Builder out(PrintStream out) {
            this.out = out;
            return this;
        }

        /** How often the status block is printed (0 = never). */
        public Builder statusInterval(Duration statusInterval) {
            this.statusInterval = statusInterval;
            return this;
        }

        public CameraGateway build() {
            if (cameras.isEmpty()) {
                throw new IllegalArgumentException("no cameras");
            }
            Objects.requireNonNull(splitter, "splitter");
            return new CameraGateway(this);
        }
    }

    /** The ffmpeg command line the gateway runs for a camera. */
    public static List<String> ffmpegCommand(String ffmpeg, CameraConfig.Camera camera) {
        return CameraWorker.command(ffmpeg, camera);
    }

    /** The first failure that stops the gateway (sending to Kafka failed), or null. */
    public String failure() {
        for (CameraWorker w : workers) {
            if (w.failure() != null) {
                return w.camera().id() + ": " + w.failure();
            }
        }
        return null;
    }

    /** Starts every camera and the status timer. */
    public void start() {
        for (CameraWorker w : workers) {
            Thread t = new Thread(w, "camera-" + w.camera().id());
            t.setDaemon(true);
            threads.add(t);
            lastSent.put(w.camera().id(), new long[] {0, System.nanoTime()});
            t.start();
        }
        // stall checks twice a second; the status block at its own interval
        timer.scheduleAtFixedRate(() -> workers.forEach(w -> w.checkStall(System.nanoTime())), 500, 500,
                TimeUnit.MILLISECONDS);
        if (!statusInterval.isZero()) {
            timer.scheduleAtFixedRate(this::printStatus, statusInterval.toMillis(), statusInterval.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void event(String line) {
        out.println(LocalTime.now().format(CLOCK) + "  " + line);
        out.flush();
    }

    /** Every camera's status; fps over the time since the previous call. */
    public synchronized List<CameraStatus> status() {
        List<CameraStatus> r = new ArrayList<>();
        long now = System.nanoTime();
        for (CameraWorker w : workers) {
            long[] last = lastSent.computeIfAbsent(w.camera().id(), k -> new long[] {0, now});
            long sent = w.sent();
            double secs = (now - last[1]) / 1e9;
            double fps = secs > 0.05 ? (sent - last[0]) / secs : 0;
            last[0] = sent;
            last[1] = now;
            r.add(w.status(fps));
        }
        return r;
    }

    /** Prints the status block: one summary line, one line per camera. */
    public synchronized void printStatus() {
        List<CameraStatus> all = status();
        int width = all.stream().mapToInt(s -> s.id().length()).max().orElse(4);
        long streaming = all.stream().filter(s -> s.state() == CameraStatus.State.STREAMING).count();
        long sent = all.stream().mapToLong(CameraStatus::sent).sum();
        out.printf(Locale.ROOT, "%s  cameras: %d of %d streaming, %d frames sent, %d acknowledged by Kafka%n",
                LocalTime.now().format(CLOCK), streaming, all.size(), sent, output.acked());
        for (CameraStatus s : all) {
            out.println(s.line(width));
        }
        out.flush();
    }

    /** Waits until every camera has ended (files without loop) or {@link #stop()}. */
    public void awaitEnd() throws InterruptedException {
        for (Thread t : threads) {
            t.join();
        }
    }

    /** Whether every camera has ended or stopped. */
    public boolean ended() {
        return threads.stream().noneMatch(Thread::isAlive);
    }

    /** Stops every camera (ffmpeg children killed), waits for them, flushes the output. Idempotent. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        timer.shutdownNow();
        workers.forEach(CameraWorker::stop);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (CameraWorker w : workers) {
            Process p = w.process();
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
        }
        output.flush();
    }

    @Override
    public void close() {
        stop();
    }
}
