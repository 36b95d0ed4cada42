package io.mpvss.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * The explicit serializer of {@link KeyFrameState} (no Kryo, no POJO reflection): a stable, documented byte layout
 * that RocksDB and checkpoints hold. Every record starts with its format version byte, so that a later layout can
 * still read states written by this one; the serializer snapshot carries the same version.
 *
 * <pre>
 * v2: u8 version=2 | utf modelId | i64 keySeq | i64 keyTs | i32 frameWidth | i32 frameHeight
 *     | u8 imageEncoding (0 raw RGB, 1 JPEG) | i32 n + n bytes image
 *     | i32 n + n f32 queries | i32 n + n f32 classLogits
 *     | u8 maskPrecision (0 fp32, 1 fp16, 2 uint8)
 *     | uint8 only: i32 q + q f32 min + q f32 step (per query)
 *     | i32 n + n f32, n f16 or n u8 mask logits                                      (arrays little-endian)
 * v1: as v2 without the imageEncoding byte (always raw RGB) and without uint8; still read.
 * </pre>
 */
public final class KeyFrameStateSerializer extends TypeSerializerSingleton<KeyFrameState> {
    private static final long serialVersionUID = 1L;

    public static final int FORMAT_VERSION = 2;
    public static final KeyFrameStateSerializer INSTANCE = new KeyFrameStateSerializer();

    /** Bytes one stream's key frame takes in RocksDB and in checkpoints (the value, key and TTL aside). */
    public static int serializedSize(KeyFrameState state) {
        DataOutputSerializer out = new DataOutputSerializer(1024);
        try {
            INSTANCE.serialize(state, out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.length();
    }

    /**
     * Immutable: a {@link KeyFrameState} never changes after {@link KeyFrameState#of} or deserialization (only its
     * decoded caches are filled, once). So copies are the object itself: the heap backend's copy-on-write during a
     * checkpoint then neither clones the key frame's arrays nor loses its decoded key image (a deep copy had to decode
     * the JPEG again, once per stream per checkpoint).
     */
    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public KeyFrameState createInstance() {
        return new KeyFrameState();
    }

    @Override
    public KeyFrameState copy(KeyFrameState from) {
        return from;
    }

    @Override
    public KeyFrameState copy(KeyFrameState from, KeyFrameState reuse) {
        return copy(from);
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(KeyFrameState s, DataOutputView out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeUTF(s.modelId);
        out.writeLong(s.keySeq);
        out.writeLong(s.keyTs);
        out.writeInt(s.frameWidth);
        out.writeInt(s.frameHeight);
        out.writeByte(s.imageEncoding.tag);
        out.writeInt(s.imageBytes.length);
        out.write(s.imageBytes);
        writeFloats(s.queries, out);
        writeFloats(s.classLogits, out);
        out.writeByte(s.maskPrecision.tag);
        switch (s.maskPrecision) {
            case FP32 -> writeFloats(s.maskFp32, out);
            case FP16 -> {
                short[] m = s.maskFp16;
                ByteBuffer b = ByteBuffer.allocate(m.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                b.asShortBuffer().put(m);
                out.writeInt(m.length);
                out.write(b.array());
            }
            case UINT8 -> {
                out.writeInt(s.maskMin.length);
                writeRawFloats(s.maskMin, out);
                writeRawFloats(s.maskStep, out);
                out.writeInt(s.maskU8.length);
                out.write(s.maskU8);
            }
        }
    }

    @Override
    public KeyFrameState deserialize(DataInputView in) throws IOException {
        int version = in.readUnsignedByte();
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IOException("KeyFrameState format version " + version + " is unknown to this job (reads 1.."
                    + FORMAT_VERSION + ")");
        }
        KeyFrameState s = new KeyFrameState();
        s.modelId = in.readUTF();
        s.keySeq = in.readLong();
        s.keyTs = in.readLong();
        s.frameWidth = in.readInt();
        s.frameHeight = in.readInt();
        s.imageEncoding = version >= 2 ? KeyImageEncoding.ofTag(in.readByte()) : KeyImageEncoding.RAW;
        s.imageBytes = new byte[in.readInt()];
        in.readFully(s.imageBytes);
        s.queries = readFloats(in);
        s.classLogits = readFloats(in);
        s.maskPrecision = MaskPrecision.ofTag(in.readByte());
        switch (s.maskPrecision) {
            case FP32 -> s.maskFp32 = readFloats(in);
            case FP16 -> {
                int n = in.readInt();
                byte[] raw = new byte[n * 2];
                in.readFully(raw);
                s.maskFp16 = new short[n];
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asShortBuffer().get(s.maskFp16);
            }
            case UINT8 -> {
                int q = in.readInt();
                s.maskMin = readRawFloats(in, q);
                s.maskStep = readRawFloats(in, q);
                s.maskU8 = new byte[in.readInt()];
                in.readFully(s.maskU8);
            }
        }
        return s;
    }

    @Override
    public KeyFrameState deserialize(KeyFrameState reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        serialize(deserialize(in), out);
    }

    @Override
    public TypeSerializerSnapshot<KeyFrameState> snapshotConfiguration() {
        return new Snapshot();
    }

    static void writeFloats(float[] a, DataOutputView out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        out.writeInt(a.length);
        out.write(b.array());
    }

    private static void writeRawFloats(float[] a, DataOutputView out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        out.write(b.array());
    }

    private static float[] readRawFloats(DataInputView in, int n) throws IOException {
        byte[] raw = new byte[n * 4];
        in.readFully(raw);
        float[] a = new float[n];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
        return a;
    }

    static float[] readFloats(DataInputView in) throws IOException {
        int n = in.readInt();
        byte[] raw = new byte[n * 4];
        in.readFully(raw);
        float[] a = new float[n];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
        return a;
    }

    /**
     * Snapshot of the serializer: its format version. Every record carries its own version byte and this serializer
     * reads v1 and v2 records, so a checkpoint or savepoint of v1 restores as is (its records stay v1 in RocksDB until
     * the stream's next key frame rewrites them as v2).
     */
    public static final class Snapshot extends VersionedSnapshot<KeyFrameState> {
        public Snapshot() {
            super("KeyFrameState", FORMAT_VERSION, INSTANCE);
        }
    }
}
