package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.engine.KeyFramePolicy;
import io.mpvss.engine.MaskEngine;
import io.mpvss.engine.OverloadPolicy;
import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.InvalidBundleException;
import io.mpvss.model.ModelBundle;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.KeyImageEncoding;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import io.mpvss.state.StreamCursor;
import io.mpvss.state.StreamCursorSerializer;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.base.IntSerializer;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * The MPVSS operator, keyed by stream id: holds each stream's key frame and cursor in keyed state and hands frames
 * with their streams' state to the {@link MaskEngine}, which decodes them, segments them (key frames:
 * segmentor.onnx, state replaced) or propagates the key frame to them (propagator.onnx, key -> current), and builds
 * one {@link MaskDocument} per frame at the frame's own resolution. This class keeps what is Flink's: state access
 * and TTL, the batch buffer, metrics, the dead-letter side output, the model's lifecycle.
 *
 * <p><b>Cross-stream batches</b> ({@code inference.batch.max} > 1), the way Flink's bundle operators do it: frames
 * are buffered in memory, not in state, and the buffer is run as one batch through the engine when it is full, when
 * its first frame has waited {@code inference.batch.wait} (a processing-time callback), before every checkpoint
 * barrier ({@link #prepareSnapshotPreBarrier}: every frame before the barrier is processed, its state written and
 * its document emitted before the snapshot, so nothing is in flight inside a checkpoint), before a watermark is
 * forwarded, and at the end of input. The engine reads and writes each
 * frame's state through {@link MaskEngine.States}, for which this operator sets the current key per frame. With a
 * batch of 1 (the default) every frame is processed as it arrives, as a plain keyed function would.
 *
 * <p>Per stream, records arrive in Kafka partition order and are processed in that order (the engine cuts a batch
 * into rounds of at most one frame per stream); a frame whose seq is not above the last accepted seq (a duplicate or
 * a late, stale frame) goes to the dead-letter output as {@code stale-or-duplicate}. Every other failure
 * (undecodable image, inference error) also goes there with its error class and leaves the stream's state as it
 * was, so good frames are never affected by bad ones. The frames reaching this operator passed
 * {@link FrameValidator} (a {@link Frame} has a stream id, seq and capture time). See docs/formats.md for the full
 * rules.
 */
public class MaskPropagation extends AbstractStreamOperator<MaskDocument>
        implements OneInputStreamOperator<Frame, MaskDocument> {
    private static final long serialVersionUID = 2L;

    /** Dead letters: the original record plus error headers (written to {@code frames-dlq}). */
    public static final OutputTag<FrameRecord> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(FrameRecord.class));

    static final String KEY_STATE = "key-frame";
    static final String CURSOR_STATE = "stream-cursor";
    /** The key interval in force for the stream under the overload rule (absent: the configured one). */
    static final String INTERVAL_STATE = "key-interval";

    private final Settings settings;

    private transient ModelBundle bundle;
    private transient MaskEngine engine;
    private transient ValueState<KeyFrameState> keyState;
    private transient ValueState<StreamCursor> cursorState;
    private transient ValueState<Integer> intervalState;
    private transient KeyedStates states;
    private transient KeyFrameCache keyFrames;
    private transient List<StreamRecord<Frame>> buffer;
    private transient ScheduledFuture<?> flushTimer;
    private transient OperatorMetrics metrics;

    public MaskPropagation(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    @Override
    public void open() throws Exception {
        super.open();
        try {
            bundle = ModelBundle.open(Path.of(settings.modelDir), settings.inference);
        } catch (InvalidBundleException e) {
            // A bad bundle does not get better by restarting: stop the job with the bundle's error instead of
            // letting the restart strategy loop on it.
            throw new SuppressRestartsException(e);
        }
        engine = MaskEngine.builder(bundle)
                .keyInterval(settings.keyInterval)
                .maxSeqGap(settings.maxSeqGap)
                .maxTimeGapMs(settings.maxTimeGap.toMillis())
                .stateCompaction(settings.stateCompaction())
                .maxKeyInterval(settings.maxKeyInterval)
                .lagBoundMs(settings.overloadLagBound.toMillis())
                .shedLagMs(settings.overloadShedLag.toMillis())
                .stagger(settings.stagger)
                // processing time, so that tests can drive the lag with the harness's clock
                .clock(() -> getProcessingTimeService().getCurrentProcessingTime())
                .maxFramePixels(settings.maxFramePixels)
                .maxMaskDocumentBytes(RecordSizes.maskDocumentBytes(settings.maxMaskBytes))
                .build();

        ValueStateDescriptor<KeyFrameState> kd = new ValueStateDescriptor<>(KEY_STATE, KeyFrameStateSerializer.INSTANCE);
        ValueStateDescriptor<StreamCursor> cd = new ValueStateDescriptor<>(CURSOR_STATE, StreamCursorSerializer.INSTANCE);
        ValueStateDescriptor<Integer> id = new ValueStateDescriptor<>(INTERVAL_STATE, IntSerializer.INSTANCE);
        if (settings.stateTtl != null && !settings.stateTtl.isZero() && !settings.stateTtl.isNegative()) {
            // Read-and-write refresh: a stream that still sends frames keeps its key frame however old it is.
            StateTtlConfig ttl = StateTtlConfig.newBuilder(settings.stateTtl)
                    .setUpdateType(StateTtlConfig.UpdateType.OnReadAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build();
            kd.enableTimeToLive(ttl);
            cd.enableTimeToLive(ttl);
            id.enableTimeToLive(ttl);
        }
        keyState = getRuntimeContext().getState(kd);
        cursorState = getRuntimeContext().getState(cd);
        intervalState = getRuntimeContext().getState(id);
        states = new KeyedStates();
        keyFrames = new KeyFrameCache(cachedStreams(settings.keyFrameCacheBytes, bundle.manifest()));
        buffer = new ArrayList<>(Math.max(1, settings.batchMax));
        metrics = OperatorMetrics.register(getRuntimeContext().getMetricGroup(), bundle.executionProvider());
    }

    @Override
    public void processElement(StreamRecord<Frame> element) throws Exception {
        buffer.add(element);
        if (buffer.size() >= settings.batchMax) {
            flush();
        } else if (buffer.size() == 1) {
            long due = getProcessingTimeService().getCurrentProcessingTime() + settings.batchWait.toMillis();
            flushTimer = getProcessingTimeService().registerTimer(due, t -> {
                flushTimer = null;
                flush();
            });
        }
    }

    /** Nothing buffered may cross a checkpoint barrier: the snapshot then holds every buffered frame's outcome. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        flush();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    /** A watermark must not overtake the frames before it. */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        flush();
        super.processWatermark(mark);
    }

    /** End of input (bounded source, stop-with-savepoint): run what is buffered. */
    @Override
    public void finish() throws Exception {
        flush();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
        if (bundle != null) {
            bundle.close();
            bundle = null;
        }
        super.close();
    }

    /** Runs the buffered frames as one batch and emits their documents and dead letters. */
    private void flush() throws Exception {
        if (flushTimer != null) {
            flushTimer.cancel(false);
            flushTimer = null;
        }
        if (buffer == null || buffer.isEmpty()) {
            return; // nothing buffered, or open() failed before the buffer existed
        }
        List<StreamRecord<Frame>> batch = buffer;
        buffer = new ArrayList<>(Math.max(1, settings.batchMax));
        long t0 = System.nanoTime();
        List<Frame> frames = new ArrayList<>(batch.size());
        for (StreamRecord<Frame> r : batch) {
            frames.add(r.getValue());
        }
        List<MaskEngine.Outcome> outcomes = engine.processBatch(frames, states);
        metrics.batch(frames.size());
        for (int i = 0; i < outcomes.size(); i++) {
            MaskEngine.Outcome o = outcomes.get(i);
            StreamRecord<Frame> in = batch.get(i);
            if (o.error() != null) {
                metrics.deadLetter(o.error().errorClass());
                output.collect(DEAD_LETTERS, withTimestampOf(in, o.frame().record.asDeadLetter(o.error())));
                continue;
            }
            MaskEngine.Step step = o.step();
            if (step.shed()) {
                metrics.shed();
            } else if (step.newKeyFrame() != null) {
                metrics.keyFrame(step.inferenceMs());
                metrics.stateBytes(KeyFrameStateSerializer.serializedSize(step.newKeyFrame()));
            } else {
                metrics.propagated(step.inferenceMs());
            }
            metrics.lag(o.frame().captureTs);
            MaskDocument doc = o.step().document();
            // time in the operator for the frame's batch (decode, inference, encode), not the wait for it to fill
            doc.setProcessingMs((System.nanoTime() - t0) / 1e6);
            doc.setEmittedTs(System.currentTimeMillis());
            output.collect(withTimestampOf(in, doc));
        }
    }

    private static <T> StreamRecord<T> withTimestampOf(StreamRecord<?> in, T value) {
        return in.hasTimestamp() ? new StreamRecord<>(value, in.getTimestamp()) : new StreamRecord<>(value);
    }

    /** The engine's view of keyed state: the current key is set to the frame's stream for every read and write. */
    private final class KeyedStates implements MaskEngine.States {
        @Override
        public MaskEngine.StreamState read(String stream) throws Exception {
            setCurrentKey(stream);
            Integer k = intervalState.value();
            return new MaskEngine.StreamState(keyFrames.reuse(stream, keyState.value()), cursorState.value(),
                    k == null ? 0 : k);
        }

        @Override
        public void write(String stream, MaskEngine.Step step) throws Exception {
            setCurrentKey(stream);
            if (step.newKeyFrame() != null) {
                keyState.update(step.newKeyFrame());
                keyFrames.written(stream, step.newKeyFrame());
            }
            cursorState.update(step.cursor());
            if (engine.overload().enabled()) {
                intervalState.update(step.keyInterval());
            }
        }
    }

    /** Streams whose decoded key frame fits in {@code bytes}: H x W x 3 image bytes + N x H/4 x W/4 fp32 masks. */
    static int cachedStreams(long bytes, io.mpvss.model.ModelManifest m) {
        long perStream = 3L * m.width() * m.height() + 4L * m.queries() * (m.width() / 4) * (m.height() / 4);
        return (int) Math.min(Integer.MAX_VALUE, bytes / Math.max(1, perStream));
    }

    @VisibleForTesting
    KeyFrameCache keyFrameCache() {
        return keyFrames;
    }

    @VisibleForTesting
    KeyFramePolicy policy() {
        return engine.policy();
    }

    @VisibleForTesting
    OverloadPolicy overload() {
        return engine.overload();
    }

    @VisibleForTesting
    int buffered() {
        return buffer.size();
    }

    /** The operator's settings (built from JobOptions by the job, or directly by tests). */
    public static final class Settings implements Serializable {
        private static final long serialVersionUID = 1L;

        final String modelDir;
        final InferenceOptions inference;
        final int keyInterval;
        final long maxSeqGap;
        final Duration maxTimeGap;
        final MaskPrecision maskPrecision;
        final KeyImageEncoding keyImage;
        final int keyImageJpegQuality;
        final Duration stateTtl;
        final int maxFrameBytes;
        final long maxFramePixels;
        final int maxMaskBytes;
        final long keyFrameCacheBytes;
        final int batchMax;
        final Duration batchWait;
        final Duration overloadLagBound;
        final Duration overloadShedLag;
        final int maxKeyInterval;
        final boolean stagger;
        final boolean decodeBeforeKeyBy;

        private Settings(Builder b) {
            this.modelDir = Objects.requireNonNull(b.modelDir, "modelDir");
            this.inference = b.inference;
            this.keyInterval = b.keyInterval;
            this.maxSeqGap = b.maxSeqGap;
            this.maxTimeGap = b.maxTimeGap;
            this.maskPrecision = b.maskPrecision;
            this.keyImage = b.keyImage;
            this.keyImageJpegQuality = b.keyImageJpegQuality;
            this.stateTtl = b.stateTtl;
            this.maxFrameBytes = b.maxFrameBytes;
            this.maxFramePixels = b.maxFramePixels;
            this.maxMaskBytes = b.maxMaskBytes;
            this.keyFrameCacheBytes = b.keyFrameCacheBytes;
            if (b.batchMax < 1) {
                throw new IllegalArgumentException("inference.batch.max must be >= 1, found " + b.batchMax);
            }
            this.batchMax = b.batchMax;
            this.batchWait = Objects.requireNonNull(b.batchWait, "batchWait");
            this.overloadLagBound = Objects.requireNonNull(b.overloadLagBound, "overloadLagBound");
            this.overloadShedLag = Objects.requireNonNull(b.overloadShedLag, "overloadShedLag");
            if (batchWait.isNegative() || overloadLagBound.isNegative() || overloadShedLag.isNegative()) {
                throw new IllegalArgumentException("inference.batch.wait and overload.lag-bound must be >= 0");
            }
            this.maxKeyInterval = b.maxKeyInterval;
            this.stagger = b.stagger;
            this.decodeBeforeKeyBy = b.decodeBeforeKeyBy;
        }

        /** Whether the validator decodes the frames ({@code frames.decode-before-keyby}). */
        public boolean decodeBeforeKeyBy() {
            return decodeBeforeKeyBy;
        }

        /** The decoder's pixel limit ({@code frames.max-pixels}). */
        public long maxFramePixels() {
            return maxFramePixels;
        }

        public static Builder builder(String modelDir) {
            return new Builder(modelDir);
        }

        public String modelDir() {
            return modelDir;
        }

        public InferenceOptions inference() {
            return inference;
        }

        public MaskPrecision maskPrecision() {
            return maskPrecision;
        }

        /** How a key frame is compacted into state (mask precision, key image encoding). */
        public StateCompaction stateCompaction() {
            return new StateCompaction(maskPrecision, keyImage, keyImageJpegQuality);
        }

        /** The validator's size limit ({@code frames.max-bytes}). */
        public int maxFrameBytes() {
            return maxFrameBytes;
        }

        /** Builder; its defaults are {@link JobOptions}' defaults (read from the options, not repeated). */
        public static final class Builder {
            private final String modelDir;
            private InferenceOptions inference = new InferenceOptions(JobOptions.INFERENCE_DEVICE.defaultValue(),
                    JobOptions.INFERENCE_THREADS.defaultValue(), JobOptions.INFERENCE_CUDA_DEVICE.defaultValue());
            private int keyInterval = JobOptions.KEY_INTERVAL.defaultValue();
            private long maxSeqGap = JobOptions.KEY_MAX_SEQ_GAP.defaultValue();
            private Duration maxTimeGap = JobOptions.KEY_MAX_TIME_GAP.defaultValue();
            private MaskPrecision maskPrecision = JobOptions.STATE_MASK_PRECISION.defaultValue();
            private KeyImageEncoding keyImage = JobOptions.STATE_KEY_IMAGE.defaultValue();
            private int keyImageJpegQuality = JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY.defaultValue();
            private Duration stateTtl = JobOptions.STATE_TTL.defaultValue();
            private int maxFrameBytes = JobOptions.FRAMES_MAX_BYTES.defaultValue();
            private long maxFramePixels = JobOptions.FRAMES_MAX_PIXELS.defaultValue();
            private int maxMaskBytes = JobOptions.MASKS_MAX_BYTES.defaultValue();
            private long keyFrameCacheBytes = JobOptions.STATE_KEY_FRAME_CACHE.defaultValue().getBytes();
            private int batchMax = JobOptions.INFERENCE_BATCH_MAX.defaultValue();
            private Duration batchWait = JobOptions.INFERENCE_BATCH_WAIT.defaultValue();
            private Duration overloadLagBound = JobOptions.OVERLOAD_LAG_BOUND.defaultValue();
            private Duration overloadShedLag = JobOptions.OVERLOAD_SHED_LAG.defaultValue();
            private int maxKeyInterval = JobOptions.KEY_MAX_INTERVAL.defaultValue();
            private boolean stagger = JobOptions.KEY_STAGGER.defaultValue();
            private boolean decodeBeforeKeyBy = JobOptions.FRAMES_DECODE_BEFORE_KEYBY.defaultValue();

            private Builder(String modelDir) {
                this.modelDir = modelDir;
            }

            public Builder inference(InferenceOptions v) { inference = v; return this; }
            /** 0 = the manifest's key_interval. */
            public Builder keyInterval(int v) { keyInterval = v; return this; }
            /** 0 disables the seq-gap rule. */
            public Builder maxSeqGap(long v) { maxSeqGap = v; return this; }
            /** Zero disables the time-gap rule. */
            public Builder maxTimeGap(Duration v) { maxTimeGap = v; return this; }
            public Builder maskPrecision(MaskPrecision v) { maskPrecision = v; return this; }
            public Builder keyImage(KeyImageEncoding v) { keyImage = v; return this; }
            public Builder keyImageJpegQuality(int v) { keyImageJpegQuality = v; return this; }
            /** Zero disables TTL. */
            public Builder stateTtl(Duration v) { stateTtl = v; return this; }
            public Builder maxFrameBytes(int v) { maxFrameBytes = v; return this; }
            public Builder maxFramePixels(long v) { maxFramePixels = v; return this; }
            /** masks.max-bytes: the masks topic's max.message.bytes. */
            public Builder maxMaskBytes(int v) { maxMaskBytes = v; return this; }
            /** state.key-frame-cache in bytes; 0 disables the cache. */
            public Builder keyFrameCacheBytes(long v) { keyFrameCacheBytes = v; return this; }
            /** Frames per inference batch (1 = none). */
            public Builder batchMax(int v) { batchMax = v; return this; }
            public Builder batchWait(Duration v) { batchWait = v; return this; }
            /** Zero disables the overload rule. */
            public Builder overloadLagBound(Duration v) { overloadLagBound = v; return this; }
            /** Zero disables shedding. */
            public Builder overloadShedLag(Duration v) { overloadShedLag = v; return this; }
            /** 0 = twice the key interval. */
            public Builder maxKeyInterval(int v) { maxKeyInterval = v; return this; }
            public Builder stagger(boolean v) { stagger = v; return this; }
            public Builder decodeBeforeKeyBy(boolean v) { decodeBeforeKeyBy = v; return this; }

            public Settings build() {
                new StateCompaction(maskPrecision, keyImage, keyImageJpegQuality); // refuses a bad quality here
                RecordSizes.checkedMasks(maxMaskBytes);
                return new Settings(this);
            }
        }
    }
}
