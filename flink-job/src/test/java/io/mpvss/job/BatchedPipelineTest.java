package io.mpvss.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpvss.config.JobOptions;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.MaskDocument;
import io.mpvss.format.TestFrames;
import io.mpvss.format.WireFormat;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.TestBundles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;

/**
 * The whole pipeline ({@link MpvssJob#build}) on a Flink MiniCluster with cross-stream batches of 4, checkpoints
 * every 100 ms (so pre-barrier flushes happen mid-stream) and parallelism 2, against the same pipeline with batch 1:
 * every frame's document and every dead letter must be the same.
 */
class BatchedPipelineTest {

    static List<FrameRecord> input() {
        List<FrameRecord> in = new ArrayList<>();
        for (int seq = 0; seq < 9; seq++) {
            for (int s = 0; s < 5; s++) {
                in.add(FrameRecord.of("cam-" + s, seq, 1000 + seq * 40L, TestFrames.jpeg(128, 72, s, seq)));
            }
            if (seq == 4) {
                in.add(FrameRecord.of("cam-3", 99, 5000, new byte[] {0, 1, 2}));
                in.add(FrameRecord.of("cam-1", 2, 5000, TestFrames.jpeg(128, 72, 1, 2)));
            }
        }
        return in;
    }

    /** "mask|dead stream#seq" -> a line with the key decision and the label map; dead letters as stream + error class. */
    static TreeMap<String, String> run(int batch) throws Exception {
        return run(batch, false);
    }

    static TreeMap<String, String> run(int batch, boolean decodeBeforeKeyBy) throws Exception {
        return run(batch, decodeBeforeKeyBy, Duration.ZERO);
    }

    static TreeMap<String, String> run(int batch, boolean decodeBeforeKeyBy, Duration shedLag) throws Exception {
        Configuration conf = new Configuration();
        conf.set(JobOptions.MODEL_DIR, TestBundles.dir().toString());
        conf.set(JobOptions.INFERENCE_DEVICE, InferenceOptions.Device.CPU);
        conf.set(JobOptions.KEY_INTERVAL, 3);
        conf.set(JobOptions.INFERENCE_BATCH_MAX, batch);
        conf.set(JobOptions.INFERENCE_BATCH_WAIT, Duration.ofMillis(20));
        conf.set(JobOptions.FRAMES_DECODE_BEFORE_KEYBY, decodeBeforeKeyBy);
        conf.set(JobOptions.OVERLOAD_SHED_LAG, shedLag);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(100);
        DataStream<FrameRecord> frames = env.fromData(input(), TypeInformation.of(FrameRecord.class)).setParallelism(1);
        MpvssJob.Outputs out = MpvssJob.build(frames, conf);
        DataStream<String> all = out.masks()
                .map(BatchedPipelineTest::line)
                .returns(Types.STRING)
                .union(out.deadLetters().map(r -> "dead " + r.key + "#" + r.headerString(WireFormat.HEADER_SEQ)
                                + " " + r.headerString(WireFormat.DLQ_ERROR_CLASS))
                        .returns(Types.STRING));
        TreeMap<String, String> got = new TreeMap<>();
        try (CloseableIterator<String> it = all.executeAndCollect("batched-pipeline-" + batch)) {
            it.forEachRemaining(x -> {
                String[] w = x.split(" ");
                got.put(w[0] + " " + w[1], x);
            });
        }
        return got;
    }

    static String line(MaskDocument d) {
        return "mask " + d.getStream() + "#" + d.getSeq() + " key=" + d.isKeyFrame() + " from=" + d.getKeySeq()
                + " reason=" + d.getKeyReason() + (d.getShed() != null ? " shed" : "")
                + " png=" + Base64.getEncoder().encodeToString(d.getLabelMapPng());
    }

    @Test
    void batchesOfFourGiveTheMasksOfBatchOne() throws Exception {
        TreeMap<String, String> one = run(1);
        TreeMap<String, String> four = run(4);
        assertEquals(input().size(), one.size(), "one entry per frame");
        assertEquals(one.keySet(), four.keySet());
        for (String k : one.keySet()) {
            assertEquals(one.get(k), four.get(k), k);
        }
    }

    /**
     * Shedding in the whole pipeline: the input's capture times are from 1970, so every frame is late; each stream's
     * first frame is inferred (nothing to repeat yet), every later one is shed and repeats it, in batches of 4 as in
     * batches of 1; bad and duplicate frames are still dead letters of their classes.
     */
    @Test
    void lateFramesAreShedWithTheirStreamsLastMask() throws Exception {
        for (int batch : new int[] {1, 4}) {
            TreeMap<String, String> got = run(batch, false, Duration.ofSeconds(5));
            assertEquals(input().size(), got.size(), "one entry per frame");
            for (int s = 0; s < 5; s++) {
                String first = got.get("mask cam-" + s + "#0");
                assertTrue(first.contains(" key=true ") && !first.contains(" shed "), first);
                String png = first.substring(first.indexOf(" png="));
                for (int seq = 1; seq < 9; seq++) {
                    String d = got.get("mask cam-" + s + "#" + seq);
                    assertTrue(d.contains(" key=false from=0 ") && d.contains(" shed png="), d);
                    assertTrue(d.endsWith(png), "repeats seq 0: " + d);
                }
            }
            assertEquals("dead cam-3#99 " + WireFormat.ERR_UNDECODABLE_IMAGE, got.get("dead cam-3#99"));
            assertEquals("dead cam-1#2 " + WireFormat.ERR_STALE_OR_DUPLICATE, got.get("dead cam-1#2"));
        }
    }

    /**
     * Decoding in the validator (frames.decode-before-keyby) hands the operator the same pixels it would decode
     * itself: same documents, and the undecodable frame is still a dead letter of the same class.
     */
    @Test
    void decodingBeforeKeyByGivesTheSameMasks() throws Exception {
        TreeMap<String, String> operatorDecodes = run(1, false);
        TreeMap<String, String> validatorDecodes = run(2, true);
        assertEquals(operatorDecodes, validatorDecodes);
    }
}
