package io.mpvss.format;

import java.util.Objects;

/**
 * A frame record that passed the cheap checks ({@link #parse}): the record, unchanged and still encoded, plus its
 * stream id, seq and capture time, parsed once. What the keyed operator and the engine take, so nothing downstream
 * of the validator parses or checks a header again. A Flink POJO (public fields, no-arg constructor) so it crosses
 * Flink's network with Flink's own serializer.
 */
public class Frame {

    /** The original record (its key is the stream id); a dead letter is made from it unchanged. */
    public FrameRecord record;
    /** {@code mpvss.seq}, per stream, >= 0. */
    public long seq;
    /** {@code mpvss.ts}, capture time in epoch ms. */
    public long captureTs;
    /**
     * The image already decoded and resized to the model's input size (RGB24), when the validator decoded it
     * ({@code frames.decode-before-keyby}); null when the keyed operator decodes {@link #record} itself.
     */
    public byte[] modelRgb;
    /** The frame's own width and height, set with {@link #modelRgb}. */
    public int width;
    public int height;

    public Frame() {}

    public Frame(FrameRecord record, long seq, long captureTs) {
        this.record = record;
        this.seq = seq;
        this.captureTs = captureTs;
    }

    /**
     * The rules a record must pass before it is keyed (no image decoding): a stream id, a seq >= 0 and a capture
     * time >= 0 (both decimal headers), and a value that is not empty and not over {@code maxFrameBytes}.
     */
    public static Frame parse(FrameRecord r, int maxFrameBytes) throws InvalidFrameException {
        if (r.key == null || r.key.isEmpty()) {
            throw new InvalidFrameException(WireFormat.ERR_EMPTY_KEY, "record key (stream id) is null or empty");
        }
        long seq = WireFormat.longHeader(r, WireFormat.HEADER_SEQ);
        if (seq < 0) {
            throw new InvalidFrameException(WireFormat.ERR_BAD_HEADER, "header " + WireFormat.HEADER_SEQ
                    + " must be >= 0, found " + seq);
        }
        long ts = WireFormat.longHeader(r, WireFormat.HEADER_TS);
        if (ts < 0) {
            // capture time is epoch ms: a negative one is a producer bug, and would also break the time-gap rule
            throw new InvalidFrameException(WireFormat.ERR_BAD_HEADER, "header " + WireFormat.HEADER_TS
                    + " must be >= 0 (epoch ms), found " + ts);
        }
        if (r.value == null || r.value.length == 0) {
            throw new InvalidFrameException(WireFormat.ERR_UNDECODABLE_IMAGE, "record value is empty");
        }
        if (r.value.length > maxFrameBytes) {
            throw new InvalidFrameException(WireFormat.ERR_OVERSIZED, "record value has " + r.value.length
                    + " bytes, limit frames.max-bytes is " + maxFrameBytes);
        }
        return new Frame(r, seq, ts);
    }

    /**
     * Decodes the image and resizes it to {@code modelWidth x modelHeight} (what the keyed operator would do), so
     * that this work runs where the frame enters the job, in parallel with inference.
     */
    public Frame decodeTo(int modelWidth, int modelHeight, long maxPixels) throws InvalidFrameException {
        FrameDecoder.Rgb rgb = FrameDecoder.decode(record, maxPixels);
        modelRgb = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), modelWidth, modelHeight);
        width = rgb.width();
        height = rgb.height();
        return this;
    }

    /** The stream id (the record key). */
    public String stream() {
        return record.key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frame f && seq == f.seq && captureTs == f.captureTs && Objects.equals(record, f.record)
                && width == f.width && height == f.height && java.util.Arrays.equals(modelRgb, f.modelRgb);
    }

    @Override
    public int hashCode() {
        return Objects.hash(record, seq, captureTs);
    }

    @Override
    public String toString() {
        return "Frame{" + stream() + " seq=" + seq + " ts=" + captureTs + "}";
    }
}
