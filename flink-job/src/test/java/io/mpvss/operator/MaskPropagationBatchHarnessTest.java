package io.mpvss.operator;

import io.mpvss.config.JobOptions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The operator's cross-stream batches ({@code inference.batch.max} > 1) and its overload rule, in Flink's operator
 * test harness on the real bundle, with the harness's processing-time clock.
 */
class MaskPropagationBatchHarnessTest {
    static final int W = 192;
    static final int H = 112;

    static MaskPropagationSettings.Builder settings() {
        // the one-by-one tests' settings, with a shorter interval so that batches mix key and propagated frames
        return MaskPropagationHarnessTest.settings().set(JobOptions.KEY_INTERVAL, 3);
    }

    static KeyedOneInputStreamOperatorTestHarness<String, Frame, MaskDocument> harness(MaskPropagationSettings s)
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new MaskPropagation(s), Frame::stream, Types.STRING);
    }

    static Frame frame(String stream, long seq, long ts) {
        return new Frame(FrameRecord.of(stream, seq, ts, TestFrames.jpeg(W, H, stream.hashCode() & 7, seq)), seq, ts);
    }

    static Frame frame(String stream, long seq) {
        return frame(stream, seq, 1_000_000L + seq * 40);
    }

    static MaskPropagation operator(KeyedOneInputStreamOperatorTestHarness<String, Frame, MaskDocument> h) {
        return (MaskPropagation) h.getOperator();
    }

    static List<String> deadLetters(KeyedOneInputStreamOperatorTestHarness<String, Frame, MaskDocument> h) {
        var q = h.getSideOutput(MaskPropagation.DEAD_LETTERS);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue)
                .map(r -> r.key + " " + r.headerString(WireFormat.DLQ_ERROR_CLASS)).collect(Collectors.toList());
    }

    /** Three streams interleaved unevenly, with a duplicate: what must come out, in stream order. */
    static List<Frame> interleaved() {
        List<Frame> in = new ArrayList<>();
        String[] streams = {"cam-e", "cam-f", "cam-g"};
        long[] next = new long[3];
        int[] pattern = {0, 0, 1, 2, 0, 1, 1, 1, 2, 0, 2, 2, 0, 1, 0, 0, 2, 1, 2, 0, 1, 2, 2, 0, 1, 1, 0};
        for (int i = 0; i < pattern.length; i++) {
            int s = pattern[i];
            in.add(frame(streams[s], next[s]++));
            if (i == 9) {
                in.add(frame("cam-e", 2)); // a redelivered frame: stale-or-duplicate
            }
        }
        return in;
    }

    static String describe(MaskDocument d) {
        return d.getStream() + "#" + d.getSeq() + (d.isKeyFrame() ? " key(" + d.getKeyReason() + ")" : " <- "
                + d.getKeySeq());
    }

    static void assertSameDocuments(List<MaskDocument> want, List<MaskDocument> got) {
        assertEquals(want.stream().map(MaskPropagationBatchHarnessTest::describe).toList(),
                got.stream().map(MaskPropagationBatchHarnessTest::describe).toList());
        for (int i = 0; i < want.size(); i++) {
            // exact: ONNX Runtime on CPU gave bit-identical outputs for batch 1 and batched calls (MaskEngineBatchTest)
            assertArrayEquals(want.get(i).getLabelMapPng(), got.get(i).getLabelMapPng(), describe(want.get(i)));
            assertArrayEquals(want.get(i).getClassCounts(), got.get(i).getClassCounts());
        }
    }

    /**
     * Batch 4 with a checkpoint after 17 frames (one frame still buffered): the pre-barrier flush must run it
     * before the snapshot, and the job restored from that snapshot must continue exactly as batch 1 does without
     * any restore. Documents come out per stream in seq order.
     */
    @Test
    void batchOfFourAcrossASnapshotAndRestoreEqualsBatchOne() throws Exception {
        List<Frame> in = interleaved();
        List<MaskDocument> reference;
        List<String> referenceDead;
        try (var h = harness(settings().build())) {
            h.open();
            for (Frame f : in) {
                h.processElement(f, f.captureTs);
            }
            reference = new ArrayList<>(h.extractOutputValues());
            referenceDead = deadLetters(h);
        }
        assertEquals(in.size() - 1, reference.size());
        assertEquals(List.of("cam-e stale-or-duplicate"), referenceDead);

        MaskPropagationSettings batched = settings().set(JobOptions.INFERENCE_BATCH_MAX, 4)
                .set(JobOptions.INFERENCE_BATCH_WAIT, Duration.ofHours(1)).build();
        List<MaskDocument> got = new ArrayList<>();
        List<String> dead = new ArrayList<>();
        OperatorSubtaskState snap;
        try (var h = harness(batched)) {
            h.open();
            for (Frame f : in.subList(0, 17)) {
                h.processElement(f, f.captureTs);
            }
            assertEquals(1, operator(h).buffered(), "17 frames = 4 full batches + 1 waiting");
            assertEquals(16, h.extractOutputValues().size() + deadLetters(h).size());
            h.prepareSnapshotPreBarrier(5L);
            assertEquals(0, operator(h).buffered(), "nothing buffered across a checkpoint barrier");
            snap = h.snapshot(5L, 5L);
            got.addAll(h.extractOutputValues());
            dead.addAll(deadLetters(h));
            assertEquals(17, got.size() + dead.size());
        }
        try (var h = harness(batched)) {
            h.initializeState(snap);
            h.open();
            for (Frame f : in.subList(17, in.size())) {
                h.processElement(f, f.captureTs);
            }
            assertTrue(operator(h).buffered() > 0, "a partial batch is left for the end of input");
            h.close(); // finish(): end of input flushes the rest
            got.addAll(h.extractOutputValues());
            dead.addAll(deadLetters(h));
        }
        assertEquals(referenceDead, dead);
        // per stream, in order: a batch emits in arrival order, as batch 1 does
        assertSameDocuments(reference, got);
    }

    /** A partial batch waits at most inference.batch.wait of processing time. */
    @Test
    void aPartialBatchIsFlushedWhenItsWaitElapses() throws Exception {
        try (var h = harness(settings().set(JobOptions.INFERENCE_BATCH_MAX, 8)
                .set(JobOptions.INFERENCE_BATCH_WAIT, Duration.ofMillis(50)).build())) {
            h.setProcessingTime(1_000);
            h.open();
            h.processElement(frame("cam-a", 0), 1L);
            h.setProcessingTime(1_030);
            h.processElement(frame("cam-b", 0), 1L);
            h.processElement(frame("cam-a", 1), 1L);
            h.setProcessingTime(1_049);
            assertEquals(0, h.extractOutputValues().size());
            assertEquals(3, operator(h).buffered());
            h.setProcessingTime(1_050); // 50 ms after the first frame
            assertEquals(List.of("cam-a#0 key(no-state)", "cam-b#0 key(no-state)", "cam-a#1 <- 0"),
                    h.extractOutputValues().stream().map(MaskPropagationBatchHarnessTest::describe).toList());
            assertEquals(0, operator(h).buffered());
        }
    }

    /**
     * One stream's frames, 100 ms apart, each arriving {@code lags[seq]} ms after its capture time on the harness's
     * processing-time clock; the operator is snapshotted, closed and restored before frame {@code restoreAt}.
     */
    static List<MaskDocument> lagged(MaskPropagationSettings s, String stream, long[] lags, int restoreAt)
            throws Exception {
        List<MaskDocument> out = new ArrayList<>();
        var h = harness(s);
        h.open();
        for (int seq = 0; seq < lags.length; seq++) {
            if (seq == restoreAt) {
                h.prepareSnapshotPreBarrier(1L);
                OperatorSubtaskState snap = h.snapshot(1L, 1L);
                out.addAll(h.extractOutputValues());
                h.close();
                h = harness(s);
                h.initializeState(snap);
                h.open();
            }
            Frame f = frame(stream, seq, 1_000_000L + seq * 100);
            h.setProcessingTime(f.captureTs + lags[seq]);
            h.processElement(f, f.captureTs);
        }
        out.addAll(h.extractOutputValues());
        h.close();
        return out;
    }

    /**
     * The overload rule on the harness's clock: lag over the bound raises the stream's interval by one per frame up
     * to key.max-interval, lag between half the bound and the bound keeps it, lag under half the bound lowers it
     * again; key frames follow the interval in force; the interval survives a snapshot and restore.
     */
    @Test
    void lagRaisesTheKeyIntervalAndItFallsWhenTheLagClears() throws Exception {
        MaskPropagationSettings s = settings().set(JobOptions.KEY_INTERVAL, 2).set(JobOptions.KEY_MAX_INTERVAL, 4)
                .set(JobOptions.OVERLOAD_LAG_BOUND, Duration.ofSeconds(1))
                .set(JobOptions.KEY_MAX_TIME_GAP, Duration.ZERO).build();
        long[] lags = {5000, 5000, 5000, 5000, 5000, 5000, 5000, 700, 700, 700, 700, 100, 100, 100, 100, 100};
        List<MaskDocument> out = lagged(s, "cam-o", lags, 9);
        List<Integer> intervals = out.stream().map(MaskDocument::getKeyInterval).toList();
        assertEquals(List.of(3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 2, 2, 2, 2), intervals);
        // key frames: seq 0 (no state); then when frames since key + 1 reach the interval in force
        List<Long> keys = out.stream().filter(MaskDocument::isKeyFrame).map(MaskDocument::getSeq).toList();
        assertEquals(List.of(0L, 4L, 8L, 11L, 13L, 15L), keys);
    }

    /**
     * Shedding in the operator, on the harness's clock: past overload.shed-lag a frame's document repeats the
     * stream's last mask ("shed": true); after a restore nothing is held to repeat, so the first late frame is
     * inferred again, and the ones after it are shed.
     */
    @Test
    void framesPastTheShedLagAreAnsweredWithTheLastMask() throws Exception {
        MaskPropagationSettings s = settings().set(JobOptions.KEY_INTERVAL, 3)
                .set(JobOptions.OVERLOAD_SHED_LAG, Duration.ofSeconds(2))
                .set(JobOptions.KEY_MAX_TIME_GAP, Duration.ZERO).build();
        long[] lags = {0, 100, 5000, 5000, 5000, 5000, 100};
        List<MaskDocument> out = lagged(s, "cam-s", lags, 4);
        assertEquals(List.of(false, false, true, true, false, true, false),
                out.stream().map(d -> Boolean.TRUE.equals(d.getShed())).toList());
        assertArrayEquals(out.get(1).getLabelMapPng(), out.get(2).getLabelMapPng(), "seq 2 repeats seq 1");
        assertArrayEquals(out.get(4).getLabelMapPng(), out.get(5).getLabelMapPng(), "seq 5 repeats seq 4");
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), out.stream().map(MaskDocument::getSeq).toList());
    }

    /** Without the overload rule the documents still say the interval in force: the configured one. */
    @Test
    void withoutTheRuleTheIntervalIsTheConfiguredOne() throws Exception {
        try (var h = harness(settings().build())) {
            h.setProcessingTime(Long.MAX_VALUE / 2); // a lag of centuries changes nothing
            h.open();
            for (int seq = 0; seq < 4; seq++) {
                h.processElement(frame("cam-p", seq), 1L);
            }
            assertEquals(List.of(3, 3, 3, 3), h.extractOutputValues().stream().map(MaskDocument::getKeyInterval).toList());
            assertEquals(List.of(true, false, false, true),
                    h.extractOutputValues().stream().map(MaskDocument::isKeyFrame).toList());
        }
    }
}
