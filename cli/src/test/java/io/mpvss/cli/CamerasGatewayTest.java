package io.mpvss.cli;

import static io.mpvss.cli.CameraTestSupport.assertNoFfmpegChildren;
import static io.mpvss.cli.CameraTestSupport.assertStream;
import static io.mpvss.cli.CameraTestSupport.await;
import static io.mpvss.cli.CameraTestSupport.camerasYaml;
import static io.mpvss.cli.CameraTestSupport.freePort;
import static io.mpvss.cli.CameraTestSupport.saveLog;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.mpvss.cameras.CameraConfig;
import io.mpvss.cameras.CameraGateway;
import io.mpvss.cameras.CameraStatus;
import io.mpvss.cli.CameraTestSupport.Ffmpeg;
import io.mpvss.cli.CameraTestSupport.FrameCollector;
import io.mpvss.cli.CameraTestSupport.GatewayRun;
import io.mpvss.kafka.EmbeddedKafkaExtension;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The camera gateway end to end: live sources served on 127.0.0.1 by ffmpeg itself (an MJPEG-over-HTTP server and an
 * RTSP publisher), the gateway's own ffmpeg children decoding them, frames on a real broker. Both sources are killed
 * mid-stream and started again: the gateway reconnects and seq continues without reuse.
 *
 * <p>RTSP: ffmpeg has no RTSP server for players (its {@code -rtsp_flags listen} is an input option: ffmpeg then
 * accepts a publisher's ANNOUNCE/RECORD, it cannot answer a PLAY). So the RTSP camera here is a publisher ffmpeg
 * ({@code -f rtsp}) pushing to the gateway's camera with {@code listen: true}: a real RTSP session over TCP, through
 * the same RTSP demuxer, RTP depacketizer and decoder that pull-mode cameras use. Pulling from a real RTSP server
 * (GStreamer's gst-rtsp-server), over TCP and UDP, is {@link CamerasRtspPullTest}.
 */
class CamerasGatewayTest {

    @RegisterExtension
    static final Ffmpeg ffmpeg = new Ffmpeg("camera gateway test");
    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension("frames");

    @TempDir
    static Path dir;

    /** An MJPEG-over-HTTP camera: ffmpeg serving one client at http://127.0.0.1:port/cam, 10 fps. */
    private static Process httpCamera(int port) throws IOException {
        return new ProcessBuilder(ffmpeg.path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi",
                "-i", "testsrc=size=320x240:rate=10", "-q:v", "5", "-f", "mpjpeg", "-listen", "1",
                "http://127.0.0.1:" + port + "/cam").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** An RTSP camera that pushes: ffmpeg publishing MPEG-4 video over RTSP/TCP to the gateway's listener. */
    private static Process rtspPublisher(int port) throws IOException {
        return new ProcessBuilder(ffmpeg.path(), "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi",
                "-i", "testsrc2=size=320x240:rate=10", "-pix_fmt", "yuv420p", "-c:v", "mpeg4", "-q:v", "5", "-f",
                "rtsp", "-rtsp_transport", "tcp", "rtsp://127.0.0.1:" + port + "/dock").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Starts a process. */
    interface Launcher {
        Process start() throws IOException;
    }

    /**
     * A live source as a camera behaves: ffmpeg's HTTP server serves one client and exits, and a publisher gives up
     * when the gateway is not listening yet, so the source is started again whenever it ends, until it is killed
     * (the camera dies).
     */
    static final class LiveSource {
        private final Thread keeper;
        private volatile boolean dead;
        private volatile Process current;

        LiveSource(String name, Launcher launcher) {
            keeper = new Thread(() -> {
                while (!dead) {
                    try {
                        current = launcher.start();
                        current.waitFor();
                        Thread.sleep(200);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "source-" + name);
            keeper.setDaemon(true);
            keeper.start();
        }

        void kill() throws InterruptedException {
            dead = true;
            keeper.interrupt();
            keeper.join(5000);
            Process p = current;
            if (p != null) {
                CameraTestSupport.kill(p);
            }
        }
    }

    @Test
    void httpAndRtspCamerasSurviveTheirSourceDyingAndComingBack() throws Exception {
        int httpPort = freePort();
        int rtspPort = freePort();
        CameraConfig config = camerasYaml(dir,
                "  - id: lobby-http",
                "    source: http://127.0.0.1:" + httpPort + "/cam",
                "    fps: 5            # the source runs at 10: every other frame is dropped",
                "  - id: dock-rtsp",
                "    source: rtsp://127.0.0.1:" + rtspPort + "/dock",
                "    listen: true");

        // a consumer collecting every frame record as it lands
        FrameCollector frames = new FrameCollector(kafka.bootstrapServers(), "frames", "cameras-test");

        long startSeq = 1_000;
        List<LiveSource> sources = new ArrayList<>();
        GatewayRun cameras = new GatewayRun(config, ffmpeg.path(), kafka.bootstrapServers(), startSeq);
        try (cameras) {
            CameraGateway gateway = cameras.gateway();
            try {
                LiveSource http = new LiveSource("http", () -> httpCamera(httpPort));
                sources.add(http);
                gateway.start();
                LiveSource rtsp = new LiveSource("rtsp", () -> rtspPublisher(rtspPort));
                sources.add(rtsp);
                await("8 frames of each camera", Duration.ofSeconds(60), () -> frames.count("lobby-http") >= 8
                        && frames.count("dock-rtsp") >= 8);

                // both sources die ...
                http.kill();
                rtsp.kill();
                int before = frames.count("lobby-http");
                int beforeRtsp = frames.count("dock-rtsp");
                await("both cameras to notice the drop", Duration.ofSeconds(30), () -> gateway.status().stream()
                        .allMatch(s -> s.state() != CameraStatus.State.STREAMING));
                Thread.sleep(1500); // a few failed reconnects against the closed HTTP port

                // ... and come back on the same addresses
                sources.add(new LiveSource("http-again", () -> httpCamera(httpPort)));
                sources.add(new LiveSource("rtsp-again", () -> rtspPublisher(rtspPort)));
                await("8 more frames of each camera after the restart", Duration.ofSeconds(60),
                        () -> frames.count("lobby-http") >= before + 8
                                && frames.count("dock-rtsp") >= beforeRtsp + 8);
                List<CameraStatus> status = gateway.status();
                for (CameraStatus s : status) {
                    assertTrue(s.reconnects() >= 1, s.id() + " should have reconnected: " + s);
                    assertEquals(CameraStatus.State.STREAMING, s.state(), s.toString());
                    assertNotNull(s.lastError(), s.id() + " should report why it dropped");
                }
            } finally {
                gateway.stop();
                for (LiveSource src : sources) {
                    src.kill();
                }
                // kept for people: what the gateway printed (also when the test fails)
                saveLog("cameras-gateway-test.log", cameras.log());
            }
            // the gateway's children are gone
            assertNoFfmpegChildren();
        }
        frames.close();

        String output = cameras.log();
        assertTrue(output.contains("lobby-http") && output.contains("reconnects"), output);
        assertTrue(output.contains("reconnecting in"), "an event line per drop:\n" + output);

        for (String stream : List.of("lobby-http", "dock-rtsp")) {
            // seq contiguous from startSeq, JPEGs at 320x240, the outage (sources down for > 1.5 s) a gap in ts
            assertStream(frames.records(stream), stream, startSeq, 320, 240, 1500);
        }
        // the fps cap: the HTTP camera runs at 10 fps, capped to 5: no two frames closer than half an interval
        List<ConsumerRecord<String, byte[]>> http = frames.records("lobby-http");
        for (int i = 1; i < http.size(); i++) {
            long gap = http.get(i).timestamp() - http.get(i - 1).timestamp();
            assertTrue(gap >= 100 - 2, "frames " + (i - 1) + ", " + i + " of the 5 fps camera only " + gap
                    + " ms apart");
        }
    }

    @Test
    void badConfigurationOrAMissingTopicStopsStartUpWithOneLine() throws Exception {
        Path yaml = dir.resolve("one.yaml");
        Files.writeString(yaml, "cameras:\n  - id: a\n    source: http://127.0.0.1:9/x\n", StandardCharsets.UTF_8);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Mpvss.execute(new String[] {"cameras", "--config", yaml.toString(), "--bootstrap-servers",
                kafka.bootstrapServers(), "--topic", "no-such-topic"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, rc);
        assertEquals("mpvss cameras: topic 'no-such-topic' does not exist at " + kafka.bootstrapServers()
                + " (create it: ./mpvss topics --bootstrap-servers " + kafka.bootstrapServers() + ")",
                err.toString(StandardCharsets.UTF_8).trim());

        Files.writeString(yaml, "cameras:\n  - id: a\n    source: http://127.0.0.1:9/x\n    fps: fast\n",
                StandardCharsets.UTF_8);
        err.reset();
        rc = Mpvss.execute(new String[] {"cameras", "--config", yaml.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, rc);
        assertEquals("mpvss cameras: " + yaml + " line 4: camera 'a': 'fps' must be a number, got 'fast'",
                err.toString(StandardCharsets.UTF_8).trim());
    }

}
