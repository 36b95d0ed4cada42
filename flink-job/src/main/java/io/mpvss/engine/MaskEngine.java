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
import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import io.mpvss.state.StreamCursor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

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
 *
 * <p><b>Batches.</b> {@link #processBatch} runs the frames of several streams through one segmentor call (the key
 * frames) and one propagator call (the others), which a GPU needs to be used at all. A stream's second frame in a
 * batch depends on its first one's key decision and new state, so a batch is cut into rounds: round r holds the
 * r-th frame of each stream in the batch, and rounds run one after the other, each reading the state the previous
 * one wrote. The state is read and written through {@link States}, once per frame, so the Flink operator can set
 * the current key per frame.
 */
public final class MaskEngine {

    /**
     * The outcome of one frame: the document to emit, the stream's new cursor, the new key frame when this was
     * one (null otherwise: the stored key frame stays, so a propagated frame never rewrites it), and the key
     * interval in force for the stream after this frame (see {@link OverloadPolicy}).
     */
    public record Step(MaskDocument document, StreamCursor cursor, KeyFrameState newKeyFrame,
            KeyFramePolicy.Reason reason, double inferenceMs, int keyInterval) {

        public boolean keyFrame() {
            return reason != null;
        }

        /** Shed under overload: not inferred, the stream's last mask repeated. */
        public boolean shed() {
            return Boolean.TRUE.equals(document.getShed());
        }
    }

    /** A stream's state as the engine reads it: key frame and cursor (null if none), interval in force (0 = base). */
    public record StreamState(KeyFrameState key, StreamCursor cursor, int keyInterval) {
        public static final StreamState NONE = new StreamState(null, null, 0);
    }

    /** Where {@link #processBatch} reads and writes the streams' state (keyed state in the operator, a map elsewhere). */
    public interface States {
        StreamState read(String stream) throws Exception;

        /** Called once per frame that succeeded, in the stream's order, before the stream's next frame is read. */
        void write(String stream, Step step) throws Exception;
    }

    /** One frame's result in a batch: a step, or the error that sends it to the dead letters (state untouched). */
    public record Outcome(Frame frame, Step step, InvalidFrameException error) {}

