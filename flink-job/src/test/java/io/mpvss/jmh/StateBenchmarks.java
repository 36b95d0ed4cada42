package io.mpvss.jmh;

import java.io.IOException;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.KeyImageEncoding;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;

/**
 * The operator's key-frame state through its own serializer ({@link KeyFrameStateSerializer}): what RocksDB pays on
 * every key-frame write (serialize) and on every frame's read (deserialize), and what a checkpoint pays per stream.
 * Sizes as the bundle's: {@code size} = HxW, {@code queries} = N, {@code classes} = K.
 */
public class StateBenchmarks extends JmhBenchmark {

    @Param({"100"})
    public int queries;

    @Param({"64"})
    public int queryDim;

    @Param({"7"})
    public int classes;

    /** Mask precision, optionally + key image: fp16 = fp16+raw; uint8+jpeg95 is the job's default. */
    @Param({"fp16", "fp32", "uint8+jpeg95"})
    public String precision;

    static StateCompaction compaction(String p) {
        String[] parts = p.split("\\+");
        MaskPrecision m = MaskPrecision.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT));
        if (parts.length == 1 || parts[1].equals("raw")) {
            return StateCompaction.masksOnly(m);
        }
        return new StateCompaction(m, KeyImageEncoding.JPEG, Integer.parseInt(parts[1].substring("jpeg".length())));
    }

    private KeyFrameState state;
    private DataOutputSerializer out;
    private byte[] bytes;
    private int w;
    private int h;

    @Setup
    public void setup() throws IOException {
        int[] hw = JmhInputs.size(size);
        int h = hw[0];
        int w = hw[1];
        SegmentorOutput so = new SegmentorOutput(JmhInputs.floats(queries * queryDim, 1),
                JmhInputs.floats(queries * (classes + 1), 2), JmhInputs.floats(queries * (h / 4) * (w / 4), 3),
                JmhInputs.labels(h, w, 4));
        state = KeyFrameState.of("jmh@1", 10, 1_700_000_000_000L, w, h, JmhInputs.rgb(h, w, 5), w, h, so,
                compaction(precision));
        this.w = w;
        this.h = h;
        out = new DataOutputSerializer(KeyFrameStateSerializer.serializedSize(state) + 64);
        KeyFrameStateSerializer.INSTANCE.serialize(state, out);
        bytes = out.getCopyOfBuffer();
    }

    @Benchmark
    public int serialize() throws IOException {
        out.clear();
        KeyFrameStateSerializer.INSTANCE.serialize(state, out);
        return out.length();
    }

    @Benchmark
    public KeyFrameState deserialize() throws IOException {
        return KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
    }

    /** What a propagated frame pays with RocksDB: deserialize, then decode the key image and widen the masks. */
    @Benchmark
    public int read() throws IOException {
        KeyFrameState s = KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(bytes));
        return s.image().length + s.maskLogits().length;
    }

    @Benchmark
    public KeyFrameState roundTrip() throws IOException {
        out.clear();
        KeyFrameStateSerializer.INSTANCE.serialize(state, out);
        return KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0,
                out.length()));
    }

    /** Creating the state from segmentor outputs includes the compaction (masks, and the JPEG encode if any). */
    @Benchmark
    public KeyFrameState compact() {
        return KeyFrameState.of("jmh@1", 10, 1_700_000_000_000L, 0, 0, state.image(), w, h,
                new SegmentorOutput(state.queries(), state.classLogits(), state.maskLogits(), null),
                compaction(precision));
    }
}
