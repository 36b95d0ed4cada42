package io.mpvss.state;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Explicit serializer of {@link StreamCursor}. v1: u8 version=1 | i64 lastSeq | i64 lastTs | i32 framesSinceKey.
 */
public final class StreamCursorSerializer extends TypeSerializerSingleton<StreamCursor> {
    private static final long serialVersionUID = 1L;

    public static final int FORMAT_VERSION = 1;
    public static final StreamCursorSerializer INSTANCE = new StreamCursorSerializer();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public StreamCursor createInstance() {
        return new StreamCursor(-1, 0, 0);
    }

    @Override
    public StreamCursor copy(StreamCursor from) {
        return from;
    }

    @Override
    public StreamCursor copy(StreamCursor from, StreamCursor reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return 21;
    }

    @Override
    public void serialize(StreamCursor c, DataOutputView out) throws IOException {
        out.writeByte(FORMAT_VERSION);
        out.writeLong(c.lastSeq());
        out.writeLong(c.lastTs());
        out.writeInt(c.framesSinceKey());
    }

    @Override
    public StreamCursor deserialize(DataInputView in) throws IOException {
        int v = in.readUnsignedByte();
        if (v != 1) {
            throw new IOException("StreamCursor format version " + v + " is newer than this job (" + FORMAT_VERSION + ")");
        }
        return new StreamCursor(in.readLong(), in.readLong(), in.readInt());
    }

    @Override
    public StreamCursor deserialize(StreamCursor reuse, DataInputView in) throws IOException {
        return deserialize(in);
    }

    @Override
    public void copy(DataInputView in, DataOutputView out) throws IOException {
        out.write(in, 21);
    }

    @Override
    public TypeSerializerSnapshot<StreamCursor> snapshotConfiguration() {
        return new Snapshot();
    }

    /** Snapshot carrying the format version. */
    public static final class Snapshot extends VersionedSnapshot<StreamCursor> {
        public Snapshot() {
            super("StreamCursor", FORMAT_VERSION, INSTANCE);
        }
    }
}
