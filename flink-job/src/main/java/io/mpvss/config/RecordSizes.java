package io.mpvss.config;

/**
 * Every Kafka size limit of the system, derived from the one setting {@code frames.max-bytes} (F), so that every
 * record the source can read can also be written to the dead-letter topic:
 *
 * <ul>
 *   <li>the job accepts frame values up to F bytes (larger: {@code oversized} dead letters);</li>
 *   <li>topic {@code frames}: {@code max.message.bytes} = F + {@link #HEADROOM_BYTES} (key, headers, batch
 *       overhead of a frame of F bytes);</li>
 *   <li>topic {@code frames-dlq}, the sinks' {@code max.request.size}, the local broker's {@code message.max.bytes}
 *       and the tools' clients: F + 2 x {@link #HEADROOM_BYTES} (a frame the {@code frames} topic let through, plus
 *       the error headers).</li>
 * </ul>
 *
 * A dead letter that still does not fit (a {@code frames} topic created with a larger limit) is written with its
 * value cut to fit and the header {@code mpvss.error.truncated} (docs/formats.md); it never fails the job.
 */
public final class RecordSizes {

    /** Room for key, headers and record-batch overhead above a frame's value (64 KiB). */
    public static final int HEADROOM_BYTES = 64 * 1024;
    /** Smallest sensible frames.max-bytes. */
    public static final int MIN_FRAME_BYTES = 1024;
    /** Largest frames.max-bytes: Kafka's sizes are ints, and a broker holds a record in memory (256 MiB). */
    public static final int MAX_FRAME_BYTES = 256 << 20;

    private RecordSizes() {}

    /** {@code max.message.bytes} of the frames topic for frames of up to {@code framesMaxBytes}. */
    public static int framesTopicBytes(int framesMaxBytes) {
        return checked(framesMaxBytes) + HEADROOM_BYTES;
    }

    /**
     * The largest dead letter: {@code max.message.bytes} of frames-dlq, {@code max.request.size} of the sinks,
     * {@code message.max.bytes} of a broker made for the job.
     */
    public static int deadLetterBytes(int framesMaxBytes) {
        return checked(framesMaxBytes) + 2 * HEADROOM_BYTES;
    }

    /**
     * The largest mask document (JSON value) the job writes to a masks topic of {@code masksMaxBytes}
     * ({@code masks.max-bytes}): the rest is room for the key and headers.
     */
    public static int maskDocumentBytes(int masksMaxBytes) {
        return checkedMasks(masksMaxBytes) - HEADROOM_BYTES;
    }

    /** {@code masks.max-bytes} itself, or an error naming the option and the accepted range. */
    public static int checkedMasks(int masksMaxBytes) {
        int min = HEADROOM_BYTES + MIN_FRAME_BYTES;
        if (masksMaxBytes < min || masksMaxBytes > MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("--" + JobOptions.MASKS_MAX_BYTES.key() + ": '" + masksMaxBytes
                    + "' is out of range: expected bytes between " + min + " and " + MAX_FRAME_BYTES);
        }
        return masksMaxBytes;
    }

    /** The value itself, or an error naming the option and the accepted range. */
    public static int checked(int framesMaxBytes) {
        if (framesMaxBytes < MIN_FRAME_BYTES || framesMaxBytes > MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("--" + JobOptions.FRAMES_MAX_BYTES.key() + ": '" + framesMaxBytes
                    + "' is out of range: expected bytes between " + MIN_FRAME_BYTES + " and " + MAX_FRAME_BYTES);
        }
        return framesMaxBytes;
    }
}
