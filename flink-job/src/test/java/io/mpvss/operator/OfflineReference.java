package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.PropagatorInput;
import io.mpvss.model.SegmentorOutput;

/**
 * The tests' oracle for one stream: the same graphs called directly through {@link ModelBundle}, with key frames where
 * the caller says and the same state compaction of the key frame ({@link KeyFrameState#of}: key image and masks read
 * back as the propagator gets them), but none of the operator's code. Used by the
 * harness test and (through this module's test-jar) by the end-to-end test, so "streaming equals offline" means one
 * thing in both.
 */
public final class OfflineReference {
    private final ModelBundle bundle;
    private final StateCompaction compaction;
    private KeyFrameState key;

    public OfflineReference(ModelBundle bundle, StateCompaction compaction) {
        this.bundle = bundle;
        this.compaction = compaction;
    }

    /** Only the masks compacted; the raw key image. */
    public OfflineReference(ModelBundle bundle, MaskPrecision precision) {
        this(bundle, StateCompaction.masksOnly(precision));
    }

    /** The job's default state compaction (state.mask-precision, state.key-image, its JPEG quality). */
    public static OfflineReference withJobDefaults(ModelBundle bundle) {
        return new OfflineReference(bundle, new StateCompaction(JobOptions.STATE_MASK_PRECISION.defaultValue(),
                JobOptions.STATE_KEY_IMAGE.defaultValue(), JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY.defaultValue()));
    }

    /** The label map of the next frame of the stream, at the frame's own resolution. */
    public byte[] next(FrameRecord frame, boolean isKey) throws Exception {
        FrameDecoder.Rgb rgb = FrameDecoder.decode(frame, Long.MAX_VALUE);
        int mw = bundle.manifest().width();
        int mh = bundle.manifest().height();
        byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), mw, mh);
        byte[] sem;
        if (isKey) {
            SegmentorOutput so = bundle.segment(img);
            key = KeyFrameState.of("offline", 0, 0, rgb.width(), rgb.height(), img, mw, mh, so, compaction);
            sem = so.semantic();
        } else {
            sem = bundle.propagate(new PropagatorInput(key.image(), img, key.queries(), key.classLogits(),
                    key.maskLogits())).semantic();
        }
        return FrameDecoder.resizeNearest(sem, mw, mh, rgb.width(), rgb.height());
    }
}
