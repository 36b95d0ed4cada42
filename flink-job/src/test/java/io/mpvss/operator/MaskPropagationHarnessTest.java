package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import org.apache.flink.configuration.MemorySize;

import io.mpvss.state.KeyImageEncoding;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.StreamCursor;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.StreamCursorSerializer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.TestBundles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keyed operator in Flink's own operator test harness, on a real exported bundle. */
class MaskPropagationHarnessTest {

    static final int W = 192;
    static final int H = 112;
    static ModelBundle bundle;

    @BeforeAll
    static void openBundle() {
        bundle = ModelBundle.open(TestBundles.dir(), InferenceOptions.cpu());
    }

    @AfterAll
    static void closeBundle() {
        bundle.close();
    }

    static MaskPropagationSettings.Builder settings() {
        return MaskPropagationSettings.builder(TestBundles.dir().toString())
                .inference(InferenceOptions.cpu())
                .set(JobOptions.KEY_INTERVAL, 5)
                .set(JobOptions.KEY_MAX_SEQ_GAP, 3L)
                .set(JobOptions.KEY_MAX_TIME_GAP, Duration.ofSeconds(2))
                .set(JobOptions.STATE_TTL, Duration.ZERO);
    }

    /**
     * The operator under test behind the validator's rule ({@link Frame#parse}, as FrameValidator applies it in the
     * job), so records go in as they come from Kafka; dead letters of both steps are kept in arrival order.
     */
    static final class Harness extends KeyedOneInputStreamOperatorTestHarness<String, Frame, MaskDocument> {
        final int maxFrameBytes;
        final List<FrameRecord> dead = new ArrayList<>();

        Harness(MaskPropagationSettings s) throws Exception {
            super(new MaskPropagation(s), Frame::stream, Types.STRING);
            this.maxFrameBytes = s.maxFrameBytes();
        }
    }

    static Harness harness(MaskPropagationSettings s) throws Exception {
        return new Harness(s);
    }

    static FrameRecord frame(String stream, long seq) {
        return frame(stream, seq, 1_000_000L + seq * 40, W, H);
    }

    static FrameRecord frame(String stream, long seq, long ts, int w, int h) {
        return FrameRecord.of(stream, seq, ts, TestFrames.jpeg(w, h, stream.hashCode() & 7, seq));
    }

    static List<MaskDocument> run(Harness h, List<FrameRecord> in) throws Exception {
        int before = h.extractOutputValues().size();
        for (FrameRecord r : in) {
            Frame f;
            try {
                f = Frame.parse(r, h.maxFrameBytes);
            } catch (InvalidFrameException e) {
                h.dead.add(r.asDeadLetter(e));
                continue;
            }
            int deadBefore = sideOutput(h).size();
            h.processElement(f, r.timestamp);
            List<FrameRecord> side = sideOutput(h);
            h.dead.addAll(side.subList(deadBefore, side.size()));
        }
        List<MaskDocument> all = h.extractOutputValues();
        return new ArrayList<>(all.subList(before, all.size()));
    }

    private static List<FrameRecord> sideOutput(Harness h) {
        var q = h.getSideOutput(MaskPropagation.DEAD_LETTERS);
        return q == null ? List.of() : q.stream().map(StreamRecord::getValue).collect(Collectors.toList());
    }

    static List<FrameRecord> deadLetters(Harness h) {
        return h.dead;
    }

    /**
     * What the job must output for contiguous frames of one stream with key interval 5: an independent offline
     * run of the graphs with key frames at 0, 5, 10... and the same state compaction.
     */
    static byte[][] offline(List<FrameRecord> frames, int interval, StateCompaction compaction) throws Exception {
        OfflineReference reference = new OfflineReference(bundle, compaction);
        byte[][] out = new byte[frames.size()][];
        for (int i = 0; i < frames.size(); i++) {
            out[i] = reference.next(frames.get(i), i % interval == 0);
        }
        return out;
    }

