package io.mpvss.cameras;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.mpvss.cameras.CameraStatus.State;

/**
 * One camera: an {@code ffmpeg} child process decodes the source and writes JPEG frames to a pipe; each frame that
 * the fps cap admits is sent with the next seq and the wall-clock time it arrived as its capture time. When ffmpeg
 * ends (the source dropped, refused, stalled) the worker waits with exponential backoff and starts it again; the
 * seq counter lives here, not in the connection, so it continues and is never reused.
 */
final class CameraWorker implements Runnable {

    private final CameraConfig.Camera camera;
    private final String ffmpeg;
    private final FrameOutput output;
    private final JpegSplitter splitter;
    private final Consumer<String> events;
    private final Backoff backoff;
    private final FpsCap cap;

    private final AtomicLong nextSeq;
    /** Frames admitted by the cap, waiting for the sender thread: at most about two seconds of them. */
    private final ArrayBlockingQueue<Captured> backlog;
    private final AtomicLong droppedBacklog = new AtomicLong();
    private volatile boolean readerDone;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private volatile State state = State.CONNECTING;
    private volatile int reconnects;
    private volatile String lastError;
    private volatile long lastErrorMs;
    private volatile long retryAtMs;
    private volatile long activitySinceNanos = System.nanoTime();
    private volatile boolean framesThisConnection;
    private volatile String stallReason;
    private volatile Process process;
    private volatile boolean stopping;
    private volatile String failure;
    private final Object sleepLock = new Object();

    CameraWorker(CameraConfig.Camera camera, String ffmpeg, FrameOutput output, JpegSplitter splitter, long startSeq,
                 Consumer<String> events) {
        this.camera = camera;
        this.ffmpeg = ffmpeg;
        this.output = output;
        this.splitter = splitter;
        this.events = events;
        this.nextSeq = new AtomicLong(startSeq);
        this.backoff = new Backoff(camera.reconnectInitial(), camera.reconnectMax(), camera.id().hashCode());
        this.cap = new FpsCap(camera.maxFps());
        this.backlog = new ArrayBlockingQueue<>(Math.max(2, (int) Math.ceil(camera.maxFps() * 2)));
    }

    private record Captured(long captureTs, byte[] jpeg) {
    }

    CameraConfig.Camera camera() {
        return camera;
    }

