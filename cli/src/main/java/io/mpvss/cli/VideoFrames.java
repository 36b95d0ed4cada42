package io.mpvss.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Video files to JPEG frames with an {@code ffmpeg} process: {@code -f image2pipe -c:v mjpeg} on stdout, split into
 * single JPEGs here by walking the JPEG marker structure (no temp files, frames flow as they are decoded).
 */
final class VideoFrames {

    /** Receives one JPEG; returns false to stop decoding. */
    interface FrameSink {
        boolean accept(byte[] jpeg) throws Exception;
    }

    private VideoFrames() {
    }

    /** The ffmpeg binary: $MPVSS_FFMPEG or {@code ffmpeg} on PATH; null if it does not run. */
    static String ffmpeg() {
        String bin = System.getenv().getOrDefault("MPVSS_FFMPEG", "ffmpeg");
        try {
            Process p = new ProcessBuilder(bin, "-hide_banner", "-version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? bin : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Whether a file name looks like a video ffmpeg can read (by extension). */
    static boolean looksLikeVideo(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String ext : new String[] {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts",
                ".flv", ".wmv", ".mjpeg", ".mjpg", ".gif", ".h264", ".h265", ".hevc", ".y4m"}) {
            if (n.endsWith(ext)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Decodes {@code video} at {@code fps} frames per second (0 = the video's own rate), optionally scaled to
     * {@code size} ("WxH"), at most {@code limit} frames (0 = all), handing each JPEG to {@code sink}.
     *
     * @return the number of frames delivered
     * @throws UsageException if ffmpeg is missing
     * @throws IOException if ffmpeg fails (its message included)
     */
    static int decode(Path video, double fps, String size, int limit, int quality, FrameSink sink) throws Exception {
        String bin = ffmpeg();
        if (bin == null) {
            throw new UsageException("ffmpeg not found: install it (e.g. apt-get install ffmpeg) to read video files,"
                    + " or pass a folder of JPEG/PNG frames");
        }
        if (!Files.isRegularFile(video)) {
            throw new UsageException("no such video file: " + video);
        }
        List<String> cmd = new ArrayList<>(List.of(bin, "-hide_banner", "-loglevel", "error", "-nostdin", "-i",
                video.toString()));
        List<String> filters = new ArrayList<>();
        if (fps > 0) {
            filters.add("fps=" + fps);
        }
        if (size != null) {
            String[] wh = size.toLowerCase(Locale.ROOT).split("x");
            if (wh.length != 2) {
                throw new UsageException("--size expects WIDTHxHEIGHT, got '" + size + "'");
            }
            filters.add("scale=" + Integer.parseInt(wh[0].trim()) + ":" + Integer.parseInt(wh[1].trim()));
        }
        if (!filters.isEmpty()) {
            cmd.add("-vf");
            cmd.add(String.join(",", filters));
        }
        if (limit > 0) {
            cmd.add("-frames:v");
            cmd.add(String.valueOf(limit));
        }
        cmd.addAll(List.of("-f", "image2pipe", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v",
                String.valueOf(quality), "-"));
        Process p = new ProcessBuilder(cmd).start();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread errReader = new Thread(() -> {
            try {
                p.getErrorStream().transferTo(err);
            } catch (IOException ignored) {
                // the process ended
            }
        }, "ffmpeg-stderr");
        errReader.setDaemon(true);
        errReader.start();
        int n = 0;
        boolean stopped = false;
        try (InputStream in = new BufferedInputStream(p.getInputStream(), 1 << 16)) {
            byte[] jpeg;
            while ((jpeg = nextJpeg(in)) != null) {
                n++;
                if (!sink.accept(jpeg)) {
                    stopped = true;
                    break;
                }
            }
        } finally {
            if (stopped || p.isAlive()) {
                if (stopped) {
                    p.destroy();
                }
                p.waitFor(30, TimeUnit.SECONDS);
            }
            errReader.join(5000);
        }
        if (!stopped && p.exitValue() != 0) {
            String msg = err.toString(StandardCharsets.UTF_8).trim();
            throw new IOException("ffmpeg could not decode " + video + ": "
                    + (msg.isEmpty() ? "exit status " + p.exitValue() : msg.lines().reduce((a, b) -> b).orElse(msg)));
        }
        return n;
    }

    /**
     * Reads the next complete JPEG (SOI .. EOI) from a stream of concatenated JPEGs; null at a clean end.
     * Walks the marker segments by their lengths and the entropy-coded data by its byte stuffing, so table bytes
     * that happen to look like an EOI marker do not split an image.
     */
    static byte[] nextJpeg(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            return null;
        }
        int b2 = in.read();
        if (b != 0xFF || b2 != 0xD8) {
            throw new IOException("not a JPEG stream (no SOI marker)");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        out.write(0xFF);
        out.write(0xD8);
        while (true) {
            // expect a marker
            int m = readByte(in);
            if (m != 0xFF) {
                throw new IOException("corrupt JPEG stream: expected a marker, got 0x" + Integer.toHexString(m));
            }
            int code = readByte(in);
            while (code == 0xFF) { // fill bytes
                code = readByte(in);
            }
            out.write(0xFF);
            out.write(code);
            if (code == 0xD9) {
                return out.toByteArray();
            }
            if (code == 0x01 || (code >= 0xD0 && code <= 0xD7)) {
                continue;
            }
            int hi = readByte(in);
            int lo = readByte(in);
            int len = (hi << 8) | lo;
            out.write(hi);
            out.write(lo);
            byte[] seg = in.readNBytes(len - 2);
            if (seg.length != len - 2) {
                throw new EOFException("truncated JPEG segment");
            }
            out.write(seg);
            if (code == 0xDA) {
                // entropy-coded data up to the next real marker
                while (true) {
                    int c = readByte(in);
                    if (c != 0xFF) {
                        out.write(c);
                        continue;
                    }
                    int d = readByte(in);
                    while (d == 0xFF) {
                        d = readByte(in);
                    }
                    if (d == 0x00 || (d >= 0xD0 && d <= 0xD7)) {
                        out.write(0xFF);
                        out.write(d);
                        continue;
                    }
                    out.write(0xFF);
                    out.write(d);
                    if (d == 0xD9) {
                        return out.toByteArray();
                    }
                    // another marker after the scan (progressive JPEG: DHT/SOS...): read its segment
                    int h = readByte(in);
                    int l = readByte(in);
                    int n = (h << 8) | l;
                    out.write(h);
                    out.write(l);
                    byte[] s2 = in.readNBytes(n - 2);
                    if (s2.length != n - 2) {
                        throw new EOFException("truncated JPEG segment");
                    }
                    out.write(s2);
                    if (d != 0xDA) {
                        break; // back to the marker loop
                    }
                }
            }
        }
    }

    private static int readByte(InputStream in) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("JPEG stream ended inside an image");
        }
        return b;
    }
}
