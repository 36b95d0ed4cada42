package io.mpvss.format;

import java.nio.charset.StandardCharsets;

/**
 * The Kafka wire formats of the job, in one place: topic defaults, header names and the machine error codes of
 * the dead-letter topic. Header values are plain UTF-8 decimal strings so that any Kafka client can write and read
 * them (see docs/formats.md).
 */
public final class WireFormat {

    public static final String DEFAULT_FRAMES_TOPIC = "frames";
    public static final String DEFAULT_MASKS_TOPIC = "masks";
    public static final String DEFAULT_DLQ_TOPIC = "frames-dlq";

    /** Per-stream sequence number, a decimal long that increases by one per captured frame. */
    public static final String HEADER_SEQ = "mpvss.seq";
    /** Capture time, epoch milliseconds (decimal). Producers also set it as the record timestamp. */
    public static final String HEADER_TS = "mpvss.ts";
    /** Width of a raw RGB24 frame (required for raw only). */
    public static final String HEADER_WIDTH = "mpvss.width";
    /** Height of a raw RGB24 frame (required for raw only). */
    public static final String HEADER_HEIGHT = "mpvss.height";
    /** Optional encoding: jpeg|png|rgb24; sniffed from the magic bytes when absent. */
    public static final String HEADER_ENCODING = "mpvss.encoding";

    public static final String DLQ_ERROR_CLASS = "mpvss.error.class";
    public static final String DLQ_ERROR_MESSAGE = "mpvss.error.message";
    public static final String DLQ_ERROR_TS = "mpvss.error.ts";
    public static final String DLQ_SOURCE_TOPIC = "mpvss.source.topic";
    public static final String DLQ_SOURCE_PARTITION = "mpvss.source.partition";
    public static final String DLQ_SOURCE_OFFSET = "mpvss.source.offset";
    /**
     * Set only on a dead letter whose value was cut to fit the dead-letter topic's record size: the original value's
     * length in bytes (decimal). Its value is then the first bytes of the original.
     */
    public static final String DLQ_TRUNCATED = "mpvss.error.truncated";

    /** Error classes (values of {@link #DLQ_ERROR_CLASS}). */
    public static final String ERR_EMPTY_KEY = "empty-key";
    public static final String ERR_MISSING_HEADER = "missing-header";
    public static final String ERR_BAD_HEADER = "bad-header";
    public static final String ERR_OVERSIZED = "oversized";
    public static final String ERR_UNDECODABLE_IMAGE = "undecodable-image";
    public static final String ERR_STALE_OR_DUPLICATE = "stale-or-duplicate";
    public static final String ERR_INFERENCE_FAILED = "inference-failed";
    public static final String ERR_MASK_TOO_LARGE = "mask-too-large";

    public static final String ENCODING_JPEG = "jpeg";
    public static final String ENCODING_PNG = "png";
    public static final String ENCODING_RGB24 = "rgb24";

    /** Label value for "no prediction" in label maps. */
    public static final int NO_LABEL = 255;

    private WireFormat() {}

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String utf8(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    /**
     * Parses a required decimal long header.
     *
     * @throws InvalidFrameException {@code missing-header} when absent, {@code bad-header} when not a decimal long
     */
    public static long longHeader(FrameRecord record, String name) throws InvalidFrameException {
        byte[] v = record.header(name);
        if (v == null) {
            throw new InvalidFrameException(ERR_MISSING_HEADER, "header " + name + " is missing");
        }
        String s = utf8(v).trim();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new InvalidFrameException(
                    ERR_BAD_HEADER, "header " + name + " is not a decimal long: '" + abbreviate(s) + "'");
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
