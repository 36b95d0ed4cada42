package io.mpvss.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;

import io.mpvss.format.FrameDecoder;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import io.mpvss.model.ModelManifest;
import io.mpvss.model.SegmentorOutput;
import io.mpvss.state.KeyFrameState;
import io.mpvss.state.KeyFrameStateSerializer;
import io.mpvss.state.KeyImageEncoding;
import io.mpvss.state.MaskPrecision;
import io.mpvss.state.StateCompaction;
import io.mpvss.state.StreamCursor;
import io.mpvss.state.StreamCursorSerializer;

/**
 * What the key-frame state costs a cluster (issue 9, "state churn"): S streams at F frames/s with key interval K in a
 * Flink MiniCluster with RocksDB and incremental checkpoints to a local directory, the operator's own state layout
 * (the key frame in a {@code ValueState} with {@link KeyFrameStateSerializer}, rewritten on every key frame; the
 * {@link StreamCursor} on every frame; the key frame read back on every other frame, as the job does).
 *
 * <p>The model is not run here: at 256 streams x 10 frames/s this machine could not run the segmentor at the key-frame
 * rate, and the state traffic does not depend on it. The key frames are real, though: the bundle's segmentor on
 * {@code T} real frames, compacted as the job compacts them, written in rotation so that RocksDB does not see one
 * value over and over. Reports the state bytes per stream, key frames/s achieved, state bytes written/s (size x key
 * frames/s), and from the checkpoint coordinator's statistics the full and incremental checkpoint sizes and their
 * durations, plus the largest size of the checkpoint directory on disk.
 *
 * <pre>
 * StateChurnBench --frames DIR --model DIR [--streams 64,256] [--fps 10] [--k 5] [--seconds 30]
 *                 [--checkpoint-ms 5000] [--compactions uint8+jpeg95,fp16+raw] [--templates 8] [--out DIR]
 * </pre>
 */
public final class StateChurnBench {

    /** Key frames and reads done by the operator of the running job (the MiniCluster shares this JVM). */
    static final AtomicLong KEY_FRAMES = new AtomicLong();
    static final AtomicLong READS = new AtomicLong();
    /** System.nanoTime() of the first and the last frame processed: the rates are over this span (startup aside). */
    static final AtomicLong FIRST_NS = new AtomicLong();
    static final AtomicLong LAST_NS = new AtomicLong();

    private StateChurnBench() {
    }

    /** One run. */
    public record Result(String compaction, int streams, int fps, int k, int stateBytes, double seconds,
                         long keyFrames, double keyFramesPerSec, double bytesWrittenPerSec, int checkpoints,
                         long fullCheckpointBytes, double meanIncrementalBytes, long maxIncrementalBytes,
                         double meanDurationMs, long maxDurationMs, long maxDirBytes) {
    }

    /** {@code [--clips DIR] [--model.dir DIR] [--streams 64,256] [--fps 10] [--k 5] [--seconds 30]
     * [--checkpoint-ms 5000] [--templates 8] [--compactions uint8+jpeg95,fp16+raw] [--out DIR]}. */
    public static void main(String[] argv) throws Exception {
        BenchMain.run("StateChurnBench", null, argv, StateChurnBench::bench);
    }

