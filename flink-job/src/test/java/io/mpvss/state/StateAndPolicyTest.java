package io.mpvss.state;

import io.mpvss.engine.KeyFramePolicy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.model.SegmentorOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** fp16 conversion, the explicit state serializers and the key-frame policy, without a model. */
class StateAndPolicyTest {

    @Test
    void halfRoundTripsEveryHalfValue() {
        for (int h = 0; h < 0x10000; h++) {
            short s = (short) h;
            float f = Half.toFloat(s);
            if (Float.isNaN(f)) {
                continue;
            }
            assertEquals(s, Half.fromFloat(f), "half 0x" + Integer.toHexString(h));
        }
        assertEquals(1.0f, Half.toFloat(Half.fromFloat(1.0f)));
        assertEquals(65504f, Half.toFloat(Half.fromFloat(65519f)));
        assertEquals(Float.POSITIVE_INFINITY, Half.toFloat(Half.fromFloat(65520f)));
        assertEquals(0x3c00, Half.fromFloat(1.0004883f) & 0xffff, "tie rounds to even");
        assertEquals(0x3c01, Half.fromFloat(1.0004884f) & 0xffff);
        assertEquals(0x0001, Half.fromFloat(5.97e-8f) & 0xffff, "smallest subnormal");
        assertEquals(0, Half.fromFloat(2.9e-8f) & 0xffff);
        Random r = new Random(1);
        for (int i = 0; i < 100_000; i++) {
            float f = (float) (r.nextGaussian() * 20);
            float back = Half.toFloat(Half.fromFloat(f));
            assertEquals(f, back, Math.abs(f) / 1024 + 1e-7);
        }
    }

    static KeyFrameState state(MaskPrecision p) {
        return state(StateCompaction.masksOnly(p));
    }

