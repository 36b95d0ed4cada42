package io.mpvss.bench;

import java.io.IOException;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import io.mpvss.format.FrameDecoder;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StreamCursor;
import io.mpvss.state.StreamCursorSerializer;

/**
 * Bytes of keyed state per stream, measured with the operator's own serializers on real state: a real frame through
 * the real segmentor, turned into the operator's {@link KeyFrameState} at each mask precision, plus the per-frame
 * {@link StreamCursor}. Also times the serializer round trip (what RocksDB pays on every key-frame write and read).
 */
public final class StateProbe {

    private StateProbe() {
    }

    /** State of one stream at one mask precision. */
    public record Size(String precision, int keyFrameStateBytes, int cursorBytes, int totalBytes, int imageBytes,
                       int queriesBytes, int classLogitsBytes, int maskBytes, double serializeMs,
                       double deserializeMs, int modelWidth, int modelHeight, int queries) {
    }

    public static Size measure(ModelBundle bundle, byte[] encodedFrame, MaskPrecision precision, int reps)
            throws IOException {
        ModelManifest m = bundle.manifest();
        FrameDecoder.Rgb rgb = BenchFrames.decode(encodedFrame);
        byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), m.width(), m.height());
        SegmentorOutput out = bundle.segment(img);
        KeyFrameState state = KeyFrameState.of(m.modelId(), 0, System.currentTimeMillis(), rgb.width(), rgb.height(),
                img, out, precision);
        int bytes = KeyFrameStateSerializer.serializedSize(state);
        DataOutputSerializer cur = new DataOutputSerializer(64);
        StreamCursorSerializer.INSTANCE.serialize(new StreamCursor(41, System.currentTimeMillis(), 3), cur);

        DataOutputSerializer buf = new DataOutputSerializer(bytes + 64);
        double ser = 0;
        double de = 0;
        for (int i = 0; i < reps + 3; i++) {
            buf.clear();
            long a = System.nanoTime();
            KeyFrameStateSerializer.INSTANCE.serialize(state, buf);
            long b = System.nanoTime();
            KeyFrameState back = KeyFrameStateSerializer.INSTANCE.deserialize(
                    new DataInputDeserializer(buf.getSharedBuffer(), 0, buf.length()));
            long c = System.nanoTime();
            if (!back.equals(state)) {
                throw new IllegalStateException("KeyFrameState round trip changed the state");
            }
            if (i >= 3) {
                ser += (b - a) / 1e6;
                de += (c - b) / 1e6;
            }
        }
        int maskElems = out.maskLogits().length;
        return new Size(precision.name().toLowerCase(), bytes, cur.length(), bytes + cur.length(), img.length,
                out.queries().length * 4, out.classLogits().length * 4,
                maskElems * (precision == MaskPrecision.FP16 ? 2 : 4), ser / reps, de / reps, m.width(), m.height(),
                m.queries());
    }
}