    @Test
    void keyAndPropagatedFramesEqualTheOfflineRun() throws Exception {
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 12; s++) {
            in.add(frame("cam-a", s));
        }
        try (var h = harness(settings().build())) {
            h.open();
            List<MaskDocument> out = run(h, in);
            assertEquals(12, out.size());
            byte[][] want = offline(in, 5, settings().build().stateCompaction());
            for (int i = 0; i < 12; i++) {
                MaskDocument d = out.get(i);
                assertEquals("cam-a", d.getStream());
                assertEquals(i, d.getSeq());
                assertEquals(1_000_000L + i * 40, d.getCaptureTs());
                assertEquals(i % 5 == 0, d.isKeyFrame(), "key flag of seq " + i);
                assertEquals(i - i % 5, d.getKeySeq());
                assertEquals(i == 0 ? "no-state" : i % 5 == 0 ? "interval" : null, d.getKeyReason());
                assertEquals(bundle.modelId(), d.getModel());
                assertEquals(W, d.getWidth());
                assertEquals(H, d.getHeight());
                LabelMapPng.Image lm = LabelMapPng.read(d.getLabelMapPng());
                assertEquals(W, lm.width());
                assertEquals(H, lm.height());
                assertArrayEquals(want[i], lm.labels(), "label map of seq " + i);
                assertEquals((long) W * H, d.classPixels().values().stream().mapToLong(Long::longValue).sum());
                assertEquals(List.of(bundle.manifest().classNames()), List.copyOf(d.classPixels().keySet()));
            }
            assertTrue(deadLetters(h).isEmpty());
        }
    }

    @Test
    void forcedKeyFramesNameTheirReason() throws Exception {
        try (var h = harness(settings().build())) {
            h.open();
            List<MaskDocument> out = run(h, List.of(
                    frame("cam-b", 0),                               // no-state
                    frame("cam-b", 1),
                    frame("cam-b", 5),                               // seq jump 4 > 3: seq-gap
                    frame("cam-b", 6),
                    frame("cam-b", 7, 1_000_000L + 7 * 40 + 2500, W, H),  // 2.5 s pause: time-gap
                    frame("cam-b", 8, 1_000_000L + 8 * 40 + 2500, 160, 96), // resolution
                    frame("cam-b", 9, 1_000_000L + 9 * 40 + 2500, 160, 96)));
            List<String> reasons = out.stream().map(d -> String.valueOf(d.getKeyReason())).toList();
            assertEquals(List.of("no-state", "null", "seq-gap", "null", "time-gap", "resolution", "null"), reasons);
            assertEquals(List.of(0L, 0L, 5L, 5L, 7L, 8L, 8L), out.stream().map(MaskDocument::getKeySeq).toList());
            assertEquals(160, out.get(6).getWidth());
            assertEquals(96, LabelMapPng.read(out.get(6).getLabelMapPng()).height());
        }
    }

    @Test
    void modelChangeAfterRestoreForcesKeyFrame(@TempDir Path tmp) throws Exception {
        OperatorSubtaskState snap;
        try (var h = harness(settings().build())) {
            h.open();
            run(h, List.of(frame("cam-c", 0), frame("cam-c", 1)));
            snap = h.snapshot(1L, 1L);
        }
        // Same graphs, new version in the manifest: a redeploy of another model version.
        Path other = TestBundles.copyTo(tmp.resolve("v2"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode man = (ObjectNode) json.readTree(other.resolve("manifest.json").toFile());
        man.put("version", man.get("version").asText() + "-next");
        json.writeValue(other.resolve("manifest.json").toFile(), man);
        try (var h = harness(MaskPropagationSettings.builder(other.toString()).inference(InferenceOptions.cpu())
                .set(JobOptions.KEY_INTERVAL, 5).set(JobOptions.STATE_TTL, Duration.ZERO).build())) {
            h.initializeState(snap);
            h.open();
            List<MaskDocument> out = run(h, List.of(frame("cam-c", 2), frame("cam-c", 3)));
            assertEquals("model-change", out.get(0).getKeyReason());
            assertTrue(out.get(0).getModel().endsWith("-next"));
            assertNull(out.get(1).getKeyReason());
            assertEquals(2L, out.get(1).getKeySeq());
        }
    }

    @Test
    void badBundleStopsTheJobWithoutRestarts(@TempDir Path tmp) throws Exception {
        Path broken = TestBundles.copyTo(tmp.resolve("broken"));
        Files.delete(broken.resolve("propagator.onnx"));
        try (var h = harness(MaskPropagationSettings.builder(broken.toString()).inference(InferenceOptions.cpu()).build())) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.apache.flink.runtime.execution.SuppressRestartsException.class, h::open);
            assertTrue(e.getCause() instanceof io.mpvss.model.InvalidBundleException);
            assertTrue(e.getCause().getMessage().contains("propagator.onnx"), e.getCause().getMessage());
        }
    }

    @Test
    void quietStreamsLoseTheirStateAfterTheTtl() throws Exception {
        try (var h = harness(settings().set(JobOptions.STATE_TTL, Duration.ofMillis(300)).build())) {
            h.setStateTtlProcessingTime(1_000);
            h.open();
            List<MaskDocument> first = run(h, List.of(frame("cam-q", 0), frame("cam-q", 1)));
            assertNull(first.get(1).getKeyReason(), "within the TTL the key frame is used");
            h.setStateTtlProcessingTime(1_000 + 301);
            // capture time says 40 ms later (no time-gap), but the state expired in the meantime
            List<MaskDocument> later = run(h, List.of(frame("cam-q", 2)));
            assertEquals("no-state", later.get(0).getKeyReason());
        }
    }

    @Test
    void stateHoldsTheKeyFrameCompactly() throws Exception {
        try (var h = harness(settings().build())) {
            h.open();
            run(h, List.of(frame("cam-d", 0), frame("cam-d", 1), frame("cam-d", 2)));
            var op = h.getOperator();
            op.setCurrentKey("cam-d");
            KeyFrameState key = op.getKeyedStateStore().getState(
                    new ValueStateDescriptor<>(MaskPropagation.KEY_STATE, KeyFrameStateSerializer.INSTANCE)).value();
            StreamCursor cur = op.getKeyedStateStore().getState(
                    new ValueStateDescriptor<>(MaskPropagation.CURSOR_STATE, StreamCursorSerializer.INSTANCE)).value();
            assertNotNull(key);
            assertEquals(0L, key.keySeq());
            assertEquals(1_000_000L, key.keyTs());
            assertEquals(bundle.modelId(), key.modelId());
            assertEquals(W, key.frameWidth());
            assertEquals(H, key.frameHeight());
            assertEquals(bundle.imageBytes(), key.image().length);
            assertEquals(KeyImageEncoding.JPEG, key.imageEncoding());
            var m = bundle.manifest();
            assertEquals(m.queries() * m.queryDim(), key.queries().length);
            assertEquals(m.queries() * (m.numClasses() + 1), key.classLogits().length);
            assertEquals(MaskPrecision.UINT8, key.maskPrecision());
            assertEquals(bundle.maskElements(), key.maskLogits().length);

            assertEquals(new StreamCursor(2, 1_000_000L + 80, 2), cur);
            // state bytes per stream, as RocksDB and checkpoints hold them: the uint8 masks with their per-query min
            // and step, the JPEG key image, the fp32 queries and class logits, and a header
            int size = KeyFrameStateSerializer.serializedSize(key);
            int expected = key.storedImageBytes() + 4 * (key.queries().length + key.classLogits().length)
                    + bundle.maskElements() + 8 * m.queries();
            assertTrue(size >= expected && size < expected + 200, "size " + size + " vs payload " + expected);
            // issue 9's target (0.25 MB where fp16 masks and the raw key image took 0.66 MB at the bundle preset),
            // as a ratio so that it holds for any bundle
            int before = bundle.imageBytes() + 4 * (key.queries().length + key.classLogits().length)
                    + 2 * bundle.maskElements();
            assertTrue(size < 0.38 * before, "compact state " + size + " bytes vs " + before + " before");
            // the JPEG key image is far below the raw RGB (a quarter is a loose bound: about a tenth is measured)
            assertTrue(key.storedImageBytes() < bundle.imageBytes() / 4, "JPEG key image " + key.storedImageBytes());
            System.out.printf("state per stream (uint8 masks, JPEG key image): %d bytes, key image %d of %d raw (%s)%n",
                    size, key.storedImageBytes(), bundle.imageBytes(), bundle.modelId());
        }
    }

    @Test
    void snapshotAndRestoreGiveIdenticalOutput() throws Exception {
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 13; s++) {
            in.add(frame("cam-e", s));
            in.add(frame("cam-f", s));
        }
        List<MaskDocument> reference;
        try (var h = harness(settings().build())) {
            h.open();
            reference = run(h, in);
        }
        List<MaskDocument> restored = new ArrayList<>();
        OperatorSubtaskState snap;
        try (var h = harness(settings().build())) {
            h.open();
            restored.addAll(run(h, in.subList(0, 15)));
            snap = h.snapshot(7L, 7L);
        }
        try (var h = harness(settings().build())) {
            h.initializeState(snap);
            h.open();
            restored.addAll(run(h, in.subList(15, in.size())));
        }
        assertEquals(reference.size(), restored.size());
        for (int i = 0; i < reference.size(); i++) {
            MaskDocument a = reference.get(i);
            MaskDocument b = restored.get(i);
            assertEquals(a.getStream() + a.getSeq() + a.isKeyFrame() + a.getKeySeq() + a.getKeyReason(),
                    b.getStream() + b.getSeq() + b.isKeyFrame() + b.getKeySeq() + b.getKeyReason());
            assertArrayEquals(a.getLabelMapPng(), b.getLabelMapPng(), "label map " + a);
            assertArrayEquals(a.getClassCounts(), b.getClassCounts());
        }
    }

    @Test
    void rocksDbGivesTheSameMasksAsTheHeapBackendAcrossARestore() throws Exception {
        // RocksDB serializes the state on every access: the fp16 compaction at key-frame time makes that invisible.
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            in.add(frame("cam-r", s));
        }
        List<MaskDocument> heap;
        try (var h = harness(settings().build())) {
            h.open();
            heap = run(h, in);
        }
        List<MaskDocument> rocks = new ArrayList<>();
        OperatorSubtaskState snap;
        try (var h = harness(settings().build())) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.open();
            rocks.addAll(run(h, in.subList(0, 4)));
            snap = h.snapshot(3L, 3L);
        }
        try (var h = harness(settings().build())) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.initializeState(snap);
            h.open();
            rocks.addAll(run(h, in.subList(4, in.size())));
        }
        assertEquals(heap.size(), rocks.size());
        for (int i = 0; i < heap.size(); i++) {
            assertEquals(heap.get(i).getKeySeq(), rocks.get(i).getKeySeq());
            assertArrayEquals(heap.get(i).getLabelMapPng(), rocks.get(i).getLabelMapPng(), "seq " + i);
        }
    }

    /**
     * With RocksDB a state read is a new object; the key-frame cache hands the propagator the object it decoded
     * already, once per key frame instead of once per frame. Same masks with the cache and without it; every
     * propagated frame's read is a hit; and after a restore the cache starts empty and fills again.
     */
    @Test
    void onRocksDbTheKeyFrameCacheServesPropagatedFramesWithTheSameMasks() throws Exception {
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 9; s++) {
            in.add(frame("cam-c", s));
        }
        List<MaskDocument> uncached;
        try (var h = harness(settings().set(JobOptions.STATE_KEY_FRAME_CACHE, MemorySize.ZERO).build())) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.open();
            uncached = run(h, in);
            assertEquals(0, ((MaskPropagation) h.getOperator()).keyFrameCache().hits());
        }
        List<MaskDocument> cached = new ArrayList<>();
        OperatorSubtaskState snap;
        try (var h = harness(settings().build())) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.open();
            cached.addAll(run(h, in.subList(0, 4)));
            KeyFrameCache cache = ((MaskPropagation) h.getOperator()).keyFrameCache();
            long propagated = cached.stream().filter(d -> !d.isKeyFrame()).count();
            assertEquals(propagated, cache.hits(), "every propagated frame's key frame came from the cache");
            snap = h.snapshot(3L, 3L);
        }
        try (var h = harness(settings().build())) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.initializeState(snap);
            h.open();
            cached.addAll(run(h, in.subList(4, in.size())));
            KeyFrameCache cache = ((MaskPropagation) h.getOperator()).keyFrameCache();
            assertTrue(cache.misses() >= 1, "restored: the first read decodes");
            assertTrue(cache.hits() >= 1, "then the cache serves");
        }
        assertEquals(uncached.size(), cached.size());
        for (int i = 0; i < uncached.size(); i++) {
            assertEquals(uncached.get(i).getKeySeq(), cached.get(i).getKeySeq());
            assertArrayEquals(uncached.get(i).getLabelMapPng(), cached.get(i).getLabelMapPng(), "seq " + i);
        }
    }

    /** The cache's bound: least recently used streams go first; a new key frame replaces the stream's entry. */
    @Test
    void theKeyFrameCacheKeepsTheMostRecentStreamsAndMatchesByKeyFrame() {
        KeyFrameCache cache = new KeyFrameCache(2);
        KeyFrameState a0 = key(0);
        cache.written("a", a0);
        assertSame(a0, cache.reuse("a", key(0)), "the same key frame read again: the cached object");
        KeyFrameState a5 = key(5);
        assertSame(a5, cache.reuse("a", a5), "another key frame: the one read, which replaces the entry");
        assertSame(a5, cache.reuse("a", key(5)));
        cache.written("b", key(0));
        cache.reuse("a", key(5)); // a is now more recent than b
        cache.written("c", key(0)); // over the bound of 2: b goes
        assertEquals(2, cache.size());
        KeyFrameState b0 = key(0);
        assertSame(b0, cache.reuse("b", b0), "b was dropped: a miss");
        assertEquals(3, cache.hits());
        assertNull(new KeyFrameCache(0).reuse("a", null));
        KeyFrameState x = key(1);
        KeyFrameCache off = new KeyFrameCache(0);
        off.written("a", key(1));
        assertSame(x, off.reuse("a", x), "0 disables");
        assertEquals(0, off.size());
    }

    static KeyFrameState key(long seq) {
        return KeyFrameState.of("m@1", seq, 1000 + seq, 64, 32, new byte[4 * 4 * 3],
                new io.mpvss.model.SegmentorOutput(new float[4], new float[2], new float[8], new byte[16]),
                io.mpvss.state.MaskPrecision.FP32);
    }

    @Test
    void badRecordsGoToTheDeadLetterOutputAndGoodFramesAreUnaffected() throws Exception {
        List<FrameRecord> good = new ArrayList<>();
        for (int s = 0; s < 8; s++) {
            good.add(frame("cam-g", s));
        }
        FrameRecord garbage = FrameRecord.of("cam-g", 3, 1_000_120L, new byte[] {1, 2, 3, 4, 5});
        FrameRecord truncatedJpeg = FrameRecord.of("cam-g", 4, 1_000_160L,
                java.util.Arrays.copyOf(good.get(4).value, 40));
        FrameRecord noSeq = good.get(5).withoutHeader(WireFormat.HEADER_SEQ);
        FrameRecord badTs = good.get(5).withoutHeader(WireFormat.HEADER_TS)
                .addHeader(WireFormat.HEADER_TS, "yesterday".getBytes());
        FrameRecord rawWrongSize = FrameRecord.of("cam-g", 6, 1_000_240L, new byte[100])
                .addHeader(WireFormat.HEADER_WIDTH, "10".getBytes()).addHeader(WireFormat.HEADER_HEIGHT, "10".getBytes());
        FrameRecord emptyKey = FrameRecord.of("", 1, 1L, good.get(0).value);
        FrameRecord oversized = FrameRecord.of("cam-g", 7, 1_000_280L, new byte[60_000]);
        FrameRecord duplicate = good.get(2).copy();
        FrameRecord stale = good.get(1).copy();

        List<FrameRecord> mixed = new ArrayList<>();
        mixed.addAll(good.subList(0, 3));
        mixed.addAll(List.of(garbage, truncatedJpeg, noSeq, badTs, rawWrongSize, emptyKey, oversized, duplicate, stale));
        mixed.addAll(good.subList(3, 8));

        List<MaskDocument> clean;
        try (var h = harness(settings().build())) {
            h.open();
            clean = run(h, good);
        }
        try (var h = harness(settings().set(JobOptions.FRAMES_MAX_BYTES, 50_000).build())) {
            h.open();
            List<MaskDocument> out = run(h, mixed);
            assertEquals(8, out.stream().filter(d -> d.getStream().equals("cam-g")).count());
            for (int i = 0; i < 8; i++) {
                assertEquals(clean.get(i).getSeq(), out.get(i).getSeq());
                assertEquals(clean.get(i).getKeySeq(), out.get(i).getKeySeq());
                assertArrayEquals(clean.get(i).getLabelMapPng(), out.get(i).getLabelMapPng());
            }
            List<FrameRecord> dead = deadLetters(h);
            List<String> classes = dead.stream().map(r -> r.headerString(WireFormat.DLQ_ERROR_CLASS)).toList();
            assertEquals(List.of("undecodable-image", "undecodable-image", "missing-header", "bad-header",
                    "undecodable-image", "empty-key", "oversized", "stale-or-duplicate", "stale-or-duplicate"), classes);
            for (FrameRecord d : dead) {
                assertFalse(d.headerString(WireFormat.DLQ_ERROR_MESSAGE).isEmpty());
                assertNotNull(d.header(WireFormat.DLQ_ERROR_TS));
            }
            // the original record is unchanged: same value, and its headers come first, as they were
            assertArrayEquals(garbage.value, dead.get(0).value);
            assertEquals(List.of(garbage.headerKeys),
                    List.of(dead.get(0).headerKeys).subList(0, garbage.headerKeys.length));
        }
    }

    @Test
    void fp16MaskStateAgreesWithFp32(@TempDir Path tmp) throws Exception {
        // The measured effect of fp16 mask logits in state: label agreement against fp32, on propagated frames.
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            in.add(frame("cam-h", s));
        }
        byte[][] fp16 = offline(in, 5, StateCompaction.masksOnly(MaskPrecision.FP16));
        byte[][] fp32 = offline(in, 5, StateCompaction.FULL);
        long same = 0;
        long total = 0;
        for (int i = 0; i < in.size(); i++) {
            if (i % 5 == 0) {
                assertArrayEquals(fp32[i], fp16[i]); // key frames do not read the state
                continue;
            }
            for (int p = 0; p < fp16[i].length; p++) {
                same += fp16[i][p] == fp32[i][p] ? 1 : 0;
            }
            total += fp16[i].length;
        }
        double agree = (double) same / total;
        System.out.printf("fp16 vs fp32 mask state: %.5f%% of propagated label pixels equal (%d px, %s)%n",
                agree * 100, total, bundle.modelId());
        assertTrue(agree > 0.99, "fp16 mask state changes too many labels: " + agree);
        Files.writeString(tmp.resolve("ok"), "");
    }

    @Test
    void compactStateAgreesWithFullPrecision() throws Exception {
        // The measured effect of the default compaction (uint8 masks, JPEG key image) against fp32 masks and the raw
        // key image, on propagated frames, each compaction alone and together. Key frames do not read the state.
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 20; s++) {
            in.add(frame("cam-c", s));
        }
        StateCompaction def = settings().build().stateCompaction();
        assertEquals(new StateCompaction(MaskPrecision.UINT8, KeyImageEncoding.JPEG, 95), def);
        byte[][] full = offline(in, 5, StateCompaction.FULL);
        StateCompaction[] variants = {StateCompaction.masksOnly(MaskPrecision.UINT8),
                new StateCompaction(MaskPrecision.FP32, KeyImageEncoding.JPEG, 95), def};
        double[] agree = new double[variants.length];
        for (int v = 0; v < variants.length; v++) {
            byte[][] got = offline(in, 5, variants[v]);
            long same = 0;
            long total = 0;
            for (int i = 0; i < in.size(); i++) {
                if (i % 5 == 0) {
                    assertArrayEquals(full[i], got[i]);
                    continue;
                }
                for (int p = 0; p < got[i].length; p++) {
                    same += got[i][p] == full[i][p] ? 1 : 0;
                }
                total += got[i].length;
            }
            agree[v] = (double) same / total;
            System.out.printf("%s vs %s: %.4f%% of propagated label pixels equal (%d px, %s)%n", variants[v],
                    StateCompaction.FULL, agree[v] * 100, total, bundle.modelId());
        }
        // Loose bounds, well above what a broken compaction gives (a wrong dequantisation or a garbled key image
        // moves most pixels), well below the measured agreement (see the printed lines and docs/formats.md).
        for (double a : agree) {
            assertTrue(a > 0.98, "compaction changes too many labels: " + java.util.Arrays.toString(agree));
        }
    }
}
