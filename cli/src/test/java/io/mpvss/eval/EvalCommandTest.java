package io.mpvss.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mpvss.cli.Args;
import io.mpvss.cli.Mpvss;
import io.mpvss.cli.RepoPaths;
import io.mpvss.model.ModelManifest;

/**
 * {@code mpvss eval} through the real pipeline (MpvssJob.build, the keyed operator, the bundled ONNX graphs on a
 * Flink MiniCluster) on a bundled demo clip: what it counts, scores and writes.
 */
class EvalCommandTest {

    private static final Path CLIPS = RepoPaths.resolve(null, "model-ops/demo-clips");
    private static final Path MODEL = RepoPaths.resolve(null, RepoPaths.BUNDLED_MODEL);

    private static Path firstClip() throws Exception {
        try (var s = Files.list(CLIPS)) {
            return s.filter(d -> Files.isDirectory(d.resolve("frames"))).sorted().findFirst().orElseThrow();
        }
    }

    @Test
    void scoresEveryFrameAtEachKeyInterval(@TempDir Path out) throws Exception {
        int frames = 20;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Mpvss.execute(new String[] {"eval", "--clips", firstClip().toString(), "--max-frames",
            String.valueOf(frames), "--intervals", "1,5", "--out", out.toString(), "--inference.threads", "1"},
                new PrintStream(log, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8) + log.toString(StandardCharsets.UTF_8));
        for (String f : List.of("eval.json", "eval.md", "tradeoff.png")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode report = new ObjectMapper().readTree(out.resolve("eval.json").toFile());
        assertEquals("1", report.path("settings").path("inference.threads").asText(), "job options reach the job");
        JsonNode k1 = report.path("results").get(0);
        JsonNode k5 = report.path("results").get(1);
        assertEquals(1, k1.path("k").asInt());
        assertEquals(5, k5.path("k").asInt());
        CostModel cost = CostModel.of(ModelManifest.read(MODEL));
        for (JsonNode r : List.of(k1, k5)) {
            int k = r.path("k").asInt();
            assertEquals(frames, r.path("frames").asLong(), "one mask per frame at K=" + k);
            assertEquals(frames, r.path("scoredFrames").asLong(), "every demo frame has a label, K=" + k);
            assertEquals(0, r.path("deadLetters").asLong());
            assertEquals(frames / k, r.path("keyFrames").asLong(), "key frames at K=" + k);
            assertEquals(cost.gflopsPerFrame(k), r.path("gflopsPerFrame").asDouble(), 1e-9);
            // the bundled model scores about 88 % on these clips; a broken decode or a class mix-up would not
            assertTrue(r.path("miou").asDouble() > 0.6, "mIoU at K=" + k + ": " + r.path("miou"));
            assertTrue(r.path("mvc8").asDouble() > 0.5, "mVC_8 at K=" + k + ": " + r.path("mvc8"));
        }
        assertTrue(k5.path("gflopsPerFrame").asDouble() < k1.path("gflopsPerFrame").asDouble());
        assertTrue(Files.readString(out.resolve("eval.md")).contains("| 5 |"));
    }

    @Test
    void aCorruptFrameIsADeadLetterNotAMask(@TempDir Path dir) throws Exception {
        Path clip = dir.resolve("cam");
        Files.createDirectories(clip.resolve("frames"));
        Files.createDirectories(clip.resolve("labels"));
        for (int i = 0; i < 6; i++) {
            String name = String.format("%06d", i);
            byte[] jpeg = Files.readAllBytes(firstClip().resolve("frames/" + name + ".jpg"));
            // frame 3: an upload cut off after 600 bytes
            Files.write(clip.resolve("frames/" + name + ".jpg"), i == 3 ? Arrays.copyOf(jpeg, 600) : jpeg);
            Files.copy(firstClip().resolve("labels/" + name + ".png"), clip.resolve("labels/" + name + ".png"));
        }
        EvalCommand.Options o = EvalCommand.Options.from(Args.parse(new String[] {"--clips", dir.toString(),
            "--intervals", "5", "--out", dir.resolve("out").toString(), "--inference.threads", "1"}));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        EvalReport report = EvalCommand.evaluate(o, new PrintStream(log, true, StandardCharsets.UTF_8));
        EvalResult r = report.results().get(0);
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, r.deadLetters(), text);
        assertEquals(5, r.frames(), "the five good frames have masks");
        assertEquals(5, r.scoredFrames());
        assertTrue(text.contains("dead letter cam undecodable-image: "), text);
    }
}
