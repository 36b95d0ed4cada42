package io.mpvss.state;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * The snapshot of a state serializer whose only configuration is its format version. Every record of the project's
 * state carries its own version, and a serializer reads all older versions, so an old snapshot restores as is; a
 * snapshot written by a newer job (a version this job does not know) is refused with the type named.
 *
 * <p>Subclasses need a public no-argument constructor: Flink creates snapshots by reflection on restore.
 */
abstract class VersionedSnapshot<T> implements TypeSerializerSnapshot<T> {
    private final String type;
    private final int currentVersion;
    private final TypeSerializer<T> serializer;
    private int readVersion;

    VersionedSnapshot(String type, int currentVersion, TypeSerializer<T> serializer) {
        this.type = type;
        this.currentVersion = currentVersion;
        this.serializer = serializer;
        this.readVersion = currentVersion;
    }

    @Override
    public int getCurrentVersion() {
        return currentVersion;
    }

    @Override
    public void writeSnapshot(DataOutputView out) {}

    @Override
    public void readSnapshot(int version, DataInputView in, ClassLoader cl) throws IOException {
        if (version > currentVersion) {
            throw new IOException(type + " snapshot version " + version + " is newer than this job ("
                    + currentVersion + ")");
        }
        readVersion = version;
    }

    @Override
    public TypeSerializer<T> restoreSerializer() {
        return serializer;
    }

    @Override
    public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> old) {
        if (old.getClass() != getClass() || ((VersionedSnapshot<T>) old).readVersion > currentVersion) {
            return TypeSerializerSchemaCompatibility.incompatible();
        }
        return TypeSerializerSchemaCompatibility.compatibleAsIs();
    }
}
