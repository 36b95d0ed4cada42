package io.mpvss.format;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One raw record of the {@code frames} topic, carried through the job undecoded (the network between the source
 * and the keyed operator carries JPEG, not RGB). A Flink POJO made of arrays and primitives only, so that Flink
 * serialises it with its own serializers and never falls back to Kryo. Headers keep their order and repeats, as
 * in Kafka, so a dead letter is the original record unchanged.
 */
public class FrameRecord {

    /** Record key: the stream id (UTF-8); may be null for malformed input. */
    public String key;
    /** Record value: the encoded image. */
    public byte[] value;
    public String[] headerKeys = new String[0];
    public byte[][] headerValues = new byte[0][];
    /** Kafka record timestamp (epoch ms). */
    public long timestamp;
    public String topic;
    public int partition = -1;
    public long offset = -1;

    public FrameRecord() {}

    /** A well-formed frame record, for tests and tools. */
    public static FrameRecord of(String stream, long seq, long ts, byte[] image) {
        FrameRecord r = new FrameRecord();
        r.key = stream;
        r.value = image;
        r.timestamp = ts;
        r.addHeader(WireFormat.HEADER_SEQ, WireFormat.utf8(Long.toString(seq)));
        r.addHeader(WireFormat.HEADER_TS, WireFormat.utf8(Long.toString(ts)));
        return r;
    }

    /** The last value of header {@code name}, or null. (Kafka's lastHeader semantics.) */
    public byte[] header(String name) {
        for (int i = headerKeys.length - 1; i >= 0; i--) {
            if (name.equals(headerKeys[i])) {
                return headerValues[i];
            }
        }
        return null;
    }

    public String headerString(String name) {
        return WireFormat.utf8(header(name));
    }

    public FrameRecord addHeader(String name, byte[] value) {
        int n = headerKeys.length;
        headerKeys = Arrays.copyOf(headerKeys, n + 1);
        headerValues = Arrays.copyOf(headerValues, n + 1);
        headerKeys[n] = name;
        headerValues[n] = value;
        return this;
    }

    /** A copy without the headers named (used by tests to build malformed records). */
    public FrameRecord withoutHeader(String name) {
        FrameRecord r = copy();
        List<String> ks = new ArrayList<>();
        List<byte[]> vs = new ArrayList<>();
        for (int i = 0; i < headerKeys.length; i++) {
            if (!name.equals(headerKeys[i])) {
                ks.add(headerKeys[i]);
                vs.add(headerValues[i]);
            }
        }
        r.headerKeys = ks.toArray(new String[0]);
        r.headerValues = vs.toArray(new byte[0][]);
        return r;
    }

    /** A shallow copy (byte arrays are shared; nothing in the job mutates them). */
    public FrameRecord copy() {
        FrameRecord r = new FrameRecord();
        r.key = key;
        r.value = value;
        r.headerKeys = headerKeys.clone();
        r.headerValues = headerValues.clone();
        r.timestamp = timestamp;
        r.topic = topic;
        r.partition = partition;
        r.offset = offset;
        return r;
    }

    /**
     * The dead letter of this record: the record unchanged plus the error headers of docs/formats.md (error class,
     * message, time, and the source coordinates).
     */
    public FrameRecord asDeadLetter(String errorClass, String message) {
        FrameRecord r = copy();
        r.addHeader(WireFormat.DLQ_ERROR_CLASS, WireFormat.utf8(errorClass));
        r.addHeader(WireFormat.DLQ_ERROR_MESSAGE, WireFormat.utf8(message == null ? "" : message));
        r.addHeader(WireFormat.DLQ_ERROR_TS, WireFormat.utf8(Long.toString(System.currentTimeMillis())));
        if (topic != null) {
            r.addHeader(WireFormat.DLQ_SOURCE_TOPIC, WireFormat.utf8(topic));
            r.addHeader(WireFormat.DLQ_SOURCE_PARTITION, WireFormat.utf8(Integer.toString(partition)));
            r.addHeader(WireFormat.DLQ_SOURCE_OFFSET, WireFormat.utf8(Long.toString(offset)));
        }
        return r;
    }

    public FrameRecord asDeadLetter(InvalidFrameException e) {
        return asDeadLetter(e.errorClass(), e.getMessage());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FrameRecord)) {
            return false;
        }
        FrameRecord r = (FrameRecord) o;
        return timestamp == r.timestamp && partition == r.partition && offset == r.offset
                && Objects.equals(key, r.key) && Arrays.equals(value, r.value)
                && Arrays.equals(headerKeys, r.headerKeys) && Arrays.deepEquals(headerValues, r.headerValues)
                && Objects.equals(topic, r.topic);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, Arrays.hashCode(value), timestamp, offset);
    }

    @Override
    public String toString() {
        return "FrameRecord{key=" + key + ", bytes=" + (value == null ? -1 : value.length) + ", headers="
                + Arrays.toString(headerKeys) + ", ts=" + timestamp + ", " + topic + "/" + partition + "@" + offset + "}";
    }
}
