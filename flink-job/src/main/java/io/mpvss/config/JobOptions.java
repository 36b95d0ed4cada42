package io.mpvss.config;

import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceOptions;
import io.mpvss.state.KeyImageEncoding;
import io.mpvss.state.MaskPrecision;
import java.time.Duration;
import org.apache.flink.configuration.MemorySize;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;

/**
 * Every setting of the job, declared once with its default and description. Set from the command line
 * ({@code --key value}) or Flink's configuration file. Flink's own keys are used for what Flink owns: parallelism
 * ({@code parallelism.default}), checkpointing ({@code execution.checkpointing.interval},
 * {@code execution.checkpointing.dir}) and the state backend ({@code state.backend.type}).
 */
public final class JobOptions {

    private JobOptions() {}

    /** Prefix of Kafka client properties passed through to every client (source, sinks), e.g. TLS/SASL. */
    public static final String KAFKA_PROPERTIES_PREFIX = "kafka.properties.";

    /** Required: a cluster has no sensible default broker (the tools pass their own). */
    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("kafka.bootstrap-servers")
            .stringType().noDefaultValue()
            .withDescription("Kafka bootstrap servers (host:port,...). Required.");

    public static final ConfigOption<String> GROUP_ID = ConfigOptions.key("kafka.group-id")
            .stringType().defaultValue("mpvss")
            .withDescription("Consumer group id of the frames source (offsets are committed on checkpoints).");

    public static final ConfigOption<String> TOPIC_FRAMES = ConfigOptions.key("kafka.topic.frames")
            .stringType().defaultValue(WireFormat.DEFAULT_FRAMES_TOPIC)
            .withDescription("Input topic: key = stream id, value = JPEG/PNG/raw RGB24, headers mpvss.seq, mpvss.ts.");

    public static final ConfigOption<String> TOPIC_MASKS = ConfigOptions.key("kafka.topic.masks")
            .stringType().defaultValue(WireFormat.DEFAULT_MASKS_TOPIC)
            .withDescription("Output topic: one mpvss.masks/1 JSON document per frame.");

