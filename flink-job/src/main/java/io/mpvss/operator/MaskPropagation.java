package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import io.mpvss.engine.KeyFramePolicy;
import io.mpvss.engine.MaskEngine;
import io.mpvss.engine.OverloadPolicy;
import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.model.InvalidBundleException;
import io.mpvss.model.ModelBundle;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.StreamCursor;
import io.mpvss.state.StreamCursorSerializer;
import java.nio.file.Path;
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

    private final MaskPropagationSettings settings;

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
    /** inference.batch.max and inference.batch.wait, read once: processElement runs per frame. */
    private transient int batchMax;
    private transient long batchWaitMs;

    public MaskPropagation(MaskPropagationSettings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    @Override
    public void open() throws Exception {
        super.open();
        try {
            bundle = ModelBundle.open(Path.of(settings.modelDir()), settings.inference());
        } catch (InvalidBundleException e) {
            // A bad bundle does not get better by restarting: stop the job with the bundle's error instead of
            // letting the restart strategy loop on it.
            throw new SuppressRestartsException(e);
        }
        engine = settings.engine(bundle)
                // processing time, so that tests can drive the lag with the harness's clock
                .clock(() -> getProcessingTimeService().getCurrentProcessingTime())
                .build();

        ValueStateDescriptor<KeyFrameState> kd = new ValueStateDescriptor<>(KEY_STATE, KeyFrameStateSerializer.INSTANCE);
        ValueStateDescriptor<StreamCursor> cd = new ValueStateDescriptor<>(CURSOR_STATE, StreamCursorSerializer.INSTANCE);
        ValueStateDescriptor<Integer> id = new ValueStateDescriptor<>(INTERVAL_STATE, IntSerializer.INSTANCE);
        if (!settings.get(JobOptions.STATE_TTL).isZero()) {
            // Read-and-write refresh: a stream that still sends frames keeps its key frame however old it is.
            StateTtlConfig ttl = StateTtlConfig.newBuilder(settings.get(JobOptions.STATE_TTL))
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
        keyFrames = new KeyFrameCache(cachedStreams(settings.get(JobOptions.STATE_KEY_FRAME_CACHE).getBytes(),
                bundle.manifest()));
        batchMax = settings.batchMax();
        batchWaitMs = settings.get(JobOptions.INFERENCE_BATCH_WAIT).toMillis();
        buffer = new ArrayList<>(batchMax);
        metrics = OperatorMetrics.register(getRuntimeContext().getMetricGroup(), bundle.executionProvider());
    }

    @Override
    public void processElement(StreamRecord<Frame> element) throws Exception {
        buffer.add(element);
        if (buffer.size() >= batchMax) {
            flush();
        } else if (buffer.size() == 1) {
            long due = getProcessingTimeService().getCurrentProcessingTime() + batchWaitMs;
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
        buffer = new ArrayList<>(batchMax);
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
}
