package io.mpvss.job;

import io.mpvss.config.JobOptions;
import io.mpvss.config.StartingOffsets;
import io.mpvss.model.InferenceOptions;
import io.mpvss.state.MaskPrecision;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.connector.base.DeliveryGuarantee;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.format.FrameRecord;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InvalidBundleException;
import io.mpvss.model.TestBundles;
import io.mpvss.operator.MaskPropagation;
import io.mpvss.operator.MaskPropagationSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;

/** Options, client-side checks, and the pipeline between in-memory ends on a local Flink runtime. */
class MpvssJobTest {

    @Test
    void parsesArgumentsAndPassesKafkaPropertiesThrough() {
        Configuration c = MpvssJob.parseArgs(new String[] {"--kafka.bootstrap-servers", "b1:9093,b2:9093",
                "--key.interval", "3", "--key.max-time-gap", "500 ms", "--kafka.properties.security.protocol", "SASL_SSL",
                "--kafka.properties.sasl.mechanism", "SCRAM-SHA-512", "--parallelism.default", "4",
                "--state.mask-precision", "fp32", "--model.dir", "m"});
        assertEquals("b1:9093,b2:9093", c.get(JobOptions.BOOTSTRAP_SERVERS));
        assertEquals(3, c.get(JobOptions.KEY_INTERVAL));
        assertEquals(Duration.ofMillis(500), c.get(JobOptions.KEY_MAX_TIME_GAP));
        assertEquals("mpvss", c.get(JobOptions.GROUP_ID));
        assertEquals(Duration.ofMinutes(30), c.get(JobOptions.STATE_TTL));
        Properties p = JobOptions.kafkaProperties(c);
        assertEquals("SASL_SSL", p.getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-512", p.getProperty("sasl.mechanism"));
        assertEquals(2, p.size());
        MaskPropagationSettings s = MpvssJob.settings(c);
        assertEquals("FP32", s.maskPrecision().name());
        assertEquals(io.mpvss.state.StateCompaction.FULL, MpvssJob.settings(MpvssJob.parseArgs(new String[] {
                "--model.dir", "/m", "--state.mask-precision", "fp32", "--state.key-image", "raw",
                "--state.key-image-jpeg-quality", "100"})).stateCompaction());
    }

    /** An option declared in JobOptions but left out of all() would be unknown to the CLI, the key check and the README. */
    @Test
    void allListsEveryDeclaredOptionOnce() throws Exception {
        List<String> declared = new java.util.ArrayList<>();
        for (java.lang.reflect.Field f : JobOptions.class.getDeclaredFields()) {
            if (ConfigOption.class.isAssignableFrom(f.getType())
                    && java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                declared.add(((ConfigOption<?>) f.get(null)).key());
            }
        }
        List<String> listed = JobOptions.all().stream().map(ConfigOption::key).toList();
        assertEquals(new java.util.TreeSet<>(declared), new java.util.TreeSet<>(listed));
        assertEquals(listed.size(), new java.util.HashSet<>(listed).size(), "a key listed twice: " + listed);
    }

    @Test
    void refusesBadSettings() {
        assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.settings(MpvssJob.parseArgs(new String[] {"--inference.device", "tpu"})));
        assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.settings(MpvssJob.parseArgs(new String[] {"--state.mask-precision", "int4"})));
        assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.settings(MpvssJob.parseArgs(new String[] {"--key.interval", "-1"})));
        assertThrows(IllegalArgumentException.class, () -> MpvssJob.settings(MpvssJob.parseArgs(
                new String[] {"--model.dir", "/m", "--state.key-image-jpeg-quality", "0"})));
        assertThrows(IllegalArgumentException.class, () -> MpvssJob.parseArgs(
                new String[] {"--kafka.starting-offsets", "newest"}).get(JobOptions.STARTING_OFFSETS));
        assertThrows(IllegalArgumentException.class, () -> MpvssJob.parseArgs(
                new String[] {"--delivery.guarantee", "exactly-twice"}).get(JobOptions.DELIVERY_GUARANTEE));
        // every option is documented; only what has no sensible cluster default is required
        JobOptions.all().forEach(o -> assertFalse(o.description().toString().isBlank(), o.key()));
        assertEquals(List.of(JobOptions.BOOTSTRAP_SERVERS.key(), JobOptions.MODEL_DIR.key()),
                JobOptions.all().stream().filter(o -> !o.hasDefaultValue()).map(ConfigOption::key).toList());
    }

    @Test
    void choiceOptionsTakeTheirDocumentedSpellings() {
        Configuration c = MpvssJob.parseArgs(new String[] {"--delivery.guarantee", "at-least-once",
                "--kafka.starting-offsets", "committed-or-earliest", "--state.mask-precision", "FP32",
                "--inference.device", "cuda", "--inference.cuda-device", "2"});
        assertEquals(DeliveryGuarantee.AT_LEAST_ONCE, c.get(JobOptions.DELIVERY_GUARANTEE));
        assertEquals(StartingOffsets.COMMITTED_OR_EARLIEST, c.get(JobOptions.STARTING_OFFSETS));
        assertEquals(MaskPrecision.FP32, c.get(JobOptions.STATE_MASK_PRECISION));
        assertEquals(InferenceOptions.Device.CUDA, c.get(JobOptions.INFERENCE_DEVICE));
        assertEquals(2, MpvssJob.settings(MpvssJob.parseArgs(new String[] {"--model.dir", "m",
                "--inference.cuda-device", "2"})).inference().cudaDeviceId());
        // the defaults print as a user writes them (README table, --help)
        assertEquals("exactly-once", JobOptions.DELIVERY_GUARANTEE.defaultValue().toString());
        assertEquals("uint8", JobOptions.STATE_MASK_PRECISION.defaultValue().toString());
        assertEquals("jpeg", JobOptions.STATE_KEY_IMAGE.defaultValue().toString());
    }

    @Test
    void clusterOptionsWithoutDefaultsAreRequired() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.settings(new Configuration()));
        assertTrue(e.getMessage().contains("model.dir is required"), e.getMessage());
        Configuration c = MpvssJob.parseArgs(new String[] {"--model.dir", TestBundles.dir().toString(),
                "--delivery.guarantee", "at-least-once"});
        e = assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.buildKafkaPipeline(StreamExecutionEnvironment.getExecutionEnvironment(), c));
        assertTrue(e.getMessage().contains("kafka.bootstrap-servers is required"), e.getMessage());
    }

    @Test
    void exactlyOnceWithoutCheckpointsIsRefused() {
        Configuration c = new Configuration();
        c.set(JobOptions.MODEL_DIR, TestBundles.dir().toString());
        c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MpvssJob.buildKafkaPipeline(StreamExecutionEnvironment.getExecutionEnvironment(), c));
        assertTrue(e.getMessage().contains("execution.checkpointing.interval"), e.getMessage());
        c.set(JobOptions.DELIVERY_GUARANTEE, DeliveryGuarantee.AT_LEAST_ONCE);
        MpvssJob.buildKafkaPipeline(StreamExecutionEnvironment.getExecutionEnvironment(), c);
        Configuration withCheckpoints = new Configuration();
        withCheckpoints.setString("execution.checkpointing.interval", "1 s");
        MpvssJob.buildKafkaPipeline(StreamExecutionEnvironment.getExecutionEnvironment(withCheckpoints),
                MpvssJob.parseArgs(new String[] {"--model.dir", TestBundles.dir().toString(),
                        "--kafka.bootstrap-servers", "localhost:9092"}));
    }

    @Test
    void checkpointsWithoutStorageAreRefusedByMain() {
        Configuration none = new Configuration();
        assertNull(MpvssJob.checkpointStorageProblem(StreamExecutionEnvironment.getExecutionEnvironment(none), none));
        Configuration memory = new Configuration();
        memory.setString("execution.checkpointing.interval", "1 s");
        String problem = MpvssJob.checkpointStorageProblem(
                StreamExecutionEnvironment.getExecutionEnvironment(memory), memory);
        assertNotNull(problem);
        assertTrue(problem.contains("execution.checkpointing.dir"), problem);
        Configuration onDisk = new Configuration(memory);
        onDisk.setString("execution.checkpointing.dir", "file:///tmp/mpvss-test-checkpoints");
        assertNull(MpvssJob.checkpointStorageProblem(StreamExecutionEnvironment.getExecutionEnvironment(onDisk), onDisk));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MpvssJob.main(new String[] {
                "--model.dir", TestBundles.dir().toString(), "--execution.checkpointing.interval", "1 s"}));
        assertTrue(e.getMessage().contains("execution.checkpointing.dir"), e.getMessage());
    }

    @Test
    void badModelDirFailsOnTheClientBeforeSubmission() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(1000);
        Configuration c = new Configuration();
        c.set(JobOptions.MODEL_DIR, "/nonexistent/bundle");
        c.set(JobOptions.BOOTSTRAP_SERVERS, "localhost:9092");
        InvalidBundleException e = assertThrows(InvalidBundleException.class, () -> MpvssJob.buildKafkaPipeline(env, c));
        assertTrue(e.getMessage().contains("/nonexistent/bundle"), e.getMessage());
    }

    @Test
    void pipelineRunsBetweenAnyEnds() throws Exception {
        List<FrameRecord> in = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            for (int seq = 0; seq < 7; seq++) {
                in.add(FrameRecord.of("cam-" + s, seq, 1000 + seq * 40L, TestFrames.jpeg(96, 64, s, seq)));
            }
        }
        in.add(FrameRecord.of("cam-0", 99, 5000, new byte[] {0, 1, 2}));
        in.add(FrameRecord.of("cam-1", 1, 5000, TestFrames.jpeg(96, 64, 1, 1)));
        in.add(FrameRecord.of("cam-2", 9, 5000, TestFrames.jpeg(96, 64, 1, 1)).withoutHeader(WireFormat.HEADER_TS));

        Configuration conf = new Configuration();
        conf.set(JobOptions.MODEL_DIR, TestBundles.dir().toString());
        conf.set(JobOptions.INFERENCE_DEVICE, InferenceOptions.Device.CPU);
        conf.set(JobOptions.KEY_INTERVAL, 3);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        DataStream<FrameRecord> frames = env.fromData(in, TypeInformation.of(FrameRecord.class)).setParallelism(1);
        MpvssJob.Outputs out = MpvssJob.build(frames, conf);
        DataStream<String> all = out.masks()
                .map(d -> "mask " + d.getStream() + " " + d.getSeq() + " " + d.isKeyFrame() + " " + d.getKeySeq())
                .returns(Types.STRING)
                .union(out.deadLetters().map(r -> "dead " + r.key + " " + r.headerString(WireFormat.DLQ_ERROR_CLASS))
                        .returns(Types.STRING));
        List<String> got = new ArrayList<>();
        try (CloseableIterator<String> it = all.executeAndCollect("pipeline-test")) {
            it.forEachRemaining(got::add);
        }
        assertEquals(in.size(), got.size(), got.toString());
        for (int s = 0; s < 3; s++) {
            String cam = "cam-" + s;
            List<String> masks = got.stream().filter(x -> x.startsWith("mask " + cam + " ")).toList();
            List<String> want = new ArrayList<>();
            for (int seq = 0; seq < 7; seq++) {
                want.add("mask " + cam + " " + seq + " " + (seq % 3 == 0) + " " + (seq - seq % 3));
            }
            assertEquals(want, masks, "in order, keys every 3");
        }
        assertTrue(got.contains("dead cam-0 undecodable-image"), got.toString());
        assertTrue(got.contains("dead cam-1 stale-or-duplicate"), got.toString());
        assertTrue(got.contains("dead cam-2 missing-header"), got.toString());
    }
}
