package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.kafka.EmbeddedKafkaExtension;
import io.mpvss.render.Palette;
import io.mpvss.view.LiveView;
import io.mpvss.view.StreamBoard;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpvss view} in a real headless browser (Debian's chromium): mask documents of two streams (label maps of the
 * demo clips, written as the job writes them: transactions, read_committed) keep arriving while the page is open; a
 * third stream starts after the page was first loaded. The dumped DOM must show a tile per stream with a loaded
 * picture, a KEY / PROPAGATED badge, the legend and the dead-letter count; the screenshot is kept as
 * target/view-screenshot.png.
 */
class LiveViewBrowserTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    @RegisterExtension
    static final EmbeddedKafkaExtension kafka = new EmbeddedKafkaExtension();
    private static String chromium;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        chromium = findChromium();
        assumeTrue(chromium != null, "chromium not installed (scripts/test.sh installs it): live view browser test "
                + "skipped");
        Map<String, Integer> topics = new LinkedHashMap<>();
        topics.put("masks", 2);
        topics.put("frames-dlq", 1);
        kafka.createTopics(topics);
    }

    static String findChromium() {
        for (String c : List.of("chromium", "chromium-browser", "google-chrome")) {
            try {
                Process p = new ProcessBuilder("sh", "-c", "command -v " + c).redirectErrorStream(true).start();
                String path = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (p.waitFor() == 0 && !path.isEmpty()) {
                    return path;
                }
            } catch (IOException | InterruptedException e) {
                return null;
            }
        }
        return null;
    }

    /** Real label maps: the demo clips' label PNGs, as the documents of a stream. */
    record Clip(String stream, List<LabelMapPng.Image> labels) {
    }

    static Clip clip(String stream, String name) throws IOException {
        Path folder = RepoPaths.resolve(null, "model-ops/demo-clips").resolve(name).resolve("labels");
        List<LabelMapPng.Image> l = new ArrayList<>();
        try (var files = Files.list(folder)) {
            for (Path p : files.sorted().limit(20).toList()) {
                l.add(LabelMapPng.read(Files.readAllBytes(p)));
            }
        }
        return new Clip(stream, l);
    }

    static MaskDocument document(Clip clip, long seq, Palette palette) {
        LabelMapPng.Image img = clip.labels().get((int) (seq % clip.labels().size()));
        long[] counts = new long[palette.size()];
        for (byte b : img.labels()) {
            int id = b & 0xFF;
            if (id < counts.length) {
                counts[id]++;
            }
        }
        Map<String, Long> pixels = new LinkedHashMap<>();
        for (int i = 0; i < counts.length; i++) {
            pixels.put(palette.name(i), counts[i]);
        }
        MaskDocument d = new MaskDocument();
        d.setSchema(MaskDocument.SCHEMA);
        d.setStream(clip.stream());
        d.setSeq(seq);
        long now = System.currentTimeMillis();
        d.setCaptureTs(now - 150);
        boolean key = seq % 5 == 0;
        d.setKeyFrame(key);
        d.setKeySeq(seq - seq % 5);
        d.setKeyReason(key ? (seq == 0 ? "no-state" : "interval") : null);
        d.setModel("mpvss-synth@1.1.0");
        d.setWidth(img.width());
        d.setHeight(img.height());
        d.setLabelMapPng(LabelMapPng.encode(img.labels(), img.width(), img.height()));
        d.classPixels(pixels);
        d.setProcessingMs(key ? 30.0 : 8.0);
        d.setEmittedTs(now);
        return d;
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] outBytes = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium did not finish");
        return new String(outBytes, StandardCharsets.UTF_8);
    }

    private static List<String> chromiumArgs(Path profile, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + profile, "--window-size=1280,800", "--virtual-time-budget=5000",
                "--hide-scrollbars"));
        cmd.addAll(List.of(extra));
        return cmd;
    }

    @Test
    void pageShowsEveryStreamLiveWithBadgesLegendAndDeadLetters() throws Exception {
        Palette palette = Palette.fromManifest(RepoPaths.resolve(null, RepoPaths.BUNDLED_MODEL));
        List<Clip> clips = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(clip("cam-east", "test-300097"),
                clip("cam-west", "test-300098")));
        Clip late = clip("cam-north", "test-300099");

        Properties txn = new Properties();
        txn.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "view-test");
        AtomicLong nextSeq = new AtomicLong();
        AtomicBoolean stopWriting = new AtomicBoolean();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.producer(
                kafka.bootstrapServers(), txn))) {
            producer.initTransactions();
            // a dead letter, as the job writes it
            producer.beginTransaction();
            ProducerRecord<String, byte[]> dead = new ProducerRecord<>("frames-dlq", "cam-east", new byte[] {1, 2, 3});
            dead.headers().add(WireFormat.DLQ_ERROR_CLASS, "undecodable-image".getBytes(StandardCharsets.UTF_8));
            dead.headers().add(WireFormat.DLQ_ERROR_MESSAGE, "not a JPEG".getBytes(StandardCharsets.UTF_8));
            producer.send(dead);
            for (int s = 0; s < 3; s++) {
                for (Clip c : clips) {
                    producer.send(new ProducerRecord<>("masks", c.stream(), document(c, s, palette).toJson()));
                }
            }
            producer.commitTransaction();
            nextSeq.set(3);
            // an aborted transaction: read_committed must never show it
            producer.beginTransaction();
            MaskDocument aborted = document(clips.get(0), 999_999, palette);
            producer.send(new ProducerRecord<>("masks", "cam-east", aborted.toJson()));
            producer.flush();
            producer.abortTransaction();

            ByteArrayOutputStreamPrinter log = new ByteArrayOutputStreamPrinter();
            try (LiveView view = LiveView.builder()
                    .board(new StreamBoard(palette))
                    .consumerProperties(ViewCommand.consumerProperties(kafka.bootstrapServers(), new Properties()))
                    .port(0)
                    .out(log.stream())
                    .build()) {
                view.start();
                // the cameras keep going at ~5 fps while the browser looks
                Thread writer = new Thread(() -> {
                    try {
                        while (!stopWriting.get()) {
                            long seq = nextSeq.get();
                            producer.beginTransaction();
                            for (Clip c : clips) {
                                producer.send(new ProducerRecord<>("masks", c.stream(),
                                        document(c, seq, palette).toJson()));
                            }
                            producer.commitTransaction();
                            nextSeq.incrementAndGet();
                            Thread.sleep(200);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                writer.start();
                HttpClient http = HttpClient.newHttpClient();
                URI base = view.uri();
                JsonNode board = awaitStreams(http, base, 2);
                assertEquals(1, board.path("dead_letters").path("total").asLong());

                // the picture: the label map in the manifest's colours, at the frame's size
                HttpResponse<byte[]> png = http.send(HttpRequest.newBuilder(base.resolve("/frame.png?stream=cam-east"))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
                assertEquals(200, png.statusCode());
                assertEquals("image/png", png.headers().firstValue("Content-Type").orElse(""));
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(png.body()));
                assertEquals(512, img.getWidth());
                assertEquals(256, img.getHeight());
                assertColoursMatchPalette(img, palette);
                assertEquals(404, http.send(HttpRequest.newBuilder(base.resolve("/frame.png?stream=nope")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode());

                // a stream that starts while the page is open
                clips.add(late);
                long seqBeforeBrowser = nextSeq.get();
                Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
                String dom = run(chromiumArgs(profile, "--dump-dom", base.toString()));
                Files.createDirectories(Path.of("target"));
                Files.writeString(Path.of("target", "view-dom.html"), dom, StandardCharsets.UTF_8);

                for (String stream : List.of("cam-east", "cam-west", "cam-north")) {
                    String tile = tile(dom, stream);
                    assertTrue(tile.matches("(?s).*<img [^>]*class=\"frame\"[^>]*>.*"), stream + ": no picture");
                    Matcher loaded = Pattern.compile("<img [^>]*data-seq=\"(\\d+)\"[^>]*data-loaded=\"true\"")
                            .matcher(tile);
                    assertTrue(loaded.find(), stream + ": picture not loaded in the browser: " + tile);
                    if (!stream.equals("cam-north")) {
                        assertTrue(Long.parseLong(loaded.group(1)) >= seqBeforeBrowser, stream + ": the page shows seq "
                                + loaded.group(1) + ", older than what was written before it was opened ("
                                + seqBeforeBrowser + ")");
                    }
                    assertTrue(tile.matches("(?s).*<span class=\"badge (key|propagated)\">(KEY FRAME|PROPAGATED "
                            + "\u2190 key #)\\d*.*"), stream + ": no KEY/PROPAGATED badge: " + tile);
                    for (String cls : palette.names()) {
                        assertTrue(tile.contains("data-class=\"" + cls + "\""), stream + ": legend lacks " + cls);
                    }
                    assertTrue(tile.matches("(?s).*<b>\\d+\\.\\d</b> fps.*lag <b>\\d+</b> ms.*"),
                            stream + ": no fps / lag: " + tile);
                }
                assertTrue(dom.contains("<b id=\"dlq-count\">1</b>"), "dead-letter count not shown");
                assertTrue(!dom.contains("999999"), "an aborted document was shown");

                Path shot = Path.of("target", "view-screenshot.png").toAbsolutePath();
                Files.deleteIfExists(shot);
                run(chromiumArgs(profile, "--screenshot=" + shot, base.toString()));
                BufferedImage screenshot = ImageIO.read(shot.toFile());
                assertNotNull(screenshot, "no screenshot written");
                assertEquals(1280, screenshot.getWidth());
                assertTrue(countColour(screenshot, palette.rgb(palette.idOf("road"))) > 10_000,
                        "the screenshot shows no label map");
                stopWriting.set(true);
                writer.join(5000);
                assertTrue(log.text().contains("new stream: cam-north"), log.text());
            } finally {
                stopWriting.set(true);
            }
        }
    }

    /** The HTML of one stream's tile in the dumped DOM. */
    private static String tile(String dom, String stream) {
        int at = dom.indexOf("data-stream=\"" + stream + "\"");
        assertTrue(at >= 0, "no tile for " + stream + " in the page");
        int end = dom.indexOf("</section>", at);
        return dom.substring(at, end);
    }

    private static JsonNode awaitStreams(HttpClient http, URI base, int n) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            JsonNode board = JSON.readTree(http.send(HttpRequest.newBuilder(base.resolve("/api/streams")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            if (board.path("streams").size() >= n && board.path("dead_letters").path("total").asLong() > 0) {
                return board;
            }
            if (System.nanoTime() - end > 0) {
                throw new AssertionError("the view did not show " + n + " streams: " + board);
            }
            Thread.sleep(100);
        }
    }

    /** Every pixel whose 3x3 neighbourhood is one colour is a palette colour (boundaries are traced darker). */
    private static void assertColoursMatchPalette(BufferedImage img, Palette palette) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int i = 0; i < palette.size(); i++) {
            colours.add(palette.rgb(i));
        }
        int checked = 0;
        for (int y = 1; y < img.getHeight() - 1; y += 3) {
            for (int x = 1; x < img.getWidth() - 1; x += 3) {
                int c = img.getRGB(x, y) & 0xFFFFFF;
                boolean flat = true;
                for (int dy = -1; dy <= 1 && flat; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        flat &= (img.getRGB(x + dx, y + dy) & 0xFFFFFF) == c;
                    }
                }
                if (flat) {
                    assertTrue(colours.contains(c), String.format("pixel %d,%d is #%06x, not a class colour", x, y,
                            c));
                    checked++;
                }
            }
        }
        assertTrue(checked > 1000, "too few flat pixels checked: " + checked);
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }

    /** A PrintStream whose text the test can read. */
    private static final class ByteArrayOutputStreamPrinter {
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        PrintStream stream() {
            return stream;
        }

        synchronized String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