    static void bench(Args args) throws Exception {
        Path frames = RepoPaths.clipsDir(args);
        Path model = RepoPaths.modelDir(args);
        RepoPaths.requireModelBundle(model);
        List<Integer> streams = args.getIntList("streams", List.of(64, 256));
        int fps = args.getPositiveInt("fps", 10);
        int k = args.getPositiveInt("k", 5);
        int seconds = args.getPositiveInt("seconds", 30);
        long checkpointMs = args.getLong("checkpoint-ms", 5000);
        int templates = args.getPositiveInt("templates", 8);
        List<String> compactions = args.getList("compactions", List.of("uint8+jpeg95", "fp16+raw"));
        Path out = args.getPath("out", Path.of("target/state-churn"));
        args.rejectUnknown();
        PrintStream log = System.out;
        Files.createDirectories(out);
        BenchFrames clips = BenchFrames.load(frames, templates, 1);
        List<Result> results = new ArrayList<>();
        for (String c : compactions) {
            StateCompaction sc = parse(c);
            byte[][] tpl = templates(model, clips, templates, sc);
            for (int s : streams) {
                Result r = run(tpl, sc, s, fps, k, seconds, checkpointMs, out.resolve("checkpoints"), log);
                results.add(r);
                log.println(r);
            }
        }
        StringBuilder md = new StringBuilder();
        md.append("| state | streams | state bytes/stream | key frames/s achieved (target) | state bytes written/s | checkpoints | "
                + "full checkpoint | incremental checkpoint mean / max | duration mean / max | checkpoint dir max |\n"
                + "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %,d | %.1f (%.1f) | %.1f MB/s | %d | %.1f MB | %.1f / %.1f MB"
                            + " | %.0f / %d ms | %.1f MB |%n", r.compaction(), r.streams(), r.stateBytes(),
                    r.keyFramesPerSec(), (double) r.streams() * r.fps() / r.k(), r.bytesWrittenPerSec() / 1e6,
                    r.checkpoints(), r.fullCheckpointBytes() / 1e6, r.meanIncrementalBytes() / 1e6,
                    r.maxIncrementalBytes() / 1e6, r.meanDurationMs(), r.maxDurationMs(), r.maxDirBytes() / 1e6));
        }
        Files.writeString(out.resolve("state-churn.md"), md.toString());
        log.print(md);
    }

    /** {@code uint8+jpeg95}, {@code fp16+raw}, ... (the labels of {@link StateProbe#label}). */
    static StateCompaction parse(String label) {
        String[] p = label.split("\\+");
        MaskPrecision m = MaskPrecision.valueOf(p[0].toUpperCase(Locale.ROOT));
        if (p[1].equals("raw")) {
            return new StateCompaction(m, KeyImageEncoding.RAW, 100);
        }
        if (!p[1].startsWith("jpeg")) {
            throw new IllegalArgumentException("key image must be raw or jpegQ: " + label);
        }
        return new StateCompaction(m, KeyImageEncoding.JPEG, Integer.parseInt(p[1].substring(4)));
    }

    /** The serialized key frames of the segmentor on {@code n} real frames (one per clip), compacted as the job does. */
    static byte[][] templates(Path model, BenchFrames clips, int n, StateCompaction sc) throws IOException {
        byte[][] out = new byte[n][];
        try (ModelBundle bundle = ModelBundle.open(model, InferenceOptions.cpu())) {
            ModelManifest m = bundle.manifest();
            for (int i = 0; i < n; i++) {
                FrameDecoder.Rgb rgb = BenchFrames.decode(clips.frame(i, 0));
                byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), m.width(),
                        m.height());
                SegmentorOutput so = bundle.segment(img);
                KeyFrameState st = KeyFrameState.of(m.modelId(), 0, 0, rgb.width(), rgb.height(), img, m.width(),
                        m.height(), so, sc);
                DataOutputSerializer buf = new DataOutputSerializer(1 << 16);
                KeyFrameStateSerializer.INSTANCE.serialize(st, buf);
                out[i] = buf.getCopyOfBuffer();
            }
        }
        return out;
    }

    static Result run(byte[][] templates, StateCompaction sc, int streams, int fps, int k, int seconds,
                      long checkpointMs, Path checkpointRoot, PrintStream log) throws Exception {
        Path dir = checkpointRoot.resolve(StateProbe.label(sc) + "-s" + streams).toAbsolutePath();
        deleteTree(dir);
        Files.createDirectories(dir);
        Configuration conf = new Configuration();
        conf.setString("state.backend.type", "rocksdb");
        conf.setString("execution.checkpointing.incremental", "true");
        conf.setString("execution.checkpointing.dir", dir.toUri().toString());
        conf.setString("execution.checkpointing.interval", checkpointMs + " ms");
        conf.setString("execution.checkpointing.mode", "EXACTLY_ONCE");
        conf.setString("web.checkpoints.history", "1000");
        conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.ofMebiBytes(512));
        MiniClusterConfiguration mcc = new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(1).build();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        long total = (long) streams * fps * seconds;
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(i -> i, total,
                RateLimiterStrategy.perSecond((double) streams * fps), Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "frames")
                .keyBy(i -> (int) (i % streams), Types.INT)
                .process(new Churn(templates, streams, k, fps)).returns(Types.LONG)
                .sinkTo(new DiscardingSink<>());

        KEY_FRAMES.set(0);
        READS.set(0);
        FIRST_NS.set(0);
        LAST_NS.set(0);
        long maxDir = 0;
        try (MiniCluster mc = new MiniCluster(mcc)) {
            mc.start();
            JobID id = mc.submitJob(env.getStreamGraph()).get().getJobID();
            long t0 = System.nanoTime();
            var result = mc.requestJobResult(id);
            while (!result.isDone()) {
                maxDir = Math.max(maxDir, treeSize(dir));
                Thread.sleep(500);
            }
            double wall = (System.nanoTime() - t0) / 1e9;
            double sec = (LAST_NS.get() - FIRST_NS.get()) / 1e9;
            JobResult jr = result.get(10, TimeUnit.SECONDS);
            if (!jr.isSuccess()) {
                throw new IllegalStateException("churn job failed", jr.getSerializedThrowable().orElse(null));
            }
            ArchivedExecutionGraph g = mc.getArchivedExecutionGraph(id).get(30, TimeUnit.SECONDS);
            CheckpointStatsSnapshot cs = g.getCheckpointStatsSnapshot();
            List<AbstractCheckpointStats> done = new ArrayList<>();
            for (AbstractCheckpointStats c : cs.getHistory().getCheckpoints()) {
                if (c.getStatus() == CheckpointStatsStatus.COMPLETED) {
                    done.add(c);
                }
            }
            done.sort(Comparator.comparingLong(AbstractCheckpointStats::getCheckpointId));
            for (AbstractCheckpointStats c : done) {
                log.printf(Locale.ROOT, "  checkpoint %d: full %.1f MB, incremental %.1f MB, %d ms%n",
                        c.getCheckpointId(), c.getStateSize() / 1e6, c.getCheckpointedSize() / 1e6,
                        c.getEndToEndDuration());
            }
            long keys = KEY_FRAMES.get();
            double meanTpl = 0;
            for (byte[] t : templates) {
                meanTpl += t.length;
            }
            meanTpl /= templates.length;
            long frames = keys + READS.get();
            // the first checkpoint uploads everything and the last one is taken after the source finished: report
            // the full size of the largest and the incremental size of those in between
            long full = done.stream().mapToLong(AbstractCheckpointStats::getStateSize).max().orElse(0);
            List<AbstractCheckpointStats> steady = done.size() > 2 ? done.subList(1, done.size() - 1) : done;
            double incMean = steady.stream().mapToLong(AbstractCheckpointStats::getCheckpointedSize).average()
                    .orElse(0);
            long incMax = steady.stream().mapToLong(AbstractCheckpointStats::getCheckpointedSize).max().orElse(0);
            double durMean = steady.stream().mapToLong(AbstractCheckpointStats::getEndToEndDuration).average()
                    .orElse(0);
            long durMax = done.stream().mapToLong(AbstractCheckpointStats::getEndToEndDuration).max().orElse(0);
            log.printf(Locale.ROOT, "%s S=%d: %d key frames, %d reads in %.1f s (job %.1f s); load %s%n",
                    StateProbe.label(sc), streams, keys, READS.get(), sec, wall, Files.readString(Path.of("/proc/loadavg")).trim());
            // bytes written per second: the key frames (mean size of the rotation) and the 21-byte cursor per frame
            return new Result(StateProbe.label(sc), streams, fps, k, (int) Math.round(meanTpl), sec, keys,
                    keys / sec, (meanTpl * keys + (double) StreamCursorSerializer.INSTANCE.getLength() * frames) / sec, done.size(), full, incMean, incMax, durMean, durMax, maxDir);
        } finally {
            deleteTree(dir);
        }
    }

    /** The operator's state traffic without the model: key frame written every K frames, read on the others. */
    static final class Churn extends KeyedProcessFunction<Integer, Long, Long> {
        private final byte[][] templates;
        private final int streams;
        private final int k;
        private final int fps;
        private transient KeyFrameState[] states;
        private transient ValueState<KeyFrameState> key;
        private transient ValueState<StreamCursor> cursor;

        Churn(byte[][] templates, int streams, int k, int fps) {
            this.templates = templates;
            this.streams = streams;
            this.k = k;
            this.fps = fps;
        }

        @Override
        public void open(OpenContext ctx) throws IOException {
            states = new KeyFrameState[templates.length];
            for (int i = 0; i < templates.length; i++) {
                states[i] = KeyFrameStateSerializer.INSTANCE.deserialize(new DataInputDeserializer(templates[i]));
            }
            // the operator's state names and serializers (MaskPropagation.KEY_STATE, CURSOR_STATE)
            key = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("key-frame", KeyFrameStateSerializer.INSTANCE));
            cursor = getRuntimeContext().getState(
                    new ValueStateDescriptor<>("stream-cursor", StreamCursorSerializer.INSTANCE));
        }

        @Override
        public void processElement(Long i, Context ctx, Collector<Long> out) throws Exception {
            long now = System.nanoTime();
            FIRST_NS.compareAndSet(0, now);
            LAST_NS.set(now);
            int s = (int) (i % streams);
            long seq = i / streams;
            StreamCursor c = cursor.value();
            if (seq % k == 0 || c == null) {
                key.update(states[(int) ((s + seq / k) % states.length)]);
                KEY_FRAMES.incrementAndGet();
            } else {
                if (key.value() == null) {
                    throw new IllegalStateException("no key frame for stream " + s);
                }
                READS.incrementAndGet();
            }
            cursor.update(new StreamCursor(seq, seq * 1000 / fps, c == null ? 0 : c.framesSinceKey() + 1));
        }
    }

    static long treeSize(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0; // deleted while walking (a subsumed checkpoint)
                }
            }).sum();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
