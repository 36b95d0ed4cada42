package io.mpvss.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.model.TestBundles;
import io.mpvss.state.MaskPrecision;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link MaskEngine#processBatch} against the same frames one by one, on the real bundle. */
class MaskEngineBatchTest {
    static final int W = 256;
    static final int H = 128;

    static ModelBundle bundle;

    @BeforeAll
    static void open() {
        bundle = ModelBundle.open(TestBundles.dir(), InferenceOptions.cpu());
    }

    @AfterAll
    static void close() {
        bundle.close();
    }

    /** A stream's state in a map, as a tool would hold it; counts reads and writes per stream. */
    static final class MapStates implements MaskEngine.States {
        final Map<String, MaskEngine.StreamState> states = new HashMap<>();
        final List<String> log = new ArrayList<>();

        @Override
        public MaskEngine.StreamState read(String stream) {
            log.add("read " + stream);
            return states.getOrDefault(stream, MaskEngine.StreamState.NONE);
        }

        @Override
        public void write(String stream, MaskEngine.Step step) {
            log.add("write " + stream);
            MaskEngine.StreamState old = states.getOrDefault(stream, MaskEngine.StreamState.NONE);
            states.put(stream, new MaskEngine.StreamState(
                    step.newKeyFrame() != null ? step.newKeyFrame() : old.key(), step.cursor(), step.keyInterval()));
        }
    }

    static Frame frame(String stream, long seq) {
        long ts = 1_000_000L + seq * 40;
        return new Frame(FrameRecord.of(stream, seq, ts, TestFrames.jpeg(W, H, stream.hashCode() & 7, seq)), seq, ts);
    }

    static MaskEngine engine() {
        return MaskEngine.builder(bundle).keyInterval(3).maxSeqGap(3).maxTimeGapMs(2000)
                .maskPrecision(MaskPrecision.FP16).build();
    }

