package io.mpvss.operator;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.WireFormat;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The cheap checks before keyBy (no image decoding): a stream id, a seq and a capture time, and a value under the
 * size limit. Records failing them never reach the keyed operator; they go to the dead-letter side output
 * {@link MaskPropagation#DEAD_LETTERS} unchanged plus error headers.
 */
public class FrameValidator extends ProcessFunction<FrameRecord, FrameRecord> {
    private static final long serialVersionUID = 1L;

    private final int maxFrameBytes;

    public FrameValidator(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void processElement(FrameRecord r, Context ctx, Collector<FrameRecord> out) {
        try {
            check(r, maxFrameBytes);
            out.collect(r);
        } catch (InvalidFrameException e) {
            ctx.output(MaskPropagation.DEAD_LETTERS, r.asDeadLetter(e));
        }
    }

    /** The rules, shared with the keyed operator (which re-checks for pipelines built without this step). */
    public static void check(FrameRecord r, int maxFrameBytes) throws InvalidFrameException {
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
    }
}
