package io.mpvss.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.TestBundles;
import io.mpvss.operator.OfflineReference;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StreamCursor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The engine without Flink: the caller holds a stream's state (here two local variables), as tools may. */
class MaskEngineTest {
    static final int W = 320;
    static final int H = 180;

    static ModelBundle bundle;
    static MaskEngine engine;

    @BeforeAll
    static void open() {
        bundle = ModelBundle.open(TestBundles.dir(), InferenceOptions.cpu());
        engine = MaskEngine.builder(bundle).keyInterval(5).maxSeqGap(3).maxTimeGapMs(2000)
                .maskPrecision(MaskPrecision.FP16).build();
    }

    @AfterAll
    static void close() {
        bundle.close();
    }

    static Frame frame(long seq) {
        long ts = 1_000_000L + seq * 40;
        return new Frame(FrameRecord.of("cam-e", seq, ts, TestFrames.jpeg(W, H, 3, seq)), seq, ts);
    }

    @Test
    void keyFramesEveryKAndPropagationEqualTheOfflineReference() throws Exception {
        OfflineReference reference = new OfflineReference(bundle, MaskPrecision.FP16);
        KeyFrameState key = null;
        StreamCursor cursor = null;
        for (long seq = 0; seq < 7; seq++) {
            MaskEngine.Step step = engine.process(frame(seq), key, cursor);
            boolean expectKey = seq % 5 == 0;
            assertEquals(expectKey, step.keyFrame(), "seq " + seq);
            assertEquals(expectKey, step.newKeyFrame() != null, "a propagated frame must not rewrite the key frame");
            assertEquals(expectKey ? seq : (seq / 5) * 5, step.document().getKeySeq());
            assertEquals(W, step.document().getWidth());
            assertEquals(H, step.document().getHeight());
            byte[] expected = reference.next(frame(seq).record, expectKey);
            assertArrayEquals(expected, LabelMapPng.decode(step.document().getLabelMapPng()), "seq " + seq);
            if (step.newKeyFrame() != null) {
                key = step.newKeyFrame();
            }
            cursor = step.cursor();
            assertEquals(new StreamCursor(seq, frame(seq).captureTs, (int) (seq % 5)), cursor);
        }
        assertEquals("no-state", engine.process(frame(0), null, null).document().getKeyReason());
    }

    @Test
    void badFramesAreAnsweredWithTheirErrorClassAndLeaveTheStateAlone() throws Exception {
        MaskEngine.Step first = engine.process(frame(0), null, null);
        KeyFrameState key = first.newKeyFrame();
        StreamCursor cursor = first.cursor();
        assertNotNull(key);

        InvalidFrameException dup = assertThrows(InvalidFrameException.class, () -> engine.process(frame(0), key, cursor));
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE, dup.errorClass());
        Frame garbage = new Frame(FrameRecord.of("cam-e", 1, 1_000_040L, new byte[] {1, 2, 3}), 1, 1_000_040L);
        InvalidFrameException bad = assertThrows(InvalidFrameException.class, () -> engine.process(garbage, key, cursor));
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, bad.errorClass());

        // the next good frame is propagated from the same key frame, as if the bad ones never came
        MaskEngine.Step next = engine.process(frame(1), key, cursor);
        assertNull(next.reason());
        assertNull(next.newKeyFrame());
        assertEquals(0L, next.document().getKeySeq());
        assertSame(null, next.document().getKeyReason());
    }
}
