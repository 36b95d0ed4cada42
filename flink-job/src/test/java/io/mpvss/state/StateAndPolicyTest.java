package io.mpvss.state;

import io.mpvss.engine.KeyFramePolicy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.mpvss.model.SegmentorOutput;
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
        r.nextBytes(img);
        return KeyFrameState.of("m@1", 10, 12345, 640, 480, img, new SegmentorOutput(q, c, m, new byte[16 * 24]), p);
    }

    @Test
    void keyFrameStateSerializerRoundTrip() throws Exception {
        for (MaskPrecision p : MaskPrecision.values()) {
            KeyFrameState s = state(p);
            DataOutputSerializer out = new DataOutputSerializer(64);
            KeyFrameStateSerializer.INSTANCE.serialize(s, out);
            KeyFrameState back = KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
            assertEquals(s, back);
            assertArrayEquals(s.maskLogits(), back.maskLogits());
            assertEquals(s, KeyFrameStateSerializer.INSTANCE.copy(s));
            assertEquals(out.length(), KeyFrameStateSerializer.serializedSize(s));
            assertEquals(KeyFrameStateSerializer.FORMAT_VERSION, out.getCopyOfBuffer()[0]);
        }
        int fp16 = KeyFrameStateSerializer.serializedSize(state(MaskPrecision.FP16));
        int fp32 = KeyFrameStateSerializer.serializedSize(state(MaskPrecision.FP32));
        assertEquals(8 * 4 * 6 * 2, fp32 - fp16, "fp16 halves the mask bytes");
    }

    @Test
    void fp16StateIsWhatThePropagatorReads() {
        KeyFrameState s = state(MaskPrecision.FP16);
        assertArrayEquals(KeyFrameState.compactRoundTrip(Half.toFloats(s.maskFp16), MaskPrecision.FP16), s.maskLogits());
        assertSame(s.maskLogits(), s.maskLogits(), "decoded once per key frame");
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
        assertEquals(true, compat.isCompatibleAsIs());

        StreamCursor c = new StreamCursor(5, 99, 3);
        out.clear();
        StreamCursorSerializer.INSTANCE.serialize(c, out);
        assertEquals(StreamCursorSerializer.INSTANCE.getLength(), out.length());
        assertEquals(c, StreamCursorSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getCopyOfBuffer())));
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