    public static final ConfigOption<String> TOPIC_DLQ = ConfigOptions.key("kafka.topic.dlq")
            .stringType().defaultValue(WireFormat.DEFAULT_DLQ_TOPIC)
            .withDescription("Dead-letter topic: the original record plus mpvss.error.* headers.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = ConfigOptions.key("kafka.starting-offsets")
            .enumType(StartingOffsets.class).defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
            .withDescription("Where the source starts without a checkpoint: committed-or-earliest | earliest | latest.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = ConfigOptions.key("kafka.transactional-id-prefix")
            .stringType().defaultValue("mpvss")
            .withDescription("Prefix of the Kafka transactional ids of the exactly-once sinks ('-masks' and '-dlq' "
                    + "are appended). Must be unique per job on a cluster.");

    public static final ConfigOption<Boolean> SOURCE_BOUNDED = ConfigOptions.key("source.bounded")
            .booleanType().defaultValue(false)
            .withDescription("Stop at the offsets that are the latest when the job starts (demo, tests, replays).");

    /** Flink's own enum (its values print as exactly-once | at-least-once | none). */
    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE = ConfigOptions.key("delivery.guarantee")
            .enumType(DeliveryGuarantee.class).defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
            .withDescription("exactly-once (masks visible at checkpoints, read with isolation.level=read_committed) "
                    + "| at-least-once (lower latency; consumers drop repeats by stream+seq) | none (no "
                    + "guarantee: records may be lost on failure).");

    /** Required on a cluster: the path is where the bundle sits on every TaskManager (the tools default it). */
    public static final ConfigOption<String> MODEL_DIR = ConfigOptions.key("model.dir")
            .stringType().noDefaultValue()
            .withDescription("Model bundle directory (manifest.json, segmentor.onnx, propagator.onnx); must be "
                    + "readable at this path on the client and on every TaskManager. Required (mpvss run and demo "
                    + "default to the bundled model).");

    public static final ConfigOption<Integer> KEY_INTERVAL = ConfigOptions.key("key.interval")
            .intType().defaultValue(0)
            .withDescription("Key frame every K frames; 0 = the manifest's key_interval.");

    public static final ConfigOption<Long> KEY_MAX_SEQ_GAP = ConfigOptions.key("key.max-seq-gap")
            .longType().defaultValue(3L)
            .withDescription("Force a key frame when seq jumps by more than this since the last accepted frame "
                    + "(1 = contiguous); 0 disables.");

    public static final ConfigOption<Duration> KEY_MAX_TIME_GAP = ConfigOptions.key("key.max-time-gap")
            .durationType().defaultValue(Duration.ofSeconds(2))
            .withDescription("Force a key frame when capture time advances by more than this since the last "
                    + "accepted frame; 0 disables.");

    public static final ConfigOption<Duration> STATE_TTL = ConfigOptions.key("state.ttl")
            .durationType().defaultValue(Duration.ofMinutes(30))
            .withDescription("Drop a stream's state after this long without frames; 0 keeps it forever.");

    public static final ConfigOption<MaskPrecision> STATE_MASK_PRECISION = ConfigOptions.key("state.mask-precision")
            .enumType(MaskPrecision.class).defaultValue(MaskPrecision.UINT8)
            .withDescription("Precision of the key frame's mask logits in state: uint8 (a quarter of fp32's bytes; "
                    + "per query min and step) | fp16 | fp32.");

    public static final ConfigOption<InferenceOptions.Device> INFERENCE_DEVICE = ConfigOptions.key("inference.device")
            .enumType(InferenceOptions.Device.class).defaultValue(InferenceOptions.Device.AUTO)
            .withDescription("auto (CUDA execution provider if it loads, else CPU with one log line) | cpu | cuda "
                    + "(fail without CUDA).");

    public static final ConfigOption<Integer> INFERENCE_CUDA_DEVICE = ConfigOptions.key("inference.cuda-device")
            .intType().defaultValue(0)
            .withDescription("CUDA device id the TaskManager's sessions use (with several GPUs per machine, give each "
                    + "TaskManager its own).");

    public static final ConfigOption<Integer> INFERENCE_THREADS = ConfigOptions.key("inference.threads")
            .intType().defaultValue(1)
            .withDescription("ONNX Runtime intra-op threads per session (sessions are shared by the slots of a "
                    + "TaskManager); 0 = one per core. Default 1: on 2 cores a second thread made K=5 slower "
                    + "(model-only 53.6 -> 43.0 frames/s, docs/BENCHMARKS.md) and takes the core that Flink, the "
                    + "codecs and the Kafka clients need.");

    public static final ConfigOption<Integer> FRAMES_MAX_BYTES = ConfigOptions.key("frames.max-bytes")
            .intType().defaultValue(4 << 20)
            .withDescription("Larger frame records go to the dead-letter topic as 'oversized'. The one size setting: "
                    + "the sinks' max.request.size and the topics that mpvss topics / mpvss kafka create are derived "
                    + "from it (frames: +64 KiB, frames-dlq: +128 KiB; kafka-config/README.md).");

    public static final ConfigOption<Integer> MASKS_MAX_BYTES = ConfigOptions.key("masks.max-bytes")
            .intType().defaultValue(2 << 20)
            .withDescription("Largest mask record (the masks topic's max.message.bytes; kafka-config/topics.properties "
                    + "creates it with 2 MiB). A frame whose mask document would not fit, with " + RecordSizes.HEADROOM_BYTES
                    + " bytes left for key and headers, goes to the dead-letter topic as 'mask-too-large' instead of "
                    + "failing the sink; the start-up check refuses a masks topic with a smaller max.message.bytes.");

    public static final ConfigOption<Long> FRAMES_MAX_PIXELS = ConfigOptions.key("frames.max-pixels")
            .longType().defaultValue(7680L * 4320L)
            .withDescription("Frames declaring more pixels go to the dead-letter topic as 'oversized' (checked "
                    + "before decoding).");

    // ---- Operations (issue 8): start-up check of Kafka, transaction timeout of the exactly-once sinks

    public static final ConfigOption<Duration> KAFKA_CONNECT_TIMEOUT = ConfigOptions.key("kafka.connect-timeout")
            .durationType().defaultValue(Duration.ofSeconds(30))
            .withDescription("Before the job starts (mpvss run; on a cluster, the client before submission) a Kafka "
                    + "admin client checks that the brokers answer, that the frames, masks and dead-letter topics "
                    + "exist and that the dead-letter topic takes the largest dead letter; if not within this time, "
                    + "start-up stops with one line naming the servers tried. 0 skips the check.");

    public static final ConfigOption<Duration> KAFKA_TRANSACTION_TIMEOUT = ConfigOptions.key("kafka.transaction-timeout")
            .durationType().defaultValue(Duration.ofMinutes(5))
            .withDescription("transaction.timeout.ms of the exactly-once sinks: a job that dies without ending its "
                    + "transaction blocks read_committed consumers of that partition until the broker aborts it "
                    + "after this time. Must exceed checkpoint interval + longest checkpoint + restart time, or a "
                    + "recovering job's pending transactions are aborted and their masks lost; at most the brokers' "
                    + "transaction.max.timeout.ms (15 min by default). kafka.properties.transaction.timeout.ms wins.");

    // Cross-stream batches and graceful overload (issue 9).

    public static final ConfigOption<Integer> INFERENCE_BATCH_MAX = ConfigOptions.key("inference.batch.max")
            .intType().defaultValue(1)
            .withDescription("Frames of different streams per inference call: the keyed operator buffers up to this "
                    + "many frames (in memory, flushed before every checkpoint barrier) and runs their key frames in "
                    + "one segmentor call and the others in one propagator call. 1 = no buffering (CPU: a batch buys "
                    + "little there, see docs/BENCHMARKS.md); 4-16 on a GPU.");

    public static final ConfigOption<Duration> INFERENCE_BATCH_WAIT = ConfigOptions.key("inference.batch.wait")
            .durationType().defaultValue(Duration.ofMillis(10))
            .withDescription("Longest time a frame waits in the operator for its batch to fill (processing time) "
                    + "when inference.batch.max > 1.");

    public static final ConfigOption<Duration> OVERLOAD_LAG_BOUND = ConfigOptions.key("overload.lag-bound")
            .durationType().defaultValue(Duration.ZERO)
            .withDescription("Graceful overload: while a stream's lag (processing time - capture time) is over this "
                    + "bound, each frame raises its key interval by one up to key.max-interval; below half the bound "
                    + "it falls back by one per frame. 0 disables (replays of old frames would count as late).");

    public static final ConfigOption<Duration> OVERLOAD_SHED_LAG = ConfigOptions.key("overload.shed-lag")
            .durationType().defaultValue(Duration.ZERO)
            .withDescription("Load shedding: a frame whose lag (processing time - capture time) is over this is not "
                    + "decoded or inferred; its mask document repeats the stream's last mask (same key_seq) with "
                    + "\"shed\": true, so the job catches up at a few ms per frame and every frame is still answered. "
                    + "Only when the stream has a key frame and a last mask of the frame's size (held in memory, so "
                    + "not right after a restart). 0 disables; set it above overload.lag-bound (e.g. 2-3x), so that "
                    + "a longer key interval is tried first.");

    public static final ConfigOption<Integer> KEY_MAX_INTERVAL = ConfigOptions.key("key.max-interval")
            .intType().defaultValue(0)
            .withDescription("Longest key interval the overload rule may raise a stream to; 0 = twice the key "
                    + "interval.");

    public static final ConfigOption<Boolean> KEY_STAGGER = ConfigOptions.key("key.stagger")
            .booleanType().defaultValue(false)
            .withDescription("Spread the streams' key-frame phases by a hash of the stream id, so streams that start "
                    + "together do not all take key frames on the same seqs (false: key frames at seq 0, K, 2K...).");

    public static final ConfigOption<Boolean> FRAMES_DECODE_BEFORE_KEYBY = ConfigOptions.key("frames.decode-before-keyby")
            .booleanType().defaultValue(false)
            .withDescription("Decode and resize frames in the validation step, on the source's thread, so decoding "
                    + "overlaps inference; the keyBy exchange then carries model-size RGB instead of the encoded "
                    + "image (about 20x the bytes at the bundled size: mind the network between TaskManagers).");

    /** All options, for documentation and the CLI's help. */
    public static List<ConfigOption<?>> all() {
        return List.of(BOOTSTRAP_SERVERS, GROUP_ID, TOPIC_FRAMES, TOPIC_MASKS, TOPIC_DLQ, STARTING_OFFSETS,
                TRANSACTIONAL_ID_PREFIX, SOURCE_BOUNDED, DELIVERY_GUARANTEE, MODEL_DIR, KEY_INTERVAL, KEY_MAX_SEQ_GAP,
                KEY_MAX_TIME_GAP, STATE_TTL, STATE_MASK_PRECISION, INFERENCE_DEVICE, INFERENCE_CUDA_DEVICE, INFERENCE_THREADS,
                FRAMES_MAX_BYTES, MASKS_MAX_BYTES, FRAMES_MAX_PIXELS, KAFKA_CONNECT_TIMEOUT, KAFKA_TRANSACTION_TIMEOUT,
                STATE_KEY_IMAGE, STATE_KEY_IMAGE_JPEG_QUALITY, STATE_KEY_FRAME_CACHE,
                INFERENCE_BATCH_MAX, INFERENCE_BATCH_WAIT, OVERLOAD_LAG_BOUND, OVERLOAD_SHED_LAG, KEY_MAX_INTERVAL, KEY_STAGGER,
                FRAMES_DECODE_BEFORE_KEYBY);
    }

    /** The value of a required option (one without a default), or an error naming the key. */
    public static <T> T required(ReadableConfig conf, ConfigOption<T> option) {
        return conf.getOptional(option).orElseThrow(() -> new IllegalArgumentException(
                option.key() + " is required (--" + option.key() + " ...)"));
    }

    /** The {@code kafka.properties.*} entries with the prefix removed. */
    public static Properties kafkaProperties(ReadableConfig conf) {
        Properties p = new Properties();
        Map<String, String> all = conf instanceof Configuration c ? c.toMap() : Map.of();
        for (Map.Entry<String, String> e : all.entrySet()) {
            if (e.getKey().startsWith(KAFKA_PROPERTIES_PREFIX)) {
                p.setProperty(e.getKey().substring(KAFKA_PROPERTIES_PREFIX.length()), e.getValue());
            }
        }
        return p;
    }

    // State compaction of the key image (issue 9): with state.mask-precision, what a key frame costs in RocksDB and
    // checkpoints.

    public static final ConfigOption<KeyImageEncoding> STATE_KEY_IMAGE = ConfigOptions.key("state.key-image")
            .enumType(KeyImageEncoding.class).defaultValue(KeyImageEncoding.JPEG)
            .withDescription("How the key frame's model-resolution image is kept in state: jpeg (about a tenth of "
                    + "the raw bytes; decoded again per frame with RocksDB) | raw (RGB, exact).");

    public static final ConfigOption<MemorySize> STATE_KEY_FRAME_CACHE = ConfigOptions.key("state.key-frame-cache")
            .memoryType().defaultValue(MemorySize.parse("64mb"))
            .withDescription("Memory per operator instance for the decoded key frames of recently seen streams (key "
                    + "image and mask logits as the propagator takes them). With RocksDB every state read would "
                    + "otherwise decode the JPEG key image and widen the masks again, on every propagated frame; "
                    + "the heap backend keeps them anyway. A stream takes H x W x 3 + N x H/4 x W/4 x 4 bytes at the "
                    + "model's input size (0.9 MB for the bundled model: 64 MB hold 70 streams). 0 disables.");

    public static final ConfigOption<Integer> STATE_KEY_IMAGE_JPEG_QUALITY = ConfigOptions
            .key("state.key-image-jpeg-quality")
            .intType().defaultValue(95)
            .withDescription("JPEG quality (1..100) of the key image in state when state.key-image is jpeg.");
}
