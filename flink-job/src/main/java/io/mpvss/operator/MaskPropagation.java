package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import io.mpvss.engine.KeyFramePolicy;
import io.mpvss.engine.MaskEngine;
import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
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
import java.util.Objects;
import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The MPVSS operator, keyed by stream id: holds each stream's key frame and cursor in keyed state and hands every
 * frame with its stream's state to the {@link MaskEngine}, which decodes it, segments it (key frame: segmentor.onnx,
 * state replaced) or propagates the key frame to it (propagator.onnx, key -> current), and builds one
 * {@link MaskDocument} per frame at the frame's own resolution. This class keeps what is Flink's: state access and
 * TTL, metrics, the dead-letter side output, the model's lifecycle.
 *
 * <p>Per stream, records arrive in Kafka partition order and are processed in that order; a frame whose seq is not
 * above the last accepted seq (a duplicate or a late, stale frame) goes to the dead-letter output as
 * {@code stale-or-duplicate}. Every other failure (undecodable image, inference error) also goes there with its
 * error class and leaves the stream's state as it was, so good frames are never affected by bad ones. The frames
 * reaching this operator passed {@link FrameValidator} (a {@link Frame} has a stream id, seq and capture time).
 * See docs/formats.md for the full rules.
 */
public class MaskPropagation extends KeyedProcessFunction<String, Frame, MaskDocument> {
    private static final long serialVersionUID = 1L;

    /** Dead letters: the original record plus error headers (written to {@code frames-dlq}). */
    public static final OutputTag<FrameRecord> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(FrameRecord.class));

    static final String KEY_STATE = "key-frame";
    static final String CURSOR_STATE = "stream-cursor";

    private final Settings settings;

    private transient ModelBundle bundle;
    private transient MaskEngine engine;
    private transient ValueState<KeyFrameState> keyState;
    private transient ValueState<StreamCursor> cursorState;
    private transient OperatorMetrics metrics;

    public MaskPropagation(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    @Override
    public void open(OpenContext ctx) {
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
                .maxFramePixels(settings.maxFramePixels)
                .build();

        ValueStateDescriptor<KeyFrameState> kd = new ValueStateDescriptor<>(KEY_STATE, KeyFrameStateSerializer.INSTANCE);
        ValueStateDescriptor<StreamCursor> cd = new ValueStateDescriptor<>(CURSOR_STATE, StreamCursorSerializer.INSTANCE);
        if (settings.stateTtl != null && !settings.stateTtl.isZero() && !settings.stateTtl.isNegative()) {
            // Read-and-write refresh: a stream that still sends frames keeps its key frame however old it is.
            StateTtlConfig ttl = StateTtlConfig.newBuilder(settings.stateTtl)
                    .setUpdateType(StateTtlConfig.UpdateType.OnReadAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build();
            kd.enableTimeToLive(ttl);
            cd.enableTimeToLive(ttl);
        }
        keyState = getRuntimeContext().getState(kd);
        cursorState = getRuntimeContext().getState(cd);
        metrics = OperatorMetrics.register(getRuntimeContext().getMetricGroup(), bundle.executionProvider());
    }

    @Override
    public void close() throws Exception {
        if (bundle != null) {
            bundle.close();
            bundle = null;
        }
        super.close();
    }

    @Override
    public void processElement(Frame frame, Context ctx, Collector<MaskDocument> out) throws Exception {
        long t0 = System.nanoTime();
        MaskEngine.Step step;
        try {
            step = engine.process(frame, keyState.value(), cursorState.value());
        } catch (InvalidFrameException e) {
            metrics.deadLetter(e.errorClass());
            ctx.output(DEAD_LETTERS, frame.record.asDeadLetter(e));
            return;
        }
        if (step.newKeyFrame() != null) {
            keyState.update(step.newKeyFrame());
            metrics.keyFrame(step.inferenceMs());
            metrics.stateBytes(KeyFrameStateSerializer.serializedSize(step.newKeyFrame()));
        } else {
            metrics.propagated(step.inferenceMs());
        }
        metrics.lag(frame.captureTs);
        cursorState.update(step.cursor());
        MaskDocument doc = step.document();
        doc.setProcessingMs((System.nanoTime() - t0) / 1e6);
        doc.setEmittedTs(System.currentTimeMillis());
        out.collect(doc);
    }

    @VisibleForTesting
    KeyFramePolicy policy() {
        return engine.policy();
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

            public Settings build() {
                new StateCompaction(maskPrecision, keyImage, keyImageJpegQuality); // refuses a bad quality here
                return new Settings(this);
            }
        }
    }
}