    /**
     * Three streams interleaved unevenly (so a batch holds two or three frames of one stream), a duplicate and an
     * undecodable frame among them; the batched engine must give each frame what the one-by-one engine gives it:
     * the same key decisions, key seqs, dead letters, and label maps.
     */
    @Test
    void batchesGiveWhatFramesOneByOneGive() throws Exception {
        List<Frame> in = new ArrayList<>();
        long[] next = new long[3];
        String[] streams = {"cam-a", "cam-b", "cam-c"};
        int[] pattern = {0, 1, 0, 0, 2, 1, 0, 2, 2, 2, 1, 0, 1, 1, 0, 2, 0, 1, 2, 0, 0, 1, 2, 1};
        for (int i = 0; i < pattern.length; i++) {
            int s = pattern[i];
            in.add(frame(streams[s], next[s]++));
            if (i == 6) {
                in.add(frame("cam-a", 1)); // a duplicate of an earlier frame
            }
            if (i == 12) {
                long seq = next[1]++;
                in.add(new Frame(FrameRecord.of("cam-b", seq, 1_000_000L + seq * 40, new byte[] {1, 2, 3}), seq,
                        1_000_000L + seq * 40));
            }
        }
        MaskEngine engine = engine();
        MapStates one = new MapStates();
        List<MaskEngine.Outcome> sequential = new ArrayList<>();
        for (Frame f : in) {
            sequential.addAll(engine.processBatch(List.of(f), one));
        }
        for (int batch : new int[] {4, 7}) {
            MapStates many = new MapStates();
            List<MaskEngine.Outcome> batched = new ArrayList<>();
            for (int i = 0; i < in.size(); i += batch) {
                batched.addAll(engine.processBatch(in.subList(i, Math.min(in.size(), i + batch)), many));
            }
            assertEquals(in.size(), batched.size());
            int keys = 0;
            int differing = 0;
            int pixels = 0;
            for (int i = 0; i < in.size(); i++) {
                MaskEngine.Outcome a = sequential.get(i);
                MaskEngine.Outcome b = batched.get(i);
                assertEquals(in.get(i), b.frame(), "outcomes come in input order");
                if (a.error() != null) {
                    assertNotNull(b.error(), "frame " + i);
                    assertEquals(a.error().errorClass(), b.error().errorClass());
                    continue;
                }
                assertNull(b.error(), "frame " + i);
                MaskDocument da = a.step().document();
                MaskDocument db = b.step().document();
                assertEquals(da.isKeyFrame(), db.isKeyFrame(), "frame " + i);
                assertEquals(da.getKeySeq(), db.getKeySeq(), "frame " + i);
                assertEquals(da.getKeyReason(), db.getKeyReason(), "frame " + i);
                byte[] la = LabelMapPng.decode(da.getLabelMapPng());
                byte[] lb = LabelMapPng.decode(db.getLabelMapPng());
                for (int p = 0; p < la.length; p++) {
                    if (la[p] != lb[p]) {
                        differing++;
                    }
                }
                pixels += la.length;
                keys += da.isKeyFrame() ? 1 : 0;
            }
            System.out.printf("batch %d: %d of %d label pixels differ from batch 1%n", batch, differing, pixels);
            assertEquals(0, differing, "batch " + batch + ": label pixels differing from batch 1");
            assertTrue(keys >= 6, "key frames seen: " + keys);
            assertEquals(one.states.keySet(), many.states.keySet());
            for (String s : streams) {
                assertEquals(one.states.get(s).cursor(), many.states.get(s).cursor(), s);
                assertArrayEquals(one.states.get(s).key().maskLogits(), many.states.get(s).key().maskLogits(), s);
                assertArrayEquals(one.states.get(s).key().queries(), many.states.get(s).key().queries(), s);
            }
        }
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE, sequential.get(7).error().errorClass());
    }

    /** Each frame's state is read right before and written right after its round, in the stream's order. */
    @Test
    void aStreamsSecondFrameInABatchReadsWhatItsFirstWrote() throws Exception {
        MapStates st = new MapStates();
        List<MaskEngine.Outcome> out = engine().processBatch(
                List.of(frame("cam-a", 0), frame("cam-b", 0), frame("cam-a", 1), frame("cam-a", 2)), st);
        assertEquals(List.of("read cam-a", "read cam-b", "write cam-a", "write cam-b",
                "read cam-a", "write cam-a", "read cam-a", "write cam-a"), st.log);
        assertTrue(out.get(0).step().keyFrame());
        assertNull(out.get(2).step().reason(), "propagated from the key frame the same batch took");
        assertEquals(0L, out.get(3).step().document().getKeySeq());
    }

    /** Invalid frames come back as outcomes with their error class, the good ones around them are processed. */
    @Test
    void aBadFrameInABatchIsAnOutcomeNotAFailure() throws Exception {
        Frame garbage = new Frame(FrameRecord.of("cam-x", 0, 1L, new byte[] {9, 9}), 0, 1L);
        List<MaskEngine.Outcome> out = engine().processBatch(List.of(frame("cam-a", 0), garbage, frame("cam-b", 0)),
                new MapStates());
        InvalidFrameException e = out.get(1).error();
        assertNotNull(e);
        assertEquals(WireFormat.ERR_UNDECODABLE_IMAGE, e.errorClass());
        assertNotNull(out.get(0).step());
        assertNotNull(out.get(2).step());
    }

    /**
     * One frame that fails a batched graph call (its stream's key frame holds mask logits of the wrong size, as a
     * state written by a bundle with the same name@version but other sizes would) is an inference-failed outcome;
     * the call is run again frame by frame, so the other streams' frames in that call get what they get alone.
     */
    @Test
    void aFrameThatFailsABatchedCallIsTheOnlyDeadLetter() throws Exception {
        MaskEngine engine = engine();
        MapStates batched = new MapStates();
        engine.processBatch(List.of(frame("cam-a", 0), frame("cam-b", 0), frame("cam-c", 0)), batched);
        MaskEngine.StreamState b = batched.states.get("cam-b");
        KeyFrameState k = b.key();
        float[] masks = k.maskLogits();
        KeyFrameState broken = KeyFrameState.of(k.modelId(), k.keySeq(), k.keyTs(), k.frameWidth(), k.frameHeight(),
                k.image(), new SegmentorOutput(k.queries(), k.classLogits(),
                        java.util.Arrays.copyOf(masks, masks.length / 2), null), k.maskPrecision());
        batched.states.put("cam-b", new MaskEngine.StreamState(broken, b.cursor(), b.keyInterval()));

        List<MaskEngine.Outcome> out = engine.processBatch(
                List.of(frame("cam-a", 1), frame("cam-b", 1), frame("cam-c", 1)), batched);
        assertEquals(WireFormat.ERR_INFERENCE_FAILED, out.get(1).error().errorClass());
        assertEquals(b.cursor(), batched.states.get("cam-b").cursor(), "the failed stream's state stays");
        for (int i : new int[] {0, 2}) {
            MaskEngine.Step step = out.get(i).step();
            assertNotNull(step, "frame " + i + " of the call");
            assertNull(step.reason(), "propagated");
            String stream = i == 0 ? "cam-a" : "cam-c";
            MapStates alone = new MapStates();
            engine.processBatch(List.of(frame(stream, 0)), alone);
            MaskEngine.Step one = engine.processBatch(List.of(frame(stream, 1)), alone).get(0).step();
            assertArrayEquals(one.document().getLabelMapPng(), step.document().getLabelMapPng(), stream);
        }
    }

    /**
     * A mask document over masks.max-bytes is a mask-too-large outcome, not a document the sink would refuse; the
     * stream's state moves on (the frame was processed), so a redelivery of it is a duplicate and the next frame
     * propagates from it. The frame next to it in the batch is unaffected.
     */
    @Test
    void aMaskTooLargeForTheMasksTopicIsAnOutcomeAndTheStateMovesOn() throws Exception {
        MapStates st = new MapStates();
        MaskEngine.Step fits = engine().processBatch(List.of(frame("cam-a", 0)), st).get(0).step();
        int size = fits.document().toJson().length;
        // a limit between the two frames' documents: cam-b's frame is 4x the pixels of cam-a's
        Frame big = new Frame(FrameRecord.of("cam-b", 0, 1_000_000L, TestFrames.jpeg(4 * W, 4 * H, 5, 0)), 0,
                1_000_000L);
        MaskEngine limited = MaskEngine.builder(bundle).keyInterval(3).maskPrecision(MaskPrecision.FP16)
                .maxMaskDocumentBytes(size + 100).build();
        List<MaskEngine.Outcome> out = limited.processBatch(List.of(frame("cam-a", 1), big), st);
        assertNotNull(out.get(0).step(), "a document under the limit is emitted");
        InvalidFrameException e = out.get(1).error();
        assertNotNull(e, "over the limit");
        assertEquals(WireFormat.ERR_MASK_TOO_LARGE, e.errorClass());
        assertTrue(e.getMessage().contains("masks.max-bytes"), e.getMessage());
        assertEquals(0L, st.states.get("cam-b").cursor().lastSeq(), "the state moved on");
        assertNotNull(st.states.get("cam-b").key(), "the key frame is kept");
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE, limited.processBatch(List.of(big), st).get(0).error()
                .errorClass());
    }

    /**
     * Shedding: once a stream lags by more than overload.shed-lag, its frames are answered with its last mask (not
     * decoded, not inferred: "shed": true, the key seq of that mask), the cursor moves on (a redelivery is a
     * duplicate), a frame of another size is inferred, and so is every frame as soon as the lag is back under.
     */
    @Test
    void framesLaggingPastTheShedLagRepeatTheLastMask() throws Exception {
        long[] now = {1_000_000L};
        MaskEngine engine = MaskEngine.builder(bundle).keyInterval(3).maskPrecision(MaskPrecision.FP16)
                .shedLagMs(500).clock(() -> now[0]).build();
        MapStates st = new MapStates();
        MaskEngine.Step first = engine.processBatch(List.of(frame("cam-a", 0)), st).get(0).step();
        assertNull(first.document().getShed(), "not shed: absent from the JSON");
        assertTrue(!new String(first.document().toJson()).contains("shed"));

        now[0] = frame("cam-a", 1).captureTs + 2_000; // 2 s late
        MaskEngine.Step shed = engine.processBatch(List.of(frame("cam-a", 1)), st).get(0).step();
        assertTrue(shed.shed());
        assertTrue(new String(shed.document().toJson()).contains("\"shed\":true"));
        assertEquals(1L, shed.document().getSeq());
        assertEquals(0L, shed.document().getKeySeq());
        assertTrue(!shed.keyFrame() && shed.newKeyFrame() == null);
        assertArrayEquals(first.document().getLabelMapPng(), shed.document().getLabelMapPng());
        assertEquals(1L, st.states.get("cam-a").cursor().lastSeq(), "the cursor moved on");
        assertEquals(WireFormat.ERR_STALE_OR_DUPLICATE,
                engine.processBatch(List.of(frame("cam-a", 1)), st).get(0).error().errorClass());

        // another size: inferred, not repeated at the wrong size
        Frame bigger = new Frame(FrameRecord.of("cam-a", 2, frame("cam-a", 2).captureTs,
                TestFrames.jpeg(2 * W, 2 * H, 1, 2)), 2, frame("cam-a", 2).captureTs);
        MaskEngine.Step resized = engine.processBatch(List.of(bigger), st).get(0).step();
        assertNull(resized.document().getShed());
        assertEquals(2 * W, resized.document().getWidth());

        // back under the lag: inferred again
        now[0] = frame("cam-a", 3).captureTs + 100;
        assertNull(engine.processBatch(List.of(frame("cam-a", 3)), st).get(0).step().document().getShed());
        // a stream never seen has nothing to repeat, however late
        now[0] = frame("cam-z", 0).captureTs + 60_000;
        assertNull(engine.processBatch(List.of(frame("cam-z", 0)), st).get(0).step().document().getShed());
    }

    /**
     * With key.stagger, streams that start together take their interval key frames on different seqs; the key
     * interval between them stays K.
     */
    @Test
    void staggeredStreamsSpreadTheirKeyFrames() throws Exception {
        MaskEngine engine = MaskEngine.builder(bundle).keyInterval(3).stagger(true).build();
        MapStates st = new MapStates();
        String[] streams = {"cam-0", "cam-1", "cam-2"};
        java.util.Map<String, List<Long>> keys = new java.util.TreeMap<>();
        for (long seq = 0; seq < 7; seq++) {
            List<Frame> round = new ArrayList<>();
            for (String s : streams) {
                round.add(frame(s, seq));
            }
            for (MaskEngine.Outcome o : engine.processBatch(round, st)) {
                if (o.step().keyFrame()) {
                    keys.computeIfAbsent(o.frame().stream(), x -> new ArrayList<>()).add(o.frame().seq);
                }
            }
        }
        // phase = hashCode mod 3: "cam-0".."cam-2" hash to consecutive values, so each stream has its own phase
        java.util.Set<Long> second = new java.util.HashSet<>();
        for (String s : streams) {
            List<Long> k = keys.get(s);
            assertEquals(0L, k.get(0), s + " starts with a key frame");
            long p = engine.overload().phase(s, 3);
            assertEquals(3 - p, k.get(1), s + ": first interval shortened by its phase " + p);
            assertEquals(3L, k.get(2) - k.get(1), s);
            second.add(k.get(1));
        }
        assertEquals(3, second.size(), "the streams' key frames fall on different seqs: " + keys);
    }
}
