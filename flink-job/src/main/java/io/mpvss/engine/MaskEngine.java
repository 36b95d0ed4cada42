package io.mpvss.engine;

import io.mpvss.format.Frame;
import io.mpvss.format.FrameDecoder;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceException;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.model.PropagatorInput;
import io.mpvss.model.PropagatorOutput;
import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import io.mpvss.state.StreamCursor;
import java.util.Objects;

/**
 * The per-frame work of MPVSS, free of Flink: a stream's state and one of its frames in, the frame's mask document
 * and the stream's new state out. Decodes the frame, refuses a stale or duplicate seq, decides key frame or not
 * ({@link KeyFramePolicy}), runs the segmentor (key frame: the state is replaced, its mask logits compacted) or the
 * propagator (key -> current, never chained), and builds the {@link MaskDocument} at the frame's own resolution.
 *
 * <p>Whoever holds the state calls it: the Flink operator (keyed state), tests and tools (a map). The engine keeps
 * nothing between calls, so it is safe to share across streams; the model sessions it uses are shared per JVM by
 * {@link ModelBundle}. A frame that cannot be processed is an {@link InvalidFrameException} with its dead-letter
 * error class, and the state passed in stays the stream's state.
 */
public final class MaskEngine {

    /**
     * The outcome of one frame: the document to emit, the stream's new cursor, and the new key frame when this was
     * one (null otherwise: the stored key frame stays, so a propagated frame never rewrites it).
     */
    public record Step(MaskDocument document, StreamCursor cursor, KeyFrameState newKeyFrame,
            KeyFramePolicy.Reason reason, double inferenceMs) {

        public boolean keyFrame() {
            return reason != null;
        }
    }

    private final ModelBundle bundle;
    private final ModelManifest manifest;
    private final KeyFramePolicy policy;
    private final StateCompaction stateCompaction;
    private final long maxFramePixels;
    private final String[] classNames;

    private MaskEngine(Builder b) {
        this.bundle = b.bundle;
        this.manifest = b.bundle.manifest();
        int interval = b.keyInterval > 0 ? b.keyInterval : manifest.keyInterval();
        this.policy = new KeyFramePolicy(interval, b.maxSeqGap, b.maxTimeGapMs);
        this.stateCompaction = b.stateCompaction;
        this.maxFramePixels = b.maxFramePixels;
        this.classNames = manifest.classNames();
    }

    /**
     * An engine on an opened bundle. The builder starts from neutral values (the manifest's key interval, no gap
     * rules, no state compaction, no pixel limit), not from the job's defaults: those are declared once, in JobOptions, and
     * the operator passes them all.
     */
    public static Builder builder(ModelBundle bundle) {
        return new Builder(bundle);
    }

    public KeyFramePolicy policy() {
        return policy;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** One frame of a stream whose key frame and cursor are {@code key} and {@code cursor} (both null if none). */
    public Step process(Frame frame, KeyFrameState key, StreamCursor cursor) throws InvalidFrameException {
        if (cursor != null && frame.seq <= cursor.lastSeq()) {
            throw new InvalidFrameException(WireFormat.ERR_STALE_OR_DUPLICATE, "seq " + frame.seq + " of stream '"
                    + frame.stream() + "' is not above the last accepted seq " + cursor.lastSeq());
        }
        FrameDecoder.Rgb rgb = FrameDecoder.decode(frame.record, maxFramePixels);
        byte[] image = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), manifest.width(),
                manifest.height());
        KeyFramePolicy.Reason reason = policy.decide(key, cursor, bundle.modelId(), frame.seq, frame.captureTs,
                rgb.width(), rgb.height());

