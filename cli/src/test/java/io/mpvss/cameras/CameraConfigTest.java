package io.mpvss.cameras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cameras.yaml: the example parses; each mistake is one line naming the line, the camera and the problem. */
class CameraConfigTest {

    @TempDir
    Path dir;

    @Test
    void theExampleFileParses() {
        CameraConfig c = CameraConfig.read(Path.of("..", "kafka-config", "cameras.example.yaml"));
        assertEquals(List.of("gate-north", "lobby", "loading-dock", "replay", "desk"),
                c.cameras().stream().map(CameraConfig.Camera::id).toList());
        CameraConfig.Camera lobby = c.cameras().get(1);
        assertEquals(CameraConfig.Kind.HTTP, lobby.kind());
        assertEquals(5, lobby.maxFps());
        assertEquals("512x256", lobby.size(), "defaults apply");
        assertEquals(Duration.ofSeconds(30), lobby.reconnectMax());
        assertTrue(c.cameras().get(2).listen());
        assertEquals(CameraConfig.Kind.FILE, c.cameras().get(3).kind());
        assertEquals(CameraConfig.Kind.V4L2, c.cameras().get(4).kind());
        List<String> cmd = CameraGateway.ffmpegCommand("ffmpeg", c.cameras().get(4));
        assertTrue(String.join(" ", cmd).contains("-f v4l2 -video_size 640x480 -framerate 30 -i /dev/video0"),
                cmd.toString());
    }

    private String error(String yaml) throws Exception {
        Path f = dir.resolve("cameras.yaml");
        Files.writeString(f, yaml, StandardCharsets.UTF_8);
        CameraConfigException e = assertThrows(CameraConfigException.class, () -> CameraConfig.read(f));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage().substring(f.toString().length());
    }

    @Test
    void mistakesNameTheLineAndTheCamera() throws Exception {
        assertEquals(" line 4: camera 'a': unknown key 'fsp' in a camera (known: id, source, fps, size, quality, "
                + "loop, listen, rtsp_transport, input_options, reconnect_initial, reconnect_max, stall_timeout)",
                error("cameras:\n  - id: a\n    source: http://h/x\n    fsp: 3\n"));
        assertEquals(" line 3: camera 'b': 'fps' must be in (0, 240], got -1",
                error("cameras:\n  - id: b\n    fps: -1\n    source: rtsp://h/x\n"));
        assertEquals(" line 5: camera 'a': id used twice (also on line 2): one stream id per camera",
                error("cameras:\n  - id: a\n    source: http://h/x\n  - source: http://h/y\n    id: a\n"));
        assertTrue(error("cameras:\n  - id: c\n    source: nothere.mp4\n")
                .startsWith(" line 3: camera 'c': no such file: "));
        assertEquals(" line 2: camera 'd': 'source' is missing (an rtsp:// or http:// URL, a video file or "
                + "/dev/videoN)", error("cameras:\n  - id: d\n"));
        assertTrue(error("cameras:\n  - id: a\n    source: [x\n").contains("not valid YAML"));
        assertEquals(": no 'cameras:' list (see kafka-config/cameras.example.yaml)",
                error("defaults:\n  fps: 5\n").replaceFirst("^ line \\d+", ""));
        assertEquals(" line 3: camera 'e': 'reconnect_max' must be a duration like 500ms, 2s or 1min, got 'soon'",
                error("cameras:\n  - id: e\n    reconnect_max: soon\n    source: http://h/x\n"));
        assertEquals(" line 3: camera 'f': 'loop' is for video files only (this source is http)",
                error("cameras:\n  - id: f\n    loop: true\n    source: http://h/x\n"));
    }

    @Test
    void passwordsAreRedacted() {
        assertEquals("rtsp://viewer:***@10.0.0.12:554/s", CameraConfig.redact("rtsp://viewer:secret@10.0.0.12:554/s"));
        assertEquals("http://10.0.0.20/mjpg", CameraConfig.redact("http://10.0.0.20/mjpg"));
    }

    @Test
    void fpsCapNeverAdmitsTwoFramesCloserThanHalfAnInterval() {
        FpsCap cap = new FpsCap(5); // 200 ms
        long t = 0;
        int admitted = 0;
        long last = Long.MIN_VALUE;
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < 1000; i++) {
            t += 100_000_000L + (rnd.nextInt(41) - 20) * 1_000_000L; // a 10 fps source with +-20 ms jitter
            if (cap.admit(t)) {
                assertTrue(last == Long.MIN_VALUE || t - last >= 100_000_000L, "frames " + (t - last) + " ns apart");
                last = t;
                admitted++;
            }
        }
        // 100 s of a 10 fps source capped at 5 fps
        assertTrue(admitted >= 480 && admitted <= 501, "admitted " + admitted);
        FpsCap same = new FpsCap(10);
        int all = 0;
        t = 0;
        for (int i = 0; i < 100; i++) {
            // a 10 fps camera clock, frames arriving +-10 ms around it (network, decoding)
            t = i * 100_000_000L + (rnd.nextInt(21) - 10) * 1_000_000L;
            all += same.admit(t) ? 1 : 0;
        }
        assertEquals(100, all, "a source at the cap with jitter is not thinned");
    }

    @Test
    void backoffDoublesUpToTheMaxAndResets() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), 1);
        long[] d = new long[6];
        for (int i = 0; i < d.length; i++) {
            d[i] = b.nextDelayMs();
        }
        long[] base = {100, 200, 400, 800, 1000, 1000};
        for (int i = 0; i < d.length; i++) {
            assertTrue(d[i] >= base[i] * 0.8 - 1 && d[i] <= Math.min(1000, base[i] * 1.2 + 1), i + ": " + d[i]);
        }
        b.reset();
        assertTrue(b.nextDelayMs() <= 121);
    }
}
