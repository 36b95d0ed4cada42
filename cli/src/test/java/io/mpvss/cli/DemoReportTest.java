package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.mpvss.format.LabelMapPng;
import io.mpvss.metrics.LabelClips;
import io.mpvss.model.ModelManifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's numbers from known label maps: counts, key ratio, mIoU split by key/propagated, DLQ, files. */
class DemoReportTest {

    @TempDir
    Path dir;

    @Test
    void scoresAndSummarises() throws Exception {
        int w = 8;
        int h = 4;
        // ground truth: left half class 0, right half class 1, for 4 frames
        Path clip = dir.resolve("cam");
        Files.createDirectories(clip.resolve("frames"));
        Files.createDirectories(clip.resolve("labels"));
        byte[] gt = new byte[w * h];
        for (int i = 0; i < gt.length; i++) {
            gt[i] = (byte) (i % w < 4 ? 0 : 1);
        }
        for (int f = 0; f < 4; f++) {
            BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            ImageIO.write(rgb, "jpg", clip.resolve(String.format("frames/%06d.jpg", f)).toFile());
            BufferedImage lab = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            lab.getRaster().setDataElements(0, 0, w, h, gt);
            ImageIO.write(lab, "png", clip.resolve(String.format("labels/%06d.png", f)).toFile());
        }
        Map<String, List<LabelClips.Frame>> frames = Map.of("cam", LabelClips.read(clip).frames());

        // frames 0 and 2 are key frames and perfect; 1 and 3 propagated with one column wrong (class 1 -> 0)
        List<DemoCommand.Received> received = new ArrayList<>();
        for (int f = 0; f < 4; f++) {
            byte[] pred = gt.clone();
            boolean key = f % 2 == 0;
            if (!key) {
                for (int y = 0; y < h; y++) {
                    pred[y * w + 4] = 0;
                }
            }
            received.add(new DemoCommand.Received("cam", f, 1000 + 100L * f, key, key ? f : f - 1,
                    key ? "interval" : null, 5.0 + f, 1050 + 100L * f, 1500 + 100L * f, w, h,
                    LabelMapPng.encode(pred, w, h)));
        }
        ModelManifest m = new ModelManifest("m", "1", "mpvss/1", h, w, 4, 8,
                List.of(new ModelManifest.ClassInfo(0, "road", new int[] {1, 2, 3}),
                        new ModelManifest.ClassInfo(1, "car", new int[] {4, 5, 6})), 2, 16,
                new ModelManifest.GraphInfo("segmentor.onnx", "x", 1.0),
                new ModelManifest.GraphInfo("propagator.onnx", "y", 0.1));
        DeadLetters dlq = new DeadLetters(1, Map.of("undecodable-image", 1L), List.of("x"));
        DemoReport r = DemoReport.builder(m, frames)
                .received(received, 0)
                .mode(false, 10)
                .job("exactly-once", "1s", 2)
                .timeline(900, 950, 1900)
                .deadLetters(dlq, 1)
                .build();
        r.write(dir);

        JsonNode j = new ObjectMapper().readTree(dir.resolve("summary.json").toFile());
        assertEquals(4, j.get("masks_received").asInt());
        assertEquals(0.5, j.get("key_frame_ratio").asDouble(), 1e-9);
        assertEquals(1.0, j.get("quality").get("miou_key_frames").asDouble(), 1e-9);
        // propagated: class 0 IoU 16/20, class 1 IoU 12/16
        double prop = (16.0 / 20 + 12.0 / 16) / 2;
        assertEquals(Math.round(prop * 1000) / 1000.0, j.get("quality").get("miou_propagated").asDouble(), 1e-9);
        assertEquals(500.0, j.get("latency").get("capture_to_received_ms").get("p50").asDouble(), 1e-9);
        assertEquals(1, j.get("dead_letters").get("count").asInt());
        assertEquals(4, j.get("quality").get("frames_scored").asInt());
        // masks 100 ms apart from one camera at 10 fps: the job kept up
        assertEquals(10.0, j.get("frames_per_s").asDouble(), 1e-9);
        assertTrue(j.get("kept_up_with_input").asBoolean());
        assertEquals(Map.of("road", 16L, "car", 16L), r.classPixels(received.get(0)));
        String md = Files.readString(dir.resolve("summary.md"));
        assertTrue(md.contains("| mIoU vs. clip labels |"), md);
        assertTrue(md.contains("| cam | 4 | 2 |"), md);
    }
}
