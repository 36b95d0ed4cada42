package io.mpvss.operator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.TestBundles;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * docs/formats.md and the code agree on two rules: a cut-off JPEG or PNG (which ImageIO would decode partially,
 * filling the rest grey) is an {@code undecodable-image} dead letter, not a mask; a negative {@code mpvss.ts} is a
 * {@code bad-header} dead letter. Through Flink's operator harness: the validator before keyBy and the keyed
 * operator (which decodes) with the real test bundle.
 */
class TruncatedAndBadHeaderFramesTest {

    static final int W = 192;
    static final int H = 112;

    @Test
    void negativeCaptureTimeIsABadHeaderBeforeKeyBy() throws Exception {
        try (var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new FrameValidator(1 << 20)))) {
            h.open();
            h.processElement(FrameRecord.of("cam", 0, -5, TestFrames.jpeg(W, H, 0, 0)), 0);
            h.processElement(FrameRecord.of("cam", 1, 0, TestFrames.jpeg(W, H, 0, 1)), 0);
            assertEquals(1, h.extractOutputValues().size(), "ts = 0 is fine");
            List<FrameRecord> dead = h.getSideOutput(MaskPropagation.DEAD_LETTERS).stream()
                    .map(StreamRecord::getValue).collect(Collectors.toList());
            assertEquals(1, dead.size());
            assertEquals(WireFormat.ERR_BAD_HEADER, dead.get(0).headerString(WireFormat.DLQ_ERROR_CLASS));
            assertTrue(dead.get(0).headerString(WireFormat.DLQ_ERROR_MESSAGE).contains("mpvss.ts"));
        }
    }

    @Test
    void aJpegCutToAThirdIsADeadLetterNotAMask() throws Exception {
        byte[] jpeg = TestFrames.encode(TestFrames.noise(W, H, 1), "jpg");
        byte[] png = TestFrames.png(W, H, 1, 2);
        try (var h = MaskPropagationHarnessTest.harness(MaskPropagationHarnessTest.settings().build())) {
            h.open();
            MaskPropagationHarnessTest.run(h, List.of(
                    FrameRecord.of("cam", 0, 1000, Arrays.copyOf(jpeg, jpeg.length / 3)),
                    FrameRecord.of("cam", 1, 1040, Arrays.copyOf(png, png.length - 12)),
                    FrameRecord.of("cam", 2, 1080, jpeg)));
            assertEquals(1, h.extractOutputValues().size(), "only the whole frame gets a mask");
            assertEquals(2, h.extractOutputValues().get(0).getSeq());
            List<FrameRecord> dead = MaskPropagationHarnessTest.deadLetters(h);
            assertEquals(2, dead.size());
            for (FrameRecord d : dead) {
                assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, d.headerString(WireFormat.DLQ_ERROR_CLASS));
                assertTrue(d.headerString(WireFormat.DLQ_ERROR_MESSAGE).contains("truncated"),
                        d.headerString(WireFormat.DLQ_ERROR_MESSAGE));
            }
        }
        assertTrue(TestBundles.dir().toFile().isDirectory());
    }
}
