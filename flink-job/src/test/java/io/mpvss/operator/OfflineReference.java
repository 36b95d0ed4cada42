package io.mpvss.operator;

import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.PropagatorInput;
import io.mpvss.model.SegmentorOutput;

/**
 * The tests' oracle for one stream: the same graphs called directly through {@link ModelBundle}, with key frames where
 * the caller says and the same state round trip of the key masks, but none of the operator's code. Used by the
 * harness test and (through this module's test-jar) by the end-to-end test, so "streaming equals offline" means one
 * thing in both.
 */
public final class OfflineReference {
    private final ModelBundle bundle;
    private final MaskPrecision precision;
    private byte[] keyImage;
    private SegmentorOutput key;
    private float[] keyMasks;

    public OfflineReference(ModelBundle bundle, MaskPrecision precision) {
        this.bundle = bundle;
        this.precision = precision;
    }

    /** The label map of the next frame of the stream, at the frame's own resolution. */
    public byte[] next(FrameRecord frame, boolean isKey) throws Exception {
        FrameDecoder.Rgb rgb = FrameDecoder.decode(frame, Long.MAX_VALUE);
        int mw = bundle.manifest().width();
        int mh = bundle.manifest().height();
        byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), mw, mh);
        byte[] sem;
        if (isKey) {
            key = bundle.segment(img);
            keyImage = img;
            keyMasks = KeyFrameState.compactRoundTrip(key.maskLogits(), precision);
            sem = key.semantic();
        } else {
            sem = bundle.propagate(new PropagatorInput(keyImage, img, key.queries(), key.classLogits(), keyMasks))
                    .semantic();
        }
        return FrameDecoder.resizeNearest(sem, mw, mh, rgb.width(), rgb.height());
    }
}
