package io.mpvss.eval;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;

/**
 * One output of the job under evaluation: a mask document, or a frame the job rejected to its dead-letter output.
 * Both outputs travel in one stream to one sink, so that the client sees them in the order they were emitted. A
 * Flink POJO (public fields, no-argument constructor): the job runs with generic (Kryo) types disabled.
 */
public final class EvalOutput {

    /** The mask document, or null for a dead letter. */
    public MaskDocument mask;
    /** The rejected frame with its {@code mpvss.error.*} headers, or null for a mask. */
    public FrameRecord deadLetter;

    public EvalOutput() {
    }

    public static EvalOutput mask(MaskDocument mask) {
        EvalOutput o = new EvalOutput();
        o.mask = mask;
        return o;
    }

    public static EvalOutput deadLetter(FrameRecord frame) {
        EvalOutput o = new EvalOutput();
        o.deadLetter = frame;
        return o;
    }

    public boolean isDeadLetter() {
        return deadLetter != null;
    }
}