    /** The ffmpeg command line for a camera: source-specific input options, then JPEG frames on stdout. */
    static List<String> command(String ffmpeg, CameraConfig.Camera c) {
        List<String> cmd = new ArrayList<>(List.of(ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"));
        String input = c.source();
        switch (c.kind()) {
            case RTSP -> {
                cmd.addAll(List.of("-rtsp_transport", c.rtspTransport()));
                if (c.listen()) {
                    cmd.addAll(List.of("-rtsp_flags", "listen"));
                }
            }
            case V4L2 -> {
                cmd.addAll(List.of("-f", "v4l2"));
                if (input.startsWith("v4l2:")) {
                    input = input.substring(5);
                }
            }
            case FILE -> {
                // a file plays at its own frame rate, like a camera; loop: true replays it forever
                cmd.add("-re");
                if (c.loop()) {
                    cmd.addAll(List.of("-stream_loop", "-1"));
                }
            }
            case HTTP -> {
                // ffmpeg detects MJPEG-over-HTTP (multipart/x-mixed-replace) and other streams by itself
            }
        }
        cmd.addAll(c.inputOptions());
        cmd.addAll(List.of("-i", input, "-an", "-sn", "-dn"));
        // The source's timestamps are not used (a frame's capture time is when it arrives here), and a pulled RTSP
        // stream's are not fit for the JPEG encoder: RTP timestamps jitter (two frames land on the same tick of the
        // encoder's 1/fps time base) and jump back when ffmpeg syncs to the first RTCP sender report; the encoder
        // then fails ("Invalid pts (1) <= last (2)") and ffmpeg exits after one frame, again on every reconnect. So
        // every frame gets pts = its index, in milliseconds of an explicit encoder time base: always increasing.
        String filters = "settb=1/1000,setpts=N";
        if (c.size() != null) {
            String[] wh = c.size().split("x");
            filters += ",scale=" + wh[0] + ":" + wh[1];
        }
        // passthrough: never duplicate frames to fill a constant rate (the cap here only drops)
        cmd.addAll(List.of("-vf", filters, "-enc_time_base", "1/1000", "-fps_mode", "passthrough", "-f",
                "image2pipe", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", String.valueOf(c.quality()),
                "pipe:1"));
        return cmd;
    }

    @Override
    public void run() {
        Thread sender = new Thread(this::sendLoop, "camera-send-" + camera.id());
        sender.setDaemon(true);
        sender.start();
        try {
            readLoop();
        } finally {
            // the frames already captured still go out (the producer is flushed after this)
            readerDone = true;
            try {
                sender.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Sends the captured frames in order; seq is +1 per frame sent, so dropped frames leave no gap. */
    private void sendLoop() {
        while (true) {
            Captured c;
            try {
                c = backlog.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (c == null) {
                if (readerDone) {
                    return;
                }
                continue;
            }
            try {
                output.send(camera.id(), nextSeq.get(), c.captureTs(), c.jpeg());
            } catch (RuntimeException e) {
                // Kafka refused (e.g. unreachable past the producer's delivery timeout): nothing more can be
                // delivered, so the gateway stops with this error instead of dropping frames on the floor
                failure = e.getMessage();
                error("sending failed: " + e.getMessage());
                stop();
                return;
            }
            nextSeq.incrementAndGet();
            sent.incrementAndGet();
        }
    }

    private void readLoop() {
        boolean first = true;
        while (!stopping) {
            if (!first) {
                reconnects++;
            }
            first = false;
            ConnectionEnd end = connectOnce();
            if (stopping) {
                break;
            }
            if (end.cleanEnd && camera.kind() == CameraConfig.Kind.FILE && !camera.loop() && end.frames > 0) {
                state = State.ENDED;
                events.accept(camera.id() + ": end of file (" + received.get() + " frames read)");
                return;
            }
            error(end.reason);
            long delay = backoff.nextDelayMs();
            retryAtMs = System.currentTimeMillis() + delay;
            state = State.BACKOFF;
            events.accept(String.format(java.util.Locale.ROOT, "%s: %s; reconnecting in %.1f s", camera.id(),
                    end.reason, delay / 1000.0));
            sleep(delay);
        }
        state = State.STOPPED;
    }

    private record ConnectionEnd(boolean cleanEnd, long frames, String reason) {
    }

    private ConnectionEnd connectOnce() {
        state = camera.listen() ? State.LISTENING : State.CONNECTING;
        framesThisConnection = false;
        stallReason = null;
        activitySinceNanos = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(command(ffmpeg, camera)).start();
        } catch (IOException e) {
            return new ConnectionEnd(false, 0, "cannot start ffmpeg: " + e.getMessage());
        }
        process = p;
        if (stopping) {
            p.destroy();
        }
        String[] lastStderr = {null};
        Thread errReader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.isBlank()) {
                        // ffmpeg repeats the URL in its errors: keep a camera's password out of the status lines
                        lastStderr[0] = line.trim().replace(camera.source(), CameraConfig.redact(camera.source()));
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "ffmpeg-stderr-" + camera.id());
        errReader.setDaemon(true);
        errReader.start();
        long frames = 0;
        String readError = null;
        try (InputStream in = new BufferedInputStream(p.getInputStream(), 1 << 16)) {
            byte[] jpeg;
            while ((jpeg = splitter.next(in)) != null) {
                long now = System.currentTimeMillis();
                long nowNanos = System.nanoTime();
                activitySinceNanos = nowNanos;
                received.incrementAndGet();
                if (!framesThisConnection) {
                    framesThisConnection = true;
                    state = State.STREAMING;
                    backoff.reset();
                    events.accept(camera.id() + ": streaming" + (reconnects > 0 ? " again (reconnect " + reconnects
                            + ", seq continues)" : ""));
                }
                frames++;
                if (cap.admit(nowNanos)) {
                    // hand over to the sender: reading the pipe (and so the capture time) never waits for Kafka
                    Captured c = new Captured(now, jpeg);
                    while (!backlog.offer(c)) {
                        if (backlog.poll() != null) {
                            // Kafka is slower than the camera: drop the oldest frame and stay live
                            droppedBacklog.incrementAndGet();
                        }
                    }
                }
                if (stopping) {
                    break;
                }
            }
        } catch (IOException e) {
            readError = "broken frame stream: " + e.getMessage();
        } finally {
            process = null;
            if (p.isAlive()) {
                p.destroy();
            }
            try {
                if (!p.waitFor(3, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(3, TimeUnit.SECONDS);
                }
                errReader.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int exit = p.isAlive() ? -1 : p.exitValue();
        String reason;
        if (stallReason != null) {
            reason = stallReason;
        } else if (readError != null) {
            reason = readError;
        } else if (lastStderr[0] != null && exit != 0) {
            reason = "ffmpeg: " + lastStderr[0];
        } else if (exit != 0) {
            reason = "ffmpeg exited with status " + exit;
        } else {
            reason = frames > 0 ? "source ended" : "source ended without a frame"
                    + (lastStderr[0] != null ? " (ffmpeg: " + lastStderr[0] + ")" : "");
        }
        return new ConnectionEnd(exit == 0 && stallReason == null && readError == null, frames, reason);
    }

    /**
     * Called periodically: a connection that delivered no frame for the stall timeout is ended (ffmpeg killed), so a
     * camera that hangs without closing its connection is reconnected. A listening RTSP camera may wait for its
     * publisher as long as it likes before the first frame.
     */
    void checkStall(long nowNanos) {
        Process p = process;
        if (p == null || stopping || camera.listen() && !framesThisConnection) {
            return;
        }
        long idle = nowNanos - activitySinceNanos;
        if (idle > camera.stallTimeout().toNanos()) {
            stallReason = (framesThisConnection ? "no frame" : "no first frame") + " for "
                    + Math.round(idle / 1e9) + " s (stalled)";
            p.destroyForcibly();
        }
    }

    private void error(String message) {
        lastError = message;
        lastErrorMs = System.currentTimeMillis();
    }

    private void sleep(long ms) {
        long until = System.currentTimeMillis() + ms;
        synchronized (sleepLock) {
            long left;
            while (!stopping && (left = until - System.currentTimeMillis()) > 0) {
                try {
                    sleepLock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Ends the worker: kills ffmpeg (its pipe closes, the read loop ends) and wakes a backoff wait. */
    void stop() {
        stopping = true;
        Process p = process;
        if (p != null) {
            p.destroy();
        }
        synchronized (sleepLock) {
            sleepLock.notifyAll();
        }
    }

    /** The ffmpeg process, if one is running (for a last forced kill). */
    Process process() {
        return process;
    }

    CameraStatus status(double fps) {
        long now = System.currentTimeMillis();
        return new CameraStatus(camera.id(), state, fps, sent.get(), received.get(), droppedBacklog.get(),
                nextSeq.get(), reconnects,
                lastError, lastError == null ? -1 : now - lastErrorMs,
                state == State.BACKOFF ? Math.max(0, retryAtMs - now) : -1);
    }

    /** Why sending failed (the gateway must stop), or null. */
    String failure() {
        return failure;
    }

    long sent() {
        return sent.get();
    }

    State state() {
        return state;
    }
}