        long t0 = System.nanoTime();
        byte[] semantic;
        KeyFrameState newKey = null;
        long keySeq;
        int framesSinceKey;
        try {
            if (reason != null) {
                SegmentorOutput so = bundle.segment(image);
                newKey = KeyFrameState.of(bundle.modelId(), frame.seq, frame.captureTs, rgb.width(), rgb.height(),
                        image, manifest.width(), manifest.height(), so, stateCompaction);
                semantic = so.semantic();
                keySeq = frame.seq;
                framesSinceKey = 0;
            } else {
                PropagatorOutput po = bundle.propagate(new PropagatorInput(key.image(), image, key.queries(),
                        key.classLogits(), key.maskLogits()));
                semantic = po.semantic();
                keySeq = key.keySeq();
                framesSinceKey = cursor.framesSinceKey() + 1;
            }
        } catch (InferenceException | IllegalArgumentException e) {
            // IllegalArgumentException: tensors that do not fit the graphs (e.g. a state written by a bundle with
            // the same name@version but other sizes); the frame is reported, the stream's state stays.
            throw new InvalidFrameException(WireFormat.ERR_INFERENCE_FAILED, String.valueOf(e.getMessage()), e);
        }
        double inferenceMs = (System.nanoTime() - t0) / 1e6;

        MaskDocument doc = document(frame, rgb.width(), rgb.height(), semantic, reason, keySeq);
        return new Step(doc, new StreamCursor(frame.seq, frame.captureTs, framesSinceKey), newKey, reason,
                inferenceMs);
    }

    /** The mask document of a frame from the model-resolution label map. */
    private MaskDocument document(Frame frame, int width, int height, byte[] semantic, KeyFramePolicy.Reason reason,
            long keySeq) {
        byte[] labels = FrameDecoder.resizeNearest(semantic, manifest.width(), manifest.height(), width, height);
        MaskDocument doc = new MaskDocument();
        doc.setStream(frame.stream());
        doc.setSeq(frame.seq);
        doc.setCaptureTs(frame.captureTs);
        doc.setKeyFrame(reason != null);
        doc.setKeySeq(keySeq);
        doc.setKeyReason(reason == null ? null : reason.code());
        doc.setModel(bundle.modelId());
        doc.setWidth(width);
        doc.setHeight(height);
        doc.setLabelMapPng(LabelMapPng.encode(labels, width, height));
        doc.setClassNames(classNames);
        doc.setClassCounts(classCounts(labels, classNames.length));
        return doc;
    }

    /** Pixels per class id 0..k-1; other values (255 = no prediction) are not counted. */
    public static long[] classCounts(byte[] labels, int k) {
        long[] counts = new long[k];
        for (byte b : labels) {
            int c = b & 0xff;
            if (c < k) {
                counts[c]++;
            }
        }
        return counts;
    }

    /** Settings of an engine; zero for the key interval means the manifest's, zero for a gap disables its rule. */
    public static final class Builder {
        private final ModelBundle bundle;
        private int keyInterval;
        private long maxSeqGap;
        private long maxTimeGapMs;
        private StateCompaction stateCompaction = StateCompaction.FULL;
        private long maxFramePixels = Long.MAX_VALUE;

        private Builder(ModelBundle bundle) {
            this.bundle = Objects.requireNonNull(bundle, "bundle");
        }

        public Builder keyInterval(int v) { keyInterval = v; return this; }
        public Builder maxSeqGap(long v) { maxSeqGap = v; return this; }
        public Builder maxTimeGapMs(long v) { maxTimeGapMs = v; return this; }
        public Builder stateCompaction(StateCompaction v) { stateCompaction = Objects.requireNonNull(v); return this; }
        /** Only the mask precision of {@link #stateCompaction}; the key image stays as it is set there. */
        public Builder maskPrecision(MaskPrecision v) {
            stateCompaction = new StateCompaction(v, stateCompaction.keyImage(), stateCompaction.jpegQuality());
            return this;
        }
        public Builder maxFramePixels(long v) { maxFramePixels = v; return this; }

        public MaskEngine build() {
            return new MaskEngine(this);
        }
    }
}
