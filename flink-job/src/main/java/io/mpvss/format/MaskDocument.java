package io.mpvss.format;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The value of a {@code masks} record: one JSON document per frame (schema {@value #SCHEMA}, docs/formats.md).
 *
 * <p>Also a Flink POJO (getters/setters, arrays and primitives only) so that it crosses Flink's network with
 * Flink's own serializer. Per-class pixel counts are held as two parallel arrays, in the manifest's class-id
 * order, because a map would lose that order inside Flink; the JSON shows them as an ordered object.
 */
@JsonPropertyOrder({"schema", "stream", "seq", "capture_ts", "key_frame", "key_seq", "key_reason", "key_interval", "shed", "model",
        "width", "height", "label_map_png", "class_pixels", "processing_ms", "emitted_ts"})
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonIgnoreProperties(ignoreUnknown = true)
public class MaskDocument {

    public static final String SCHEMA = "mpvss.masks/1";

    private static final ObjectMapper JSON = new ObjectMapper();

    @JsonProperty("schema")
    private String schema = SCHEMA;
    @JsonProperty("stream")
    private String stream;
    @JsonProperty("seq")
    private long seq;
    @JsonProperty("capture_ts")
    private long captureTs;
    @JsonProperty("key_frame")
    private boolean keyFrame;
    @JsonProperty("key_seq")
    private long keySeq;
    @JsonProperty("key_reason")
    private String keyReason;
    /** The key interval in force for the stream (raised under overload); optional, absent when not known. */
    @JsonProperty("key_interval")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Integer keyInterval;
    /**
     * Optional, true only on a frame shed under overload (overload.shed-lag): not inferred, its label map is the
     * stream's last one repeated. Absent otherwise.
     */
    @JsonProperty("shed")
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private Boolean shed;
    @JsonProperty("model")
    private String model;
    @JsonProperty("width")
    private int width;
    @JsonProperty("height")
    private int height;
    /** PNG bytes; Jackson writes byte[] as base64, which is what the schema says. */
    @JsonProperty("label_map_png")
    private byte[] labelMapPng;
    @JsonIgnore
    private String[] classNames = new String[0];
    @JsonIgnore
    private long[] classCounts = new long[0];
    @JsonProperty("processing_ms")
    private double processingMs;
    @JsonProperty("emitted_ts")
    private long emittedTs;

    public MaskDocument() {}

    public static MaskDocument fromJson(byte[] json) {
        try {
            return JSON.readValue(json, MaskDocument.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not a " + SCHEMA + " document: " + e.getMessage(), e);
        }
    }

    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Class name -> pixel count, in class-id order. */
    @JsonProperty("class_pixels")
    public Map<String, Long> classPixels() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < classNames.length; i++) {
            m.put(classNames[i], classCounts[i]);
        }
        return m;
    }

    @JsonProperty("class_pixels")
    public void classPixels(Map<String, Long> m) {
        classNames = m.keySet().toArray(new String[0]);
        classCounts = m.values().stream().mapToLong(Long::longValue).toArray();
    }

    /** The decoded label map (frame resolution), convenience for consumers and tests. */
    @JsonIgnore
    public byte[] labels() {
        return LabelMapPng.decode(labelMapPng);
    }

    public String getSchema() { return schema; }
    public void setSchema(String schema) { this.schema = schema; }
    public String getStream() { return stream; }
    public void setStream(String stream) { this.stream = stream; }
    public long getSeq() { return seq; }
    public void setSeq(long seq) { this.seq = seq; }
    public long getCaptureTs() { return captureTs; }
    public void setCaptureTs(long captureTs) { this.captureTs = captureTs; }
    public boolean isKeyFrame() { return keyFrame; }
    public void setKeyFrame(boolean keyFrame) { this.keyFrame = keyFrame; }
    public long getKeySeq() { return keySeq; }
    public void setKeySeq(long keySeq) { this.keySeq = keySeq; }
    public String getKeyReason() { return keyReason; }
    public void setKeyReason(String keyReason) { this.keyReason = keyReason; }
    public Integer getKeyInterval() { return keyInterval; }
    public void setKeyInterval(Integer keyInterval) { this.keyInterval = keyInterval; }
    public Boolean getShed() { return shed; }
    public void setShed(Boolean shed) { this.shed = shed; }
    public String getModel() { return model; }
    public void setModel(String model) { this.model = model; }
    public int getWidth() { return width; }
    public void setWidth(int width) { this.width = width; }
    public int getHeight() { return height; }
    public void setHeight(int height) { this.height = height; }
    public byte[] getLabelMapPng() { return labelMapPng; }
    public void setLabelMapPng(byte[] labelMapPng) { this.labelMapPng = labelMapPng; }
    @JsonIgnore
    public String[] getClassNames() { return classNames; }
    @JsonIgnore
    public void setClassNames(String[] classNames) { this.classNames = classNames; }
    @JsonIgnore
    public long[] getClassCounts() { return classCounts; }
    @JsonIgnore
    public void setClassCounts(long[] classCounts) { this.classCounts = classCounts; }
    public double getProcessingMs() { return processingMs; }
    public void setProcessingMs(double processingMs) { this.processingMs = processingMs; }
    public long getEmittedTs() { return emittedTs; }
    public void setEmittedTs(long emittedTs) { this.emittedTs = emittedTs; }

    /** A copy sharing the (never modified) label map bytes and class arrays. */
    public MaskDocument copy() {
        MaskDocument d = new MaskDocument();
        d.schema = schema;
        d.stream = stream;
        d.seq = seq;
        d.captureTs = captureTs;
        d.keyFrame = keyFrame;
        d.keySeq = keySeq;
        d.keyReason = keyReason;
        d.keyInterval = keyInterval;
        d.shed = shed;
        d.model = model;
        d.width = width;
        d.height = height;
        d.labelMapPng = labelMapPng;
        d.classNames = classNames;
        d.classCounts = classCounts;
        d.processingMs = processingMs;
        d.emittedTs = emittedTs;
        return d;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MaskDocument)) {
            return false;
        }
        MaskDocument d = (MaskDocument) o;
        return seq == d.seq && captureTs == d.captureTs && keyFrame == d.keyFrame && keySeq == d.keySeq
                && width == d.width && height == d.height && Double.compare(processingMs, d.processingMs) == 0
                && emittedTs == d.emittedTs && java.util.Objects.equals(schema, d.schema)
                && java.util.Objects.equals(stream, d.stream) && java.util.Objects.equals(keyReason, d.keyReason)
                && java.util.Objects.equals(keyInterval, d.keyInterval) && java.util.Objects.equals(shed, d.shed)
                && java.util.Objects.equals(model, d.model) && Arrays.equals(labelMapPng, d.labelMapPng)
                && Arrays.equals(classNames, d.classNames) && Arrays.equals(classCounts, d.classCounts);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(stream, seq, keySeq);
    }

    @Override
    public String toString() {
        return "MaskDocument{" + stream + "#" + seq + (keyFrame ? " key(" + keyReason + ")" : " <- " + keySeq)
                + ", " + width + "x" + height + ", " + model + "}";
    }
}
