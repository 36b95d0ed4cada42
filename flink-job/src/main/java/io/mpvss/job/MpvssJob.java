package io.mpvss.job;

import io.mpvss.config.JobOptions;
import io.mpvss.config.KnownOptions;
import io.mpvss.config.RecordSizes;
import io.mpvss.format.Frame;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.operator.FrameValidator;
import io.mpvss.operator.MaskPropagation;
import io.mpvss.operator.MaskPropagationSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MPVSS streaming job: frames from Kafka -> validate -> keyBy(stream id) -> {@link MaskPropagation} -> masks to
 * Kafka (exactly-once by default), bad records to the dead-letter topic.
 *
 * <p>Like the apache/flink-training solutions, the pipeline itself ({@link #build}) takes its source stream from
 * the caller and returns its output streams, so tests and tools run the very same pipeline between other ends;
 * {@link #buildKafkaPipeline} wires it to Kafka.
 */
public final class MpvssJob {

    private static final Logger LOG = LoggerFactory.getLogger(MpvssJob.class);

    /** The pipeline's two outputs. */
    public record Outputs(DataStream<MaskDocument> masks, DataStream<FrameRecord> deadLetters) {}

    private MpvssJob() {}

    /**
     * Cluster entry point: {@code --key value} arguments (JobOptions and Flink keys such as
     * {@code parallelism.default}, {@code execution.checkpointing.interval}, {@code state.backend.type}) over Flink's
     * configuration.
     */
    public static void main(String[] args) throws Exception {
        prepare(args).execute(JOB_NAME);
    }

    /** The job's name on the cluster. */
    public static final String JOB_NAME = "mpvss";

    /**
     * Everything {@link #main} does before it submits: the command line checked (unknown keys with a suggestion,
     * unparseable values: {@link KnownOptions.InvalidOptionException}), checkpoint storage, Kafka reachable with
     * its topics ({@code kafka.connect-timeout}), the model bundle, the pipeline built. Every refusal is an
     * IllegalArgumentException or IllegalStateException with one line. {@code mpvss run} executes the result itself
     * so that it can stop the job cleanly on Ctrl-C.
     */
    public static StreamExecutionEnvironment prepare(String[] args) {
        Configuration cli = parseArgs(args);
        KnownOptions.check(cli.toMap(), Set.of());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(cli);
        // Job options may also sit in Flink's config file (config.yaml); the command line wins.
        Configuration conf = Configuration.fromMap(env.getConfiguration().toMap());
        conf.addAll(cli);
        String storageProblem = checkpointStorageProblem(env, conf);
        if (storageProblem != null) {
            throw new IllegalArgumentException(storageProblem);
        }
        settings(conf); // value ranges (e.g. key.interval >= 0) before the network check
        Duration connectTimeout = conf.get(JobOptions.KAFKA_CONNECT_TIMEOUT);
        if (!connectTimeout.isZero() && !connectTimeout.isNegative()) {
            KafkaPreflight.check(JobOptions.required(conf, JobOptions.BOOTSTRAP_SERVERS), JobOptions.kafkaProperties(conf),
                    List.of(conf.get(JobOptions.TOPIC_FRAMES), conf.get(JobOptions.TOPIC_MASKS),
                            conf.get(JobOptions.TOPIC_DLQ)),
                    recordLimits(conf), connectTimeout);
        }
        buildKafkaPipeline(env, conf);
        return env;
    }

    /**
     * Why the job's checkpoints would not work, or null. Without a checkpoint directory Flink keeps checkpoints in
     * the JobManager's memory, capped at 5 MB; each stream's key frame is ~0.66 MB at 256x512, so about eight
     * streams make every checkpoint fail and the job restart in a loop. {@link #main} (clusters, {@code mpvss run})
     * refuses that at start; the embedded demo, tests and benchmarks build the pipeline directly.
     */
    static String checkpointStorageProblem(StreamExecutionEnvironment env, ReadableConfig conf) {
        if (!env.getCheckpointConfig().isCheckpointingEnabled()
                || conf.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY).isPresent()
                || conf.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).isPresent()) {
            return null;
        }
        return "checkpointing is on but " + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + " is not set: Flink "
                + "would keep checkpoints in the JobManager's memory (5 MB at most), which a few streams' key frames "
                + "exceed; set it to durable storage, e.g. --" + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key()
                + " s3://bucket/mpvss/checkpoints (or file:///shared/path)";
    }

    public static Configuration parseArgs(String[] args) {
        return ParameterTool.fromArgs(args).getConfiguration();
    }

    /** KafkaSource(frames) -> {@link #build} -> KafkaSink(masks) + KafkaSink(frames-dlq). The caller executes. */
    public static void buildKafkaPipeline(StreamExecutionEnvironment env, Configuration conf) {
        DeliveryGuarantee guarantee = conf.get(JobOptions.DELIVERY_GUARANTEE);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE && !env.getCheckpointConfig().isCheckpointingEnabled()) {
            // Transactions commit on checkpoints: without them not one mask would ever become visible.
            throw new IllegalArgumentException("delivery.guarantee=exactly-once needs checkpointing: set "
                    + "execution.checkpointing.interval (e.g. 1s), or use delivery.guarantee=at-least-once");
        }
        Duration txTimeout = Duration.ofMillis(Long.parseLong(
                sinkProducerProperties(conf).getProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG)));
        long intervalMs = env.getCheckpointConfig().getCheckpointInterval();
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE && intervalMs >= txTimeout.toMillis()) {
            // a transaction lives from one checkpoint to the commit after the next: it would always time out
            throw new IllegalArgumentException(JobOptions.KAFKA_TRANSACTION_TIMEOUT.key() + " (" + txTimeout.toMillis()
                    + " ms) must exceed execution.checkpointing.interval (" + intervalMs + " ms) plus the longest "
                    + "checkpoint and restart time");
        }
        Properties props = JobOptions.kafkaProperties(conf);
        String servers = JobOptions.required(conf, JobOptions.BOOTSTRAP_SERVERS);

        KafkaSourceBuilder<FrameRecord> sb = KafkaSource.<FrameRecord>builder()
                .setBootstrapServers(servers)
                .setTopics(conf.get(JobOptions.TOPIC_FRAMES))
                .setGroupId(conf.get(JobOptions.GROUP_ID))
                .setStartingOffsets(conf.get(JobOptions.STARTING_OFFSETS).initializer())
                .setDeserializer(new KafkaCodecs.FrameRecordDeserializer())
                .setProperties(props);
        if (conf.get(JobOptions.SOURCE_BOUNDED)) {
            sb.setBounded(OffsetsInitializer.latest());
        }
        DataStream<FrameRecord> frames = env
                .fromSource(sb.build(), WatermarkStrategy.noWatermarks(), "kafka-frames")
                .uid("kafka-frames");

        Outputs out = build(frames, conf);

        String prefix = conf.get(JobOptions.TRANSACTIONAL_ID_PREFIX);
        Properties producer = sinkProducerProperties(conf);
        int deadLetterBytes = Integer.parseInt(producer.getProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
        out.masks().sinkTo(KafkaSink.<MaskDocument>builder()
                        .setBootstrapServers(servers)
                        .setKafkaProducerConfig(producer)
                        .setDeliveryGuarantee(guarantee)
                        .setTransactionalIdPrefix(prefix + "-masks")
                        .setRecordSerializer(new KafkaCodecs.MaskRecordSerializer(conf.get(JobOptions.TOPIC_MASKS)))
                        .build())
                .name("kafka-masks").uid("kafka-masks");
        out.deadLetters().sinkTo(KafkaSink.<FrameRecord>builder()
                        .setBootstrapServers(servers)
                        .setKafkaProducerConfig(producer)
                        .setDeliveryGuarantee(guarantee)
                        .setTransactionalIdPrefix(prefix + "-dlq")
                        .setRecordSerializer(new KafkaCodecs.DeadLetterSerializer(conf.get(JobOptions.TOPIC_DLQ),
                                deadLetterBytes))
                        .build())
                .name("kafka-frames-dlq").uid("kafka-frames-dlq");
    }

    /** The written topics' smallest max.message.bytes: frames-dlq for a dead letter, masks for a mask record. */
    static Map<String, KafkaPreflight.RecordLimit> recordLimits(ReadableConfig conf) {
        Map<String, KafkaPreflight.RecordLimit> limits = new java.util.LinkedHashMap<>();
        limits.put(conf.get(JobOptions.TOPIC_MASKS), new KafkaPreflight.RecordLimit(conf.get(JobOptions.MASKS_MAX_BYTES),
                JobOptions.MASKS_MAX_BYTES.key(), "a mask record"));
        // the dead-letter rule wins where both are one topic
        limits.put(conf.get(JobOptions.TOPIC_DLQ), new KafkaPreflight.RecordLimit(
                RecordSizes.deadLetterBytes(conf.get(JobOptions.FRAMES_MAX_BYTES)), JobOptions.FRAMES_MAX_BYTES.key(),
                "a dead letter"));
        return limits;
    }

    /**
     * The sinks' Kafka producer properties: the {@code kafka.properties.*} pass-through, then what the job derives
     * unless given there. {@code max.request.size} from {@code frames.max-bytes} (Kafka's 1 MiB default would make a
     * large bad frame's dead letter fail the sink and restart the job forever; {@link RecordSizes}), and
     * {@code transaction.timeout.ms} from {@code kafka.transaction-timeout} (Flink's default, 1 h, is above the
     * brokers' 15 min cap, and a long one keeps read_committed consumers waiting after a crash).
     */
    static Properties sinkProducerProperties(ReadableConfig conf) {
        Properties producer = new Properties();
        producer.putAll(JobOptions.kafkaProperties(conf));
        int largest = Math.max(RecordSizes.deadLetterBytes(conf.get(JobOptions.FRAMES_MAX_BYTES)),
                RecordSizes.checkedMasks(conf.get(JobOptions.MASKS_MAX_BYTES)));
        producer.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(largest));
        producer.putIfAbsent(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                Long.toString(conf.get(JobOptions.KAFKA_TRANSACTION_TIMEOUT).toMillis()));
        return producer;
    }

    /**
     * The pipeline between any source and sinks: validate -> keyBy(stream id) -> MaskPropagation (a keyed operator that may batch frames
     * across streams). Checks the model
     * bundle here, on the client, so that a bad {@code model.dir} fails before the job is submitted.
     */
    public static Outputs build(DataStream<FrameRecord> frames, ReadableConfig conf) {
        StreamExecutionEnvironment env = frames.getExecutionEnvironment();
        // Every type on the wire and in state has an explicit Flink serializer; fail rather than fall to Kryo.
        Configuration noKryo = new Configuration();
        noKryo.set(PipelineOptions.GENERIC_TYPES, false);
        env.configure(noKryo);

        MaskPropagationSettings settings = settings(conf);
        ModelManifest m = ModelBundle.validate(Path.of(settings.modelDir()),
                new InferenceOptions(InferenceOptions.Device.CPU, settings.inference().threads(), 0));
        LOG.info("Model bundle {} ({}x{}, N={}, {} classes) checked at {}", m.modelId(), m.width(), m.height(),
                m.queries(), m.numClasses(), settings.modelDir());

        SingleOutputStreamOperator<Frame> valid = frames
                .process(settings.decodeBeforeKeyBy()
                        ? new FrameValidator(settings.maxFrameBytes(), m.width(), m.height(), settings.maxFramePixels())
                        : new FrameValidator(settings.maxFrameBytes()))
                .returns(Frame.class)
                // Same parallelism as the source, so it chains to it: a rebalance here would reorder a stream.
                .setParallelism(frames.getParallelism())
                .name("validate").uid("validate");
        SingleOutputStreamOperator<MaskDocument> masks = valid
                .keyBy(new StreamId(), Types.STRING)
                .transform("mask-propagation", TypeInformation.of(MaskDocument.class), new MaskPropagation(settings))
                .uid("mask-propagation");
        DataStream<FrameRecord> dead = valid.getSideOutput(MaskPropagation.DEAD_LETTERS)
                .union(masks.getSideOutput(MaskPropagation.DEAD_LETTERS));
        return new Outputs(masks, dead);
    }

    /** The operator settings from the job options (checked there). */
    public static MaskPropagationSettings settings(ReadableConfig conf) {
        return MaskPropagationSettings.of(conf);
    }

    /** The key: the stream id. A named class so Flink needs no lambda type extraction. */
    static final class StreamId implements KeySelector<Frame, String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String getKey(Frame f) {
            return f.stream();
        }
    }
}
