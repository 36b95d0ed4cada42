package io.mpvss.operator;

import io.mpvss.config.JobOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.engine.MaskEngine;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The operator's settings: the {@link JobOptions} it reads, checked once here. They are kept as the options
 * themselves (a Flink {@link Configuration}), so every default is the option's own and nothing is listed twice;
 * the job builds them from its configuration ({@link #of}), tests with {@link #builder}.
 */
public final class MaskPropagationSettings implements Serializable {
    private static final long serialVersionUID = 2L;

    private final Configuration options;

    private MaskPropagationSettings(Configuration options) {
        this.options = options;
    }

    /** The settings from a job configuration; a missing model.dir or a value out of range is refused here. */
    public static MaskPropagationSettings of(ReadableConfig conf) {
        Configuration c = new Configuration();
        for (ConfigOption<?> o : JobOptions.all()) {
            copy(conf, c, o);
        }
        JobOptions.required(c, JobOptions.MODEL_DIR);
        nonNegative(c, JobOptions.KEY_INTERVAL);
        nonNegative(c, JobOptions.KEY_MAX_SEQ_GAP);
        nonNegative(c, JobOptions.KEY_MAX_INTERVAL);
        if (c.get(JobOptions.INFERENCE_BATCH_MAX) < 1) {
            throw new IllegalArgumentException(JobOptions.INFERENCE_BATCH_MAX.key() + " must be >= 1, found "
                    + c.get(JobOptions.INFERENCE_BATCH_MAX));
        }
        for (ConfigOption<Duration> d : List.of(JobOptions.KEY_MAX_TIME_GAP, JobOptions.STATE_TTL,
                JobOptions.INFERENCE_BATCH_WAIT, JobOptions.OVERLOAD_LAG_BOUND, JobOptions.OVERLOAD_SHED_LAG)) {
            if (c.get(d).isNegative()) {
                throw new IllegalArgumentException(d.key() + " must be >= 0, found " + c.get(d));
            }
        }
        MaskPropagationSettings s = new MaskPropagationSettings(c);
        s.stateCompaction(); // refuses a bad JPEG quality
        RecordSizes.checkedMasks(c.get(JobOptions.MASKS_MAX_BYTES));
        return s;
    }

    private static <T> void copy(ReadableConfig from, Configuration to, ConfigOption<T> o) {
        from.getOptional(o).ifPresent(v -> to.set(o, v));
    }

    private static <T extends Number> void nonNegative(ReadableConfig c, ConfigOption<T> o) {
        if (c.get(o).longValue() < 0) {
            throw new IllegalArgumentException(o.key() + " must be >= 0, found " + c.get(o));
        }
    }

    public static Builder builder(String modelDir) {
        return new Builder(modelDir);
    }

    /** The value of one of the job options ({@link JobOptions}); its default where it was not set. */
    public <T> T get(ConfigOption<T> option) {
        return options.get(option);
    }

    public String modelDir() {
        return get(JobOptions.MODEL_DIR);
    }

    public InferenceOptions inference() {
        return new InferenceOptions(get(JobOptions.INFERENCE_DEVICE), get(JobOptions.INFERENCE_THREADS),
                get(JobOptions.INFERENCE_CUDA_DEVICE));
    }

    public MaskPrecision maskPrecision() {
        return get(JobOptions.STATE_MASK_PRECISION);
    }

    /** How a key frame is compacted into state (mask precision, key image encoding). */
    public StateCompaction stateCompaction() {
        return new StateCompaction(get(JobOptions.STATE_MASK_PRECISION), get(JobOptions.STATE_KEY_IMAGE),
                get(JobOptions.STATE_KEY_IMAGE_JPEG_QUALITY));
    }

    /** The validator's size limit ({@code frames.max-bytes}). */
    public int maxFrameBytes() {
        return get(JobOptions.FRAMES_MAX_BYTES);
    }

    /** The decoder's pixel limit ({@code frames.max-pixels}). */
    public long maxFramePixels() {
        return get(JobOptions.FRAMES_MAX_PIXELS);
    }

    /** Whether the validator decodes the frames ({@code frames.decode-before-keyby}). */
    public boolean decodeBeforeKeyBy() {
        return get(JobOptions.FRAMES_DECODE_BEFORE_KEYBY);
    }

    /** Frames per inference batch ({@code inference.batch.max}). */
    int batchMax() {
        return get(JobOptions.INFERENCE_BATCH_MAX);
    }

    /**
     * The engine these settings describe: the one place where job options become engine settings (the engine
     * knows nothing of Flink's options). Zero keeps the engine's meaning: the manifest's interval, a rule off.
     */
    MaskEngine.Builder engine(ModelBundle bundle) {
        return MaskEngine.builder(bundle)
                .keyInterval(get(JobOptions.KEY_INTERVAL))
                .maxSeqGap(get(JobOptions.KEY_MAX_SEQ_GAP))
                .maxTimeGapMs(get(JobOptions.KEY_MAX_TIME_GAP).toMillis())
                .stateCompaction(stateCompaction())
                .maxKeyInterval(get(JobOptions.KEY_MAX_INTERVAL))
                .lagBoundMs(get(JobOptions.OVERLOAD_LAG_BOUND).toMillis())
                .shedLagMs(get(JobOptions.OVERLOAD_SHED_LAG).toMillis())
                .stagger(get(JobOptions.KEY_STAGGER))
                .maxFramePixels(maxFramePixels())
                .maxMaskDocumentBytes(RecordSizes.maskDocumentBytes(get(JobOptions.MASKS_MAX_BYTES)));
    }

    /** Settings for tests and tools: the model folder, then any job option; checked by {@link #build}. */
    public static final class Builder {
        private final Configuration options = new Configuration();

        private Builder(String modelDir) {
            options.set(JobOptions.MODEL_DIR, Objects.requireNonNull(modelDir, "modelDir"));
        }

        public <T> Builder set(ConfigOption<T> option, T value) {
            options.set(option, value);
            return this;
        }

        public Builder inference(InferenceOptions v) {
            return set(JobOptions.INFERENCE_DEVICE, v.device()).set(JobOptions.INFERENCE_THREADS, v.threads())
                    .set(JobOptions.INFERENCE_CUDA_DEVICE, v.cudaDeviceId());
        }

        public MaskPropagationSettings build() {
            return MaskPropagationSettings.of(options);
        }
    }
}