    private final ModelBundle bundle;
    private final ModelManifest manifest;
    private final KeyFramePolicy policy;
    private final StateCompaction stateCompaction;
    private final OverloadPolicy overload;
    private final LongSupplier clock;
    private final long maxFramePixels;
    private final int maxMaskDocumentBytes;
    private final long shedLagMs;
    /**
     * The last document emitted per stream, for shedding (overload.shed-lag): in memory only, at most
     * {@link #LAST_MASKS} streams (least recently used dropped). Empty after a restart, so a stream's first frames
     * after one are inferred before any is shed.
     */
    private final Map<String, MaskDocument> lastMasks = new java.util.LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, MaskDocument> eldest) {
            return size() > LAST_MASKS;
        }
    };
    /** Streams whose last mask is kept for shedding, per engine (one per operator instance). */
    static final int LAST_MASKS = 4096;
    private final String[] classNames;

    private MaskEngine(Builder b) {
        this.bundle = b.bundle;
        this.manifest = b.bundle.manifest();
        int interval = b.keyInterval > 0 ? b.keyInterval : manifest.keyInterval();
        this.policy = new KeyFramePolicy(interval, b.maxSeqGap, b.maxTimeGapMs);
        this.stateCompaction = b.stateCompaction;
        int maxInterval = b.maxKeyInterval > 0 ? b.maxKeyInterval : 2 * interval;
        this.overload = new OverloadPolicy(interval, maxInterval, b.lagBoundMs, b.stagger);
        this.clock = b.clock;
        this.maxFramePixels = b.maxFramePixels;
        this.maxMaskDocumentBytes = b.maxMaskDocumentBytes;
        this.shedLagMs = b.shedLagMs;
        this.classNames = manifest.classNames();
    }

    /**
     * An engine on an opened bundle. The builder starts from neutral values (the manifest's key interval, no gap
     * rules, no overload rule, no state compaction, no pixel limit), not from the job's defaults: those are declared once, in
     * JobOptions, and the operator passes them all.
     */
    public static Builder builder(ModelBundle bundle) {
        return new Builder(bundle);
    }

    public KeyFramePolicy policy() {
        return policy;
    }

    public OverloadPolicy overload() {
        return overload;
    }

    public ModelManifest manifest() {
        return manifest;
    }

    /** One frame of a stream whose key frame and cursor are {@code key} and {@code cursor} (both null if none). */
    public Step process(Frame frame, KeyFrameState key, StreamCursor cursor) throws InvalidFrameException {
        return process(frame, new StreamState(key, cursor, 0));
    }

    /** One frame of a stream in state {@code state}. */
    public Step process(Frame frame, StreamState state) throws InvalidFrameException {
        Step[] result = new Step[1];
        Outcome o;
        try {
            o = processBatch(List.of(frame), new States() {
                @Override
                public StreamState read(String stream) {
                    return state;
                }

                @Override
                public void write(String stream, Step step) {
                    result[0] = step;
                }
            }).get(0);
        } catch (InvalidFrameException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e); // the States above throw nothing
        }
        if (o.error() != null) {
            throw o.error();
        }
        return result[0];
    }

    /**
     * Frames of any streams, in arrival order; one outcome per frame, in the same order. Each round (at most one
     * frame per stream, see the class comment) makes one segmentor call for its key frames and one propagator call
     * for the others; a frame's state is read just before and written just after its round. A bad frame is an
     * outcome with an error and does not affect the others. Exceptions of {@code states} are passed on.
     */
    public List<Outcome> processBatch(List<Frame> frames, States states) throws Exception {
        Outcome[] outcomes = new Outcome[frames.size()];
        // round of each frame = how many frames of its stream came before it in this batch
        Map<String, Integer> seen = new HashMap<>();
        List<List<Integer>> rounds = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            int r = seen.merge(frames.get(i).stream(), 1, Integer::sum) - 1;
            if (r == rounds.size()) {
                rounds.add(new ArrayList<>());
            }
            rounds.get(r).add(i);
        }
        for (List<Integer> round : rounds) {
            runRound(frames, round, states, outcomes);
        }
        return List.of(outcomes);
    }

    /** A frame of a round, decoded and decided, waiting for its inference call. */
    private static final class Pending {
        final int index;
        final Frame frame;
        final StreamState state;
        final int width;
        final int height;
        final byte[] image;
        final KeyFramePolicy.Reason reason;
        final int keyInterval;
        byte[] semantic;
        SegmentorOutput segmented;
        InvalidFrameException error;

        Pending(int index, Frame frame, StreamState state, int width, int height, byte[] image,
                KeyFramePolicy.Reason reason, int keyInterval) {
            this.index = index;
            this.frame = frame;
            this.state = state;
            this.width = width;
            this.height = height;
            this.image = image;
            this.reason = reason;
            this.keyInterval = keyInterval;
        }
    }

    private void runRound(List<Frame> frames, List<Integer> round, States states, Outcome[] outcomes)
            throws Exception {
        List<Pending> keys = new ArrayList<>();
        List<Pending> propagated = new ArrayList<>();
        long now = clock.getAsLong();
        for (int i : round) {
            Frame frame = frames.get(i);
            StreamState state = states.read(frame.stream());
            try {
                Step shed = shed(frame, state == null ? StreamState.NONE : state, now);
                if (shed != null) {
                    states.write(frame.stream(), shed);
                    outcomes[i] = new Outcome(frame, shed, null);
                    continue;
                }
                Pending p = prepare(i, frame, state == null ? StreamState.NONE : state, now);
                (p.reason != null ? keys : propagated).add(p);
            } catch (InvalidFrameException e) {
                outcomes[i] = new Outcome(frame, null, e);
            }
        }
        long t0 = System.nanoTime();
        if (!keys.isEmpty()) {
            segment(keys);
        }
        if (!propagated.isEmpty()) {
            propagate(propagated);
        }
        // the round's inference time, shared by its frames (one call per graph)
        double inferenceMs = (System.nanoTime() - t0) / 1e6;
        for (List<Pending> group : List.of(keys, propagated)) {
            for (Pending p : group) {
                if (p.error != null) {
                    outcomes[p.index] = new Outcome(p.frame, null, p.error);
                    continue;
                }
                Step step = finish(p, inferenceMs);
                states.write(p.frame.stream(), step);
                InvalidFrameException tooLarge = tooLarge(step.document());
                if (shedLagMs > 0 && tooLarge == null) {
                    lastMasks.put(p.frame.stream(), step.document());
                }
                // the state moves on either way: the frame was processed, only its mask cannot be delivered
                outcomes[p.index] = tooLarge == null ? new Outcome(p.frame, step, null)
                        : new Outcome(p.frame, null, tooLarge);
            }
        }
    }

    /**
     * Load shedding: a frame lagging by more than {@code shedLagMs} is not decoded or inferred when its stream has a
     * key frame and a last mask of the frame's size; its document repeats that mask (same key seq), says
     * {@code "shed": true}, and the cursor moves on as for a propagated frame. Null: infer the frame as usual (rule
     * off, not late enough, stale, nothing to repeat, or a new size).
     */
    private Step shed(Frame frame, StreamState state, long now) throws InvalidFrameException {
        if (shedLagMs <= 0 || now - frame.captureTs <= shedLagMs || state.key() == null || state.cursor() == null
                || frame.seq <= state.cursor().lastSeq()) {
            return null;
        }
        MaskDocument last = lastMasks.get(frame.stream());
        if (last == null || last.getKeySeq() != state.key().keySeq()) {
            return null;
        }
        int[] size = FrameDecoder.declaredSize(frame.record);
        if (size[0] != last.getWidth() || size[1] != last.getHeight()) {
            return null;
        }
        int interval = overload.interval(state.keyInterval(), now - frame.captureTs);
        MaskDocument doc = last.copy();
        doc.setSeq(frame.seq);
        doc.setCaptureTs(frame.captureTs);
        doc.setKeyFrame(false);
        doc.setKeyReason(null);
        doc.setKeyInterval(interval);
        doc.setShed(Boolean.TRUE);
        StreamCursor cursor = new StreamCursor(frame.seq, frame.captureTs, state.cursor().framesSinceKey() + 1);
        return new Step(doc, cursor, null, null, 0, interval);
    }

    /** Stale check, decode, resize, interval in force, key decision: everything before inference. */
    private Pending prepare(int index, Frame frame, StreamState state, long now) throws InvalidFrameException {
        StreamCursor cursor = state.cursor();
        if (cursor != null && frame.seq <= cursor.lastSeq()) {
            throw new InvalidFrameException(WireFormat.ERR_STALE_OR_DUPLICATE, "seq " + frame.seq + " of stream '"
                    + frame.stream() + "' is not above the last accepted seq " + cursor.lastSeq());
        }
        int width;
        int height;
        byte[] image;
        if (frame.modelRgb != null && frame.modelRgb.length == manifest.width() * manifest.height() * 3) {
            // decoded before keyBy (frames.decode-before-keyby)
            image = frame.modelRgb;
            width = frame.width;
            height = frame.height;
        } else {
            FrameDecoder.Rgb rgb = FrameDecoder.decode(frame.record, maxFramePixels);
            image = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), manifest.width(),
                    manifest.height());
            width = rgb.width();
            height = rgb.height();
        }
        int interval = overload.interval(state.keyInterval(), now - frame.captureTs);
        KeyFramePolicy.Reason reason = policy.decide(state.key(), cursor, bundle.modelId(), frame.seq,
                frame.captureTs, width, height, interval);
        return new Pending(index, frame, state, width, height, image, reason, interval);
    }

    private void segment(List<Pending> ps) {
        infer(ps, p -> p.image, bundle::segment, (p, out) -> {
            p.segmented = out;
            p.semantic = out.semantic();
        });
    }

    private void propagate(List<Pending> ps) {
        infer(ps, p -> {
            KeyFrameState key = p.state.key();
            return new PropagatorInput(key.image(), p.image, key.queries(), key.classLogits(), key.maskLogits());
        }, bundle::propagate, (p, out) -> p.semantic = out.semantic());
    }

    /**
     * One graph call for the frames. One frame can fail a whole call, so a failed call is run again one frame at a
     * time: only the frame that fails it becomes a dead letter. IllegalArgumentException: tensors that do not fit the
     * graphs (e.g. a state written by a bundle with the same name@version but other sizes); the frame is reported,
     * the stream's state stays.
     */
    private static <I, O> void infer(List<Pending> ps, Function<Pending, I> input, Function<List<I>, List<O>> call,
            BiConsumer<Pending, O> take) {
        try {
            List<O> outs = call.apply(ps.stream().map(input).toList());
            for (int j = 0; j < ps.size(); j++) {
                take.accept(ps.get(j), outs.get(j));
            }
        } catch (InferenceException | IllegalArgumentException e) {
            if (ps.size() == 1) {
                ps.get(0).error = inferenceFailed(e);
                return;
            }
            for (Pending p : ps) {
                infer(List.of(p), input, call, take);
            }
        }
    }

    /**
     * A document that would not fit the masks topic ({@code masks.max-bytes}) is answered by a dead letter rather
     * than failing the sink (which would restart the job on the same frame for ever). Serialized only when its
     * label map alone could come near the limit; the operator sets two numbers after this (32 bytes allowed).
     */
    private InvalidFrameException tooLarge(MaskDocument doc) {
        byte[] png = doc.getLabelMapPng();
        long base64 = png == null ? 0 : 4L * ((png.length + 2) / 3);
        if (base64 + 64 * 1024 < maxMaskDocumentBytes) {
            return null;
        }
        int bytes = doc.toJson().length + 32;
        if (bytes <= maxMaskDocumentBytes) {
            return null;
        }
        return new InvalidFrameException(WireFormat.ERR_MASK_TOO_LARGE, "the mask document of stream '"
                + doc.getStream() + "' seq " + doc.getSeq() + " takes " + bytes + " bytes, over the "
                + maxMaskDocumentBytes + " that masks.max-bytes leaves for it (label map " + doc.getWidth() + "x"
                + doc.getHeight() + ", PNG " + (png == null ? 0 : png.length) + " bytes)");
    }

    private static InvalidFrameException inferenceFailed(RuntimeException e) {
        return new InvalidFrameException(WireFormat.ERR_INFERENCE_FAILED, String.valueOf(e.getMessage()), e);
    }

    /** The new state (key frame compacted, cursor) and the document of an inferred frame. */
    private Step finish(Pending p, double inferenceMs) {
        Frame frame = p.frame;
        KeyFrameState newKey = null;
        long keySeq;
        int framesSinceKey;
        if (p.reason != null) {
            newKey = KeyFrameState.of(bundle.modelId(), frame.seq, frame.captureTs, p.width, p.height, p.image,
                    manifest.width(), manifest.height(), p.segmented, stateCompaction);
            keySeq = frame.seq;
            framesSinceKey = p.reason == KeyFramePolicy.Reason.INTERVAL ? 0
                    : overload.phase(frame.stream(), p.keyInterval);
        } else {
            keySeq = p.state.key().keySeq();
            framesSinceKey = p.state.cursor().framesSinceKey() + 1;
        }
        MaskDocument doc = document(frame, p.width, p.height, p.semantic, p.reason, keySeq, p.keyInterval);
        return new Step(doc, new StreamCursor(frame.seq, frame.captureTs, framesSinceKey), newKey, p.reason,
                inferenceMs, p.keyInterval);
    }

    /** The mask document of a frame from the model-resolution label map. */
    private MaskDocument document(Frame frame, int width, int height, byte[] semantic, KeyFramePolicy.Reason reason,
            long keySeq, int keyInterval) {
        byte[] labels = FrameDecoder.resizeNearest(semantic, manifest.width(), manifest.height(), width, height);
        MaskDocument doc = new MaskDocument();
        doc.setStream(frame.stream());
        doc.setSeq(frame.seq);
        doc.setCaptureTs(frame.captureTs);
        doc.setKeyFrame(reason != null);
        doc.setKeySeq(keySeq);
        doc.setKeyReason(reason == null ? null : reason.code());
        doc.setKeyInterval(keyInterval);
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

    /**
     * Settings of an engine; zero for the key interval means the manifest's, zero for a gap disables its rule, zero
     * for the maximum interval means twice the interval, a zero lag bound disables the overload rule.
     */
    public static final class Builder {
        private final ModelBundle bundle;
        private int keyInterval;
        private long maxSeqGap;
        private long maxTimeGapMs;
        private StateCompaction stateCompaction = StateCompaction.FULL;
        private int maxKeyInterval;
        private long lagBoundMs;
        private boolean stagger;
        private LongSupplier clock = System::currentTimeMillis;
        private long maxFramePixels = Long.MAX_VALUE;
        private int maxMaskDocumentBytes = Integer.MAX_VALUE;
        private long shedLagMs;

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
        public Builder maxKeyInterval(int v) { maxKeyInterval = v; return this; }
        public Builder lagBoundMs(long v) { lagBoundMs = v; return this; }
        public Builder stagger(boolean v) { stagger = v; return this; }
        /** Epoch-ms clock that lag is measured with (the operator passes Flink's processing time). */
        public Builder clock(LongSupplier v) { clock = Objects.requireNonNull(v); return this; }
        public Builder maxFramePixels(long v) { maxFramePixels = v; return this; }
        /** Largest mask document (JSON bytes) to emit; larger ones are mask-too-large dead letters. */
        public Builder maxMaskDocumentBytes(int v) { maxMaskDocumentBytes = v; return this; }
        /** Lag (ms, by {@link #clock}) over which a frame is shed; 0 = never. */
        public Builder shedLagMs(long v) { shedLagMs = v; return this; }

        public MaskEngine build() {
            return new MaskEngine(this);
        }
    }
}
