package io.mpvss.operator;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The cheap checks before keyBy ({@link Frame#parse}: no image decoding). Records failing them never reach the
 * keyed operator; they go to the dead-letter side output {@link MaskPropagation#DEAD_LETTERS} unchanged plus error
 * headers. What passes is a {@link Frame}, whose seq and capture time are parsed here once.
 */
public class FrameValidator extends ProcessFunction<FrameRecord, Frame> {
    private static final long serialVersionUID = 1L;

    private final int maxFrameBytes;

    public FrameValidator(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void processElement(FrameRecord r, Context ctx, Collector<Frame> out) {
        try {
            out.collect(Frame.parse(r, maxFrameBytes));
        } catch (InvalidFrameException e) {
            ctx.output(MaskPropagation.DEAD_LETTERS, r.asDeadLetter(e));
        }
    }
}