    /** A key frame of 8 queries, 4x6 masks, a 24x16 key image (smooth, as camera images are). */
    static KeyFrameState state(StateCompaction compaction) {
        Random r = new Random(7);
        float[] q = new float[8 * 4];
        float[] c = new float[8 * 5];
        float[] m = new float[8 * 4 * 6];
        for (float[] a : new float[][] {q, c, m}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian() * 5;
            }
        }
        byte[] img = new byte[16 * 24 * 3];
        for (int i = 0; i < img.length; i++) {
            img[i] = (byte) (i / 3 % 24 * 8 + i % 3 * 40 + r.nextInt(4));
        }
        return KeyFrameState.of("m@1", 10, 12345, 640, 480, img, 24, 16, new SegmentorOutput(q, c, m, new byte[16 * 24]),
                compaction);
    }

    static List<StateCompaction> allCompactions() {
        List<StateCompaction> all = new ArrayList<>();
        for (MaskPrecision p : MaskPrecision.values()) {
            for (KeyImageEncoding e : KeyImageEncoding.values()) {
                all.add(new StateCompaction(p, e, 95));
            }
        }
        return all;
    }

    @Test
    void keyFrameStateSerializerRoundTrip() throws Exception {
        for (StateCompaction sc : allCompactions()) {
            KeyFrameState s = state(sc);
            DataOutputSerializer out = new DataOutputSerializer(64);
            KeyFrameStateSerializer.INSTANCE.serialize(s, out);
            KeyFrameState back = KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(s, back, sc.toString());
            assertArrayEquals(s.maskLogits(), back.maskLogits(), sc.toString());
            assertArrayEquals(s.image(), back.image(), sc.toString());
            // immutable: a copy is the object itself, with its decoded key image (no decode after a heap snapshot)
            assertSame(s, KeyFrameStateSerializer.INSTANCE.copy(s));
            assertTrue(KeyFrameStateSerializer.INSTANCE.isImmutableType());
            DataOutputSerializer copied = new DataOutputSerializer(64);
            KeyFrameStateSerializer.INSTANCE.copy(new DataInputDeserializer(out.getCopyOfBuffer()), copied);
            assertArrayEquals(out.getCopyOfBuffer(), copied.getCopyOfBuffer());
            assertEquals(out.length(), KeyFrameStateSerializer.serializedSize(s));
            assertEquals(KeyFrameStateSerializer.FORMAT_VERSION, out.getCopyOfBuffer()[0]);
        }
        int fp16 = KeyFrameStateSerializer.serializedSize(state(MaskPrecision.FP16));
        int fp32 = KeyFrameStateSerializer.serializedSize(state(MaskPrecision.FP32));
        int u8 = KeyFrameStateSerializer.serializedSize(state(MaskPrecision.UINT8));
        assertEquals(8 * 4 * 6 * 2, fp32 - fp16, "fp16 halves the mask bytes");
        assertEquals(8 * 4 * 6 * 3 - 8 * 8 - 4, fp32 - u8, "uint8: a byte per logit plus min and step per query");
    }

    @Test
    void compactStateIsWhatThePropagatorReads() {
        KeyFrameState s = state(MaskPrecision.FP16);
        assertArrayEquals(Half.toFloats(s.maskFp16), s.maskLogits());
        assertSame(s.maskLogits(), s.maskLogits(), "decoded once per key frame");

        // uint8: every logit within half a step of its fp32 value, per query; the extremes exact
        float[] full = state(MaskPrecision.FP32).maskLogits();
        KeyFrameState u = state(MaskPrecision.UINT8);
        float[] got = u.maskLogits();
        assertSame(got, u.maskLogits(), "decoded once per key frame");
        int plane = 4 * 6;
        for (int q = 0; q < 8; q++) {
            float lo = Float.MAX_VALUE;
            float hi = -Float.MAX_VALUE;
            for (int i = q * plane; i < (q + 1) * plane; i++) {
                lo = Math.min(lo, full[i]);
                hi = Math.max(hi, full[i]);
            }
            float step = (hi - lo) / 255f;
            for (int i = q * plane; i < (q + 1) * plane; i++) {
                assertEquals(full[i], got[i], step * 0.5f + 1e-5f, "query " + q + " logit " + i);
                if (full[i] == lo) {
                    assertEquals(lo, got[i]);
                }
            }
        }

        // JPEG key image: decoded once, same size as the raw image, close to it (q95 on a smooth image)
        KeyFrameState raw = state(StateCompaction.masksOnly(MaskPrecision.FP32));
        KeyFrameState jpeg = state(new StateCompaction(MaskPrecision.FP32, KeyImageEncoding.JPEG, 95));
        assertSame(raw.image(), raw.image());
        assertSame(jpeg.image(), jpeg.image(), "decoded once per key frame");
        assertEquals(raw.image().length, jpeg.image().length);
        double err = 0;
        for (int i = 0; i < raw.image().length; i++) {
            err += Math.abs((raw.image()[i] & 0xff) - (jpeg.image()[i] & 0xff));
        }
        err /= raw.image().length;
        assertTrue(err < 8, "mean abs error of the JPEG key image " + err);
        assertTrue(err > 0, "a JPEG key image that equals the raw one was not encoded");
    }

    @Test
    void version1RecordsAreStillRead() throws Exception {
        // a v1 record as the previous job wrote it: no image-encoding byte (raw RGB), fp16 masks
        KeyFrameState s = state(MaskPrecision.FP16);
        DataOutputSerializer v1 = new DataOutputSerializer(64);
        v1.writeByte(1);
        v1.writeUTF(s.modelId());
        v1.writeLong(s.keySeq());
        v1.writeLong(s.keyTs());
        v1.writeInt(s.frameWidth());
        v1.writeInt(s.frameHeight());
        v1.writeInt(s.image().length);
        v1.write(s.image());
        KeyFrameStateSerializer.writeFloats(s.queries(), v1);
        KeyFrameStateSerializer.writeFloats(s.classLogits(), v1);
        v1.writeByte(1);
        v1.writeInt(s.maskFp16.length);
        for (short h : s.maskFp16) {
            v1.writeByte(h & 0xff); // little-endian
            v1.writeByte((h >>> 8) & 0xff);
        }
        KeyFrameState back = KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(v1.getCopyOfBuffer()));
        assertEquals(s, back);
        assertEquals(KeyImageEncoding.RAW, back.imageEncoding());
        assertArrayEquals(s.maskLogits(), back.maskLogits());

        // a v1 serializer snapshot (the version is all it holds) restores as is
        DataOutputSerializer snap = new DataOutputSerializer(64);
        snap.writeUTF(KeyFrameStateSerializer.Snapshot.class.getName());
        snap.writeInt(1);
        TypeSerializerSnapshot<KeyFrameState> old = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(snap.getCopyOfBuffer()), getClass().getClassLoader());
        assertTrue(KeyFrameStateSerializer.INSTANCE.snapshotConfiguration().resolveSchemaCompatibility(old)
                .isCompatibleAsIs());
        // a record of an unknown (later) version is refused, not misread
        byte[] later = v1.getCopyOfBuffer();
        later[0] = (byte) (KeyFrameStateSerializer.FORMAT_VERSION + 1);
        assertThrows(java.io.IOException.class,
                () -> KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(later)));
    }

    @Test
    void serializerSnapshotsCarryTheFormatVersion() throws Exception {
        TypeSerializerSnapshot<KeyFrameState> snap = KeyFrameStateSerializer.INSTANCE.snapshotConfiguration();
        assertEquals(KeyFrameStateSerializer.FORMAT_VERSION, snap.getCurrentVersion());
        DataOutputSerializer out = new DataOutputSerializer(16);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snap);
        TypeSerializerSnapshot<KeyFrameState> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        TypeSerializerSchemaCompatibility<KeyFrameState> compat =
                KeyFrameStateSerializer.INSTANCE.snapshotConfiguration().resolveSchemaCompatibility(read);
        assertTrue(compat.isCompatibleAsIs());

        StreamCursor c = new StreamCursor(5, 99, 3);
        out.clear();
        StreamCursorSerializer.INSTANCE.serialize(c, out);
        assertEquals(StreamCursorSerializer.INSTANCE.getLength(), out.length());
        assertEquals(c, StreamCursorSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())));
    }

    @Test
    void aSnapshotOfANewerJobIsRefusedNamingTheType() throws Exception {
        for (TypeSerializerSnapshot<?> snap : List.of(KeyFrameStateSerializer.INSTANCE.snapshotConfiguration(),
                StreamCursorSerializer.INSTANCE.snapshotConfiguration())) {
            DataOutputSerializer out = new DataOutputSerializer(64);
            out.writeUTF(snap.getClass().getName());
            out.writeInt(snap.getCurrentVersion() + 1);
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> TypeSerializerSnapshot
                    .readVersionedSnapshot(new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader()));
            String type = snap instanceof KeyFrameStateSerializer.Snapshot ? "KeyFrameState" : "StreamCursor";
            assertTrue(e.getMessage().startsWith(type + " snapshot version " + (snap.getCurrentVersion() + 1)
                    + " is newer than this job"), e.getMessage());
        }
        // each serializer's snapshot restores its own type only
        TypeSerializerSnapshot<StreamCursor> cursor = StreamCursorSerializer.INSTANCE.snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, cursor);
        TypeSerializerSnapshot<StreamCursor> read = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertTrue(cursor.resolveSchemaCompatibility(read).isCompatibleAsIs());
        assertSame(StreamCursorSerializer.INSTANCE, read.restoreSerializer());
        @SuppressWarnings({"unchecked", "rawtypes"})
        TypeSerializerSnapshot<StreamCursor> other = (TypeSerializerSnapshot) KeyFrameStateSerializer.INSTANCE
                .snapshotConfiguration();
        assertTrue(cursor.resolveSchemaCompatibility(other).isIncompatible());
    }

    @Test
    void policyRulesInOrder() {
        KeyFramePolicy p = new KeyFramePolicy(5, 3, 2000);
        KeyFrameState key = state(MaskPrecision.FP16); // m@1, 640x480, seq 10
        StreamCursor cur = new StreamCursor(11, 1000, 1);
        assertEquals(KeyFramePolicy.Reason.NO_STATE, p.decide(null, null, "m@1", 12, 1040, 640, 480));
        assertEquals(KeyFramePolicy.Reason.NO_STATE, p.decide(key, null, "m@1", 12, 1040, 640, 480));
        assertEquals(KeyFramePolicy.Reason.MODEL_CHANGE, p.decide(key, cur, "m@2", 12, 1040, 320, 240));
        assertEquals(KeyFramePolicy.Reason.RESOLUTION, p.decide(key, cur, "m@1", 99, 9999, 320, 240));
        assertEquals(KeyFramePolicy.Reason.SEQ_GAP, p.decide(key, cur, "m@1", 15, 9999, 640, 480));
        assertNull(p.decide(key, cur, "m@1", 14, 1040, 640, 480));
        assertEquals(KeyFramePolicy.Reason.TIME_GAP, p.decide(key, cur, "m@1", 12, 3001, 640, 480));
        assertNull(p.decide(key, cur, "m@1", 12, 3000, 640, 480));
        assertEquals(KeyFramePolicy.Reason.INTERVAL, p.decide(key, new StreamCursor(14, 1000, 4), "m@1", 15, 1040, 640, 480));
        assertNull(p.decide(key, new StreamCursor(13, 1000, 3), "m@1", 14, 1040, 640, 480));
        KeyFramePolicy noGaps = new KeyFramePolicy(1000, 0, 0);
        assertNull(noGaps.decide(key, cur, "m@1", 500, 1_000_000, 640, 480));
        assertEquals(KeyFramePolicy.Reason.INTERVAL,
                new KeyFramePolicy(1, 0, 0).decide(key, cur, "m@1", 12, 1040, 640, 480), "K=1: every frame");
    }
}
