package io.mpvss.operator;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The checks before keyBy ({@link Frame#parse}). Records failing them never reach the keyed operator; they go to the
 * dead-letter side output {@link MaskPropagation#DEAD_LETTERS} unchanged plus error headers. What passes is a
 * {@link Frame}, whose seq and capture time are parsed here once. With {@code frames.decode-before-keyby} the image
 * is also decoded and resized to the model's input size here, on the source's thread, so that decoding overlaps
 * inference on the keyed operator's thread (the exchange then carries the RGB pixels; undecodable images become
 * dead letters here).
 */
public class FrameValidator extends ProcessFunction<FrameRecord, Frame> {
    private static final long serialVersionUID = 1L;

    private final int maxFrameBytes;
    /** Model input size to decode to, or 0: the keyed operator decodes. */
    private final int modelWidth;
    private final int modelHeight;
    private final long maxFramePixels;
    private transient DeadLetterCounters deadLetters;

    /** Checks only; the keyed operator decodes. */
    public FrameValidator(int maxFrameBytes) {
        this(maxFrameBytes, 0, 0, Long.MAX_VALUE);
    }

    /** Checks, then decodes to the model's input size ({@code modelWidth} 0: no decoding). */
    public FrameValidator(int maxFrameBytes, int modelWidth, int modelHeight, long maxFramePixels) {
        this.maxFrameBytes = maxFrameBytes;
        this.modelWidth = modelWidth;
        this.modelHeight = modelHeight;
        this.maxFramePixels = maxFramePixels;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        deadLetters = DeadLetterCounters.register(getRuntimeContext().getMetricGroup());
    }

    @Override
    public void processElement(FrameRecord r, Context ctx, Collector<Frame> out) {
        try {
            Frame f = Frame.parse(r, maxFrameBytes);
            out.collect(modelWidth > 0 ? f.decodeTo(modelWidth, modelHeight, maxFramePixels) : f);
        } catch (InvalidFrameException e) {
            if (deadLetters != null) { // null when called without open() (unit tests of the checks alone)
                deadLetters.count(e.errorClass());
            }
            ctx.output(MaskPropagation.DEAD_LETTERS, r.asDeadLetter(e));
        }
    }
}
