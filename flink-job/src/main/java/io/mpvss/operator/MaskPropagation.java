package io.mpvss.operator;

import io.mpvss.state.KeyFrameState;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.StreamCursorSerializer;
import io.mpvss.state.StreamCursor;
import io.mpvss.engine.KeyFramePolicy;

import io.mpvss.config.JobOptions;
import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceException;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.InvalidBundleException;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.model.PropagatorInput;
import io.mpvss.model.PropagatorOutput;
import io.mpvss.model.SegmentorOutput;
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
 * The MPVSS operator, keyed by stream id: decodes each frame, then either segments it (key frame: segmentor.onnx,
 * state replaced) or propagates the stream's key frame to it (propagator.onnx, key -> current), and emits one
 * {@link MaskDocument} per frame with the label map at the frame's own resolution.
 *
 * <p>Per stream, records arrive in Kafka partition order. Frames are processed in arrival order; a frame whose seq
 * is not above the last accepted seq (a duplicate or a late, stale frame) is not processed again: it goes to the
 * dead-letter output as {@code stale-or-duplicate}. Every other failure (bad headers, undecodable image, inference
 * error) also goes there with its error class, and does not change the stream's state, so good frames are never
 * affected by bad ones. See docs/formats.md for the full rules.
 */
public class MaskPropagation extends KeyedProcessFunction<String, FrameRecord, MaskDocument> {
    private static final long serialVersionUID = 1L;

    /** Dead letters: the original record plus error headers (written to {@code frames-dlq}). */
    public static final OutputTag<FrameRecord> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(FrameRecord.class));

    static final String KEY_STATE = "key-frame";
    static final String CURSOR_STATE = "stream-cursor";

    private final Settings settings;

    private transient ModelBundle bundle;
    private transient ModelManifest manifest;
    private transient KeyFramePolicy policy;
    private transient String[] classNames;
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
        manifest = bundle.manifest();
        classNames = manifest.classNames();
        int interval = settings.keyInterval > 0 ? settings.keyInterval : manifest.keyInterval();
        policy = new KeyFramePolicy(interval, settings.maxSeqGap, settings.maxTimeGap.toMillis());

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
    public void processElement(FrameRecord record, Context ctx, Collector<MaskDocument> out) throws Exception {
        long t0 = System.nanoTime();
        try {
            MaskDocument doc = process(record);
            doc.setProcessingMs((System.nanoTime() - t0) / 1e6);
            doc.setEmittedTs(System.currentTimeMillis());
            out.collect(doc);
        } catch (InvalidFrameException e) {
            metrics.deadLetter(e.errorClass());
            ctx.output(DEAD_LETTERS, record.asDeadLetter(e));
        }
    }

    private MaskDocument process(FrameRecord record) throws Exception {
        FrameValidator.check(record, settings.maxFrameBytes);
        long seq = WireFormat.longHeader(record, WireFormat.HEADER_SEQ);
        long ts = WireFormat.longHeader(record, WireFormat.HEADER_TS);
        StreamCursor cursor = cursorState.value();
        if (cursor != null && seq <= cursor.lastSeq()) {
            throw new InvalidFrameException(WireFormat.ERR_STALE_OR_DUPLICATE, "seq " + seq + " of stream '"
                    + record.key + "' is not above the last accepted seq " + cursor.lastSeq());
        }
        FrameDecoder.Rgb rgb = FrameDecoder.decode(record, settings.maxFramePixels);
        byte[] image = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), manifest.width(),
                manifest.height());

        KeyFrameState key = keyState.value();
        KeyFramePolicy.Reason reason = policy.decide(key, cursor, bundle.modelId(), seq, ts, rgb.width(), rgb.height());
        byte[] semantic;
        long keySeq;
        int framesSinceKey;
        double inferMs;
        long inferStart = System.nanoTime();
        try {
            if (reason != null) {
                SegmentorOutput so = bundle.segment(image);
                inferMs = (System.nanoTime() - inferStart) / 1e6;
                key = KeyFrameState.of(bundle.modelId(), seq, ts, rgb.width(), rgb.height(), image, so,
                        settings.maskPrecision);
                semantic = so.semantic();
                keySeq = seq;
                framesSinceKey = 0;
            } else {
                PropagatorOutput po = bundle.propagate(new PropagatorInput(key.image(), image, key.queries(),
                        key.classLogits(), key.maskLogits()));
                inferMs = (System.nanoTime() - inferStart) / 1e6;
                semantic = po.semantic();
                keySeq = key.keySeq();
                framesSinceKey = cursor.framesSinceKey() + 1;
            }
        } catch (InferenceException | IllegalArgumentException e) {
            // IllegalArgumentException: tensors that do not fit the graphs (e.g. a state written by a bundle with
            // the same name@version but other sizes); the frame is reported, the job goes on.
            throw new InvalidFrameException(WireFormat.ERR_INFERENCE_FAILED, String.valueOf(e.getMessage()), e);
        }
        if (reason != null) {
            keyState.update(key);
            metrics.keyFrame(inferMs);
            metrics.stateBytes(KeyFrameStateSerializer.serializedSize(key));
        } else {
            metrics.propagated(inferMs);
        }
        metrics.lag(ts);
        cursorState.update(new StreamCursor(seq, ts, framesSinceKey));

        byte[] labels = FrameDecoder.resizeNearest(semantic, manifest.width(), manifest.height(), rgb.width(),
                rgb.height());
        MaskDocument doc = new MaskDocument();
        doc.setStream(record.key);
        doc.setSeq(seq);
        doc.setCaptureTs(ts);
        doc.setKeyFrame(reason != null);
        doc.setKeySeq(keySeq);
        doc.setKeyReason(reason == null ? null : reason.code());
        doc.setModel(bundle.modelId());
        doc.setWidth(rgb.width());
        doc.setHeight(rgb.height());
        doc.setLabelMapPng(LabelMapPng.encode(labels, rgb.width(), rgb.height()));
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

    @VisibleForTesting
    KeyFramePolicy policy() {
        return policy;
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

        /** Builder; its defaults are {@link JobOptions}' defaults (read from the options, not repeated). */
        public static final class Builder {
            private final String modelDir;
            private InferenceOptions inference = new InferenceOptions(JobOptions.INFERENCE_DEVICE.defaultValue(),
                    JobOptions.INFERENCE_THREADS.defaultValue(), JobOptions.INFERENCE_CUDA_DEVICE.defaultValue());
            private int keyInterval = JobOptions.KEY_INTERVAL.defaultValue();
            private long maxSeqGap = JobOptions.KEY_MAX_SEQ_GAP.defaultValue();
            private Duration maxTimeGap = JobOptions.KEY_MAX_TIME_GAP.defaultValue();
            private MaskPrecision maskPrecision = JobOptions.STATE_MASK_PRECISION.defaultValue();
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
            /** Zero disables TTL. */
            public Builder stateTtl(Duration v) { stateTtl = v; return this; }
            public Builder maxFrameBytes(int v) { maxFrameBytes = v; return this; }
            public Builder maxFramePixels(long v) { maxFramePixels = v; return this; }

            public Settings build() {
                return new Settings(this);
            }
        }
    }
}
