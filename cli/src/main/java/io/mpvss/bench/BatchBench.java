package io.mpvss.bench;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import io.mpvss.cli.FrameSender;
import io.mpvss.cli.KafkaClients;
import io.mpvss.cli.LocalJob;
import io.mpvss.cli.UsageException;
import io.mpvss.config.JobOptions;
import io.mpvss.kafka.EmbeddedKafka;
import io.mpvss.metrics.LabelClips;
import io.mpvss.metrics.LatencyStats;
import io.mpvss.metrics.MaskScores;
import io.mpvss.model.InferenceOptions;
import io.mpvss.model.ModelBundle;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * The benchmarks of issue 9, side by side and interleaved (every variant in every round), on one embedded Kafka
 * broker and local MiniClusters:
 *
 * <ul>
 *   <li>{@code --mode sweep}: for each S and each {@code inference.batch.max} B, the model-only bound
 *       ({@link ModelOnlyBench}, batch B) and the end-to-end backlog drain ({@link PipelineBench}, the job with
 *       {@code inference.batch.max=B}), so end to end / model-only and batch B / batch 1 come from the same round;</li>
 *   <li>{@code --mode overload}: S labelled streams offered at {@code --load} x the job's measured capacity for
 *       {@code --seconds}, with the overload rule off and on (interleaved): capture-to-mask latency over every frame
 *       (including the drain after the cameras stop), frames/s, the key interval in force, and mIoU against the
 *       clips' labels.</li>
 * </ul>
 * Output: a Markdown table per mode on stdout.
 */
public final class BatchBench {

    private BatchBench() {
    }

    static final String USAGE = String.join("\n",
            "usage: BatchBench --mode sweep|overload [options] [--<job option> VALUE ...]",
            "  --clips DIR          labelled clips (default model-ops/demo-clips)",
            "  --model.dir DIR      model bundle (default model-ops/bundle)",
            "  --streams LIST       sweep: streams S (default 1,8,64); overload: one S (default 3)",
            "  --batches LIST       sweep: inference.batch.max values (default 1,2,4,8; capped at S); a 'd' suffix",
            "                       (e.g. 1d) also sets frames.decode-before-keyby=true for the end-to-end run",
            "  --k N                key interval (default 5)",
            "  --frames-total N     sweep: backlog frames per end-to-end run (default 320)",
            "  --model-only-frames-total N  sweep: frames per model-only run (default 200)",
            "  --rounds N           sweep: interleaved rounds, the best of each variant counts (default 1)",
            "  --end-to-end BOOL    sweep: also run the job end to end (default true; false: model-only only)",
            "  --seconds N          overload: how long the cameras send (default 60)",
            "  --load X             overload: offered rate = X x the measured backlog rate (default 2)",
            "  --capacity FPS       overload: skip the capacity run and use this rate",
            "  --variants LIST      overload: the runs, in this order (default off,on)",
            "  --lag-bound MS       overload: overload.lag-bound of the 'on' and 'shed' runs (default 1000)",
            "  --shed-lag MS        overload: overload.shed-lag of the 'shed' run (default 3 x --lag-bound)",
            "  --max-interval N     overload: key.max-interval of the 'on' run (default 0 = 2K)",
            "  --timeout DURATION   give up on a run after this long (default 300s)",
            "  --<job option> VALUE job option for every run, e.g. --inference.threads 1");

    /** Every option of both modes, read and checked before anything runs. */
    record Options(String mode, Path model, Path clips, int k, Duration timeout, Map<String, String> settings,
            List<Integer> streams, List<String> batches, int framesTotal, int modelOnlyFramesTotal, int rounds,
            boolean endToEnd, double seconds, double load, long lagBound, long shedLag, int maxInterval,
            Double capacity, List<String> variants) {

        static Options parse(Args a) {
            String mode = a.get("mode", "sweep");
            if (!mode.equals("sweep") && !mode.equals("overload")) {
                throw new UsageException("--mode: sweep or overload, found " + mode);
            }
            Path model = RepoPaths.modelDir(a);
            RepoPaths.requireModelBundle(model);
            long lagBound = a.getLong("lag-bound", 1000);
            Path clips = RepoPaths.clipsDir(a);
            int k = a.getPositiveInt("k", 5);
            Duration timeout = a.getDuration("timeout", Duration.ofSeconds(300));
            List<Integer> streams = a.getIntList("streams", mode.equals("sweep") ? List.of(1, 8, 64) : List.of(3));
            List<String> batches = a.getList("batches", List.of("1", "2", "4", "8"));
            int framesTotal = a.getPositiveInt("frames-total", 320);
            int modelOnlyFramesTotal = a.getPositiveInt("model-only-frames-total", 200);
            int rounds = a.getPositiveInt("rounds", 1);
            boolean endToEnd = a.getBoolean("end-to-end", true);
            double seconds = a.getDouble("seconds", 60);
            double load = a.getDouble("load", 2);
            long shedLag = a.getLong("shed-lag", 3 * lagBound);
            int maxInterval = a.getInt("max-interval", 0);
            Double capacity = a.has("capacity") ? a.getDouble("capacity", 0) : null;
            List<String> variants = a.getList("variants", List.of("off", "on"));
            // what is left with a dot in its key is a job option for every run
            Map<String, String> settings = new LinkedHashMap<>(a.jobSettings());
            settings.put("model.dir", model.toString());
            a.rejectUnknown();
            if (mode.equals("overload") && streams.size() != 1) {
                throw new UsageException("--streams: overload takes one number of streams, found " + streams);
            }
            for (String v : variants) {
                if (!List.of("off", "on", "shed").contains(v)) {
                    throw new UsageException("--variants: off, on or shed, found " + v);
                }
            }
            return new Options(mode, model, clips, k, timeout, settings, streams, batches, framesTotal,
                    modelOnlyFramesTotal, rounds, endToEnd, seconds, load, lagBound, shedLag, maxInterval, capacity,
                    variants);
        }
    }

    public static void main(String[] args) throws Exception {
        BenchMain.run("BatchBench", USAGE, args, BatchBench::bench);
    }

    static void bench(Args a) throws Exception {
        Options o = Options.parse(a);
        PrintStream log = System.err;
        log.printf("BatchBench %s, load average %s%n", String.join(" ", a.toArgv()), loadAverage());
        if (o.mode().equals("sweep")) {
            sweep(o, log);
        } else {
            overload(o, log);
        }
        log.printf("BatchBench done, load average %s%n", loadAverage());
        System.exit(0); // the MiniClusters' and the broker's threads need not be waited for
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim().replaceAll("^(\\S+ \\S+ \\S+).*", "$1");
        } catch (Exception e) {
            return "n/a";
        }
    }

    static List<Integer> ints(String v) {
        List<Integer> r = new ArrayList<>();
        for (String x : v.split(",")) {
            r.add(Integer.parseInt(x.trim()));
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------- sweep

    static void sweep(Options o, PrintStream log) throws Exception {
        Map<String, String> settings = o.settings();
        Path model = o.model();
        int k = o.k();
        Duration timeout = o.timeout();
        List<Integer> streams = o.streams();
        List<String> batches = o.batches();
        int framesTotal = o.framesTotal();
        int moTotal = o.modelOnlyFramesTotal();
        int rounds = o.rounds();
        boolean endToEnd = o.endToEnd();
        BenchFrames frames = BenchFrames.load(o.clips(), 16, 1000);
        int threads = settings.containsKey(JobOptions.INFERENCE_THREADS.key())
                ? Integer.parseInt(settings.get(JobOptions.INFERENCE_THREADS.key()))
                : JobOptions.INFERENCE_THREADS.defaultValue();
        // best model-only frames/s per "S/B", best end-to-end frames/s per "S/variant"
        Map<String, Double> mo = new LinkedHashMap<>();
        Map<String, Double> e2e = new LinkedHashMap<>();
        Map<String, String> e2eNote = new LinkedHashMap<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             ModelBundle bundle = ModelBundle.open(model, new InferenceOptions(InferenceOptions.Device.CPU, threads, 0))) {
            for (int round = 0; round < rounds; round++) {
                for (int s : streams) {
                    for (String v : batches) {
                        boolean decode = v.endsWith("d");
                        int b = Integer.parseInt(decode ? v.substring(0, v.length() - 1) : v);
                        if (b > 1 && b > s) {
                            continue;
                        }
                        String moKey = s + "/" + b;
                        double m = Double.NaN;
                        if (!decode) { // the model-only loop does not decode: one run per S and B
                            int perStreamMo = Math.max(2 * k, (int) Math.ceil((double) moTotal / s / k) * k);
                            m = ModelOnlyBench.run(bundle, frames, s, k, perStreamMo, k, b, log).fps();
                            mo.merge(moKey, m, Math::max);
                        }
                        if (!endToEnd) {
                            log.printf(Locale.ROOT, "round %d S=%d B=%s: model-only %.1f frames/s (load %s)%n",
                                    round + 1, s, v, m, loadAverage());
                            e2eNote.put(s + "/" + v, "not run");
                            continue;
                        }
                        int perStream = Math.max(2 * k, (int) Math.ceil((double) framesTotal / s / k) * k);
                        Map<String, String> st = new LinkedHashMap<>(settings);
                        st.put("inference.batch.max", Integer.toString(b));
                        st.put("frames.decode-before-keyby", Boolean.toString(decode));
                        PipelineBench.Result r = PipelineBench.run(kafka, frames, new PipelineBench.Run("backlog",
                                "at-least-once", s, k, perStream, 0, 0, 1000, 2, st, timeout), log);
                        String key = s + "/" + v;
                        if (r.complete()) {
                            e2e.merge(key, r.fps(), Math::max);
                        } else {
                            e2eNote.put(key, "incomplete run " + r.masksReceived() + "/" + r.framesSent());
                        }
                        log.printf(Locale.ROOT, "round %d S=%d B=%s: model-only %.1f, end to end %.1f frames/s "
                                + "(load %s)%n", round + 1, s, v, m, r.fps(), loadAverage());
                    }
                }
            }
        }
        System.out.println("| S | batch | decode before keyBy | model-only frames/s (batch) | end-to-end frames/s "
                + "| end to end / model-only | model-only vs batch 1 | end to end vs batch 1 |");
        System.out.println("|---:|---:|---|---:|---:|---:|---:|---:|");
        for (int s : streams) {
            for (String v : batches) {
                String key = s + "/" + v;
                if (!e2e.containsKey(key) && !e2eNote.containsKey(key)) {
                    continue;
                }
                boolean decode = v.endsWith("d");
                String b = decode ? v.substring(0, v.length() - 1) : v;
                double m = mo.getOrDefault(s + "/" + b, Double.NaN);
                Double e = e2e.get(key);
                double m1 = mo.getOrDefault(s + "/1", Double.NaN);
                Double e1 = e2e.get(s + "/1");
                System.out.printf(Locale.ROOT, "| %d | %s | %s | %.1f | %s | %s | %.2fx | %s |%n", s, b,
                        decode ? "yes" : "no", m,
                        e == null ? e2eNote.get(key) : String.format(Locale.ROOT, "%.1f", e),
                        e == null ? "n/a" : String.format(Locale.ROOT, "%.0f%%", 100 * e / m), m / m1,
                        e == null || e1 == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", e / e1));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- overload

    /** Ground truth of stream s's t-th frame: the clips loop, as {@link BenchFrames#frame} does. */
    record Truth(List<List<Path>> labels) {
        Path label(int s, long t) {
            List<Path> c = labels.get(s % labels.size());
            return c.get((int) (t % c.size()));
        }

        int clipLength(int s) {
            return labels.get(s % labels.size()).size();
        }
    }

    /** What one overload run measured. */
    record OverloadResult(String variant, int streams, double offeredFps, long sent, long received, double sendSeconds,
            double processedFps, LatencyStats.Summary latency, double meanInterval, int maxInterval, double keyShare,
            double miou, long scored, double drainSeconds, double shedShare) {
    }

    static void overload(Options o, PrintStream log) throws Exception {
        Map<String, String> settings = o.settings();
        Path framesDir = o.clips();
        int k = o.k();
        Duration timeout = o.timeout();
        int s = o.streams().get(0);
        double seconds = o.seconds();
        double load = o.load();
        long lagBound = o.lagBound();
        long shedLag = o.shedLag();
        int maxInterval = o.maxInterval();
        BenchFrames frames = BenchFrames.load(framesDir, 16, 1000);
        List<List<Path>> labels = new ArrayList<>();
        for (LabelClips.Clip c : LabelClips.list(framesDir)) {
            if (labels.size() >= 16) {
                break;
            }
            labels.add(c.frames().stream().map(LabelClips.Frame::label).toList());
        }
        Truth truth = new Truth(labels);
        List<OverloadResult> results = new ArrayList<>();
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            double capacity;
            if (o.capacity() != null) {
                capacity = o.capacity();
            } else {
                Map<String, String> st = new LinkedHashMap<>(settings);
                PipelineBench.Result r = PipelineBench.run(kafka, frames, new PipelineBench.Run("backlog",
                        "at-least-once", s, k, Math.max(4 * k, 240 / s), 0, 0, 1000, 2, st, timeout), log);
                capacity = r.fps();
                log.printf(Locale.ROOT, "capacity (backlog drain, S=%d K=%d): %.1f frames/s%n", s, k, capacity);
            }
            double rate = load * capacity;
            for (String variant : o.variants()) {
                Map<String, String> st = new LinkedHashMap<>(settings);
                if (variant.equals("on") || variant.equals("shed")) {
                    st.put("overload.lag-bound", lagBound + " ms");
                    st.put("key.max-interval", Integer.toString(maxInterval));
                    st.put("key.stagger", "true");
                }
                if (variant.equals("shed")) {
                    st.put("overload.shed-lag", shedLag + " ms");
                }
                results.add(overloadRun(kafka, frames, truth, variant, s, k, rate, seconds, st, timeout, log));
            }
        }
        System.out.printf(Locale.ROOT, "Offered: %d streams at %.1f frames/s in all (%.1fx the measured capacity) "
                + "for %.0f s, K=%d, at-least-once, 1 s checkpoints.%n%n", s, rate(results), load, seconds, k);
        System.out.println("| overload rule | frames sent | frames/s processed | latency p50 / p95 / p99 / max (ms) "
                + "| drain after the cameras stop (s) | mean / max key interval | key frames | shed frames | mIoU (%) |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (OverloadResult r : results) {
            String name = switch (r.variant()) {
                case "on" -> "on (" + lagBound + " ms bound)";
                case "shed" -> "on + shedding (" + lagBound + " ms bound, shed past " + shedLag + " ms)";
                default -> "off";
            };
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.0f / %.0f / %.0f / %.0f | %.1f | %.2f / %d | %.1f%% | %.1f%% | %.1f |%n",
                    name, r.sent(), r.processedFps(), r.latency().p50(), r.latency().p95(), r.latency().p99(),
                    r.latency().max(), r.drainSeconds(), r.meanInterval(), r.maxInterval(), 100 * r.keyShare(),
                    100 * r.shedShare(), 100 * r.miou());
        }
    }

    private static double rate(List<OverloadResult> rs) {
        return rs.isEmpty() ? Double.NaN : rs.get(0).offeredFps();
    }

    private static OverloadResult overloadRun(EmbeddedKafka kafka, BenchFrames frames, Truth truth, String variant,
            int s, int k, double rate, double seconds, Map<String, String> extra, Duration timeout, PrintStream log)
            throws Exception {
        String id = "overload-" + variant + "-" + System.nanoTime();
        String framesTopic = "frames-" + id;
        String masksTopic = "masks-" + id;
        String dlqTopic = "dlq-" + id;
        kafka.createTopics(Map.of(framesTopic, 2, masksTopic, 2, dlqTopic, 1));
        Map<String, String> st = new LinkedHashMap<>();
        st.put("parallelism.default", "1");
        Path ckpt = Files.createTempDirectory("mpvss-overload-ckpt-");
        st.put("execution.checkpointing.dir", ckpt.toUri().toString());
        st.put("execution.checkpointing.interval", "1000 ms");
        st.put("restart-strategy.type", "none");
        st.putAll(extra);
        st.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        st.put("kafka.topic.frames", framesTopic);
        st.put("kafka.topic.masks", masksTopic);
        st.put("kafka.topic.dlq", dlqTopic);
        st.put("kafka.group-id", id);
        st.put("kafka.transactional-id-prefix", id);
        st.put("kafka.starting-offsets", "earliest");
        st.put("delivery.guarantee", "at-least-once");
        st.put("key.interval", Integer.toString(k));
        Configuration conf = Configuration.fromMap(st);

        // stream s's t-th frame: its clip's frame t mod length; at every loop the seq jumps by 10 (a new clip:
        // the seq-gap rule takes a key frame, as a camera's scene change would need)
        Map<String, byte[]> docs = new ConcurrentHashMap<>();
        LatencyStats[] latency = {new LatencyStats()};
        long[] firstLast = {0, 0};
        Thread collector;
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(KafkaClients.consumer(kafka.bootstrapServers(),
                PipelineBench.COLLECTOR, "collect-" + id));
        consumer.subscribe(List.of(masksTopic));
        boolean[] running = {true};
        collector = new Thread(() -> {
            try {
                while (running[0]) {
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                        long now = System.currentTimeMillis();
                        MaskDocument d = MaskDocument.fromJson(r.value());
                        String key = d.getStream() + "#" + d.getSeq();
                        if (docs.putIfAbsent(key, r.value()) == null) {
                            synchronized (latency) {
                                latency[0].add(now - d.getCaptureTs());
                                if (firstLast[0] == 0) {
                                    firstLast[0] = System.nanoTime();
                                }
                                firstLast[1] = System.nanoTime();
                            }
                        }
                    }
                }
            } finally {
                consumer.close();
            }
        }, "overload-collector");
        collector.setDaemon(true);
        long sent = 0;
        double sendSec;
        Map<String, long[]> sentFrames = new LinkedHashMap<>(); // stream#seq -> {s, t}
        try (FrameSender producer = new FrameSender(KafkaClients.producer(kafka.bootstrapServers(),
                PipelineBench.PRODUCER), framesTopic)) {
            producer.awaitLeaders(List.of(framesTopic, masksTopic, dlqTopic), Duration.ofSeconds(30));
            collector.start();
            LocalJob job = LocalJob.startKafkaPipeline(conf, id);
            try {
                // warm-up: one frame per stream (model load, first key frames); the latency clock starts after it
                long t = 0;
                for (int i = 0; i < s; i++) {
                    producer.send(PipelineBench.streamId(i), seq(truth, i, t), System.currentTimeMillis(),
                            frames.frame(i, t));
                }
                producer.flush();
                long end = System.currentTimeMillis() + timeout.toMillis();
                while (docs.size() < s && System.currentTimeMillis() < end) {
                    Thread.sleep(20);
                }
                docs.clear();
                synchronized (latency) {
                    latency[0] = new LatencyStats();
                    firstLast[0] = 0;
                }
                log.printf(Locale.ROOT, "overload %s: warm, sending %d streams at %.1f frames/s for %.0f s%n",
                        variant, s, rate, seconds);
                long p0 = System.nanoTime();
                long nextLog = p0 + 10_000_000_000L;
                for (t = 1; ; t++) {
                    for (int i = 0; i < s; i++) {
                        long due = p0 + (long) (sent * 1e9 / rate);
                        long now = PipelineBench.sleepUntil(due);
                        long q = seq(truth, i, t);
                        producer.send(PipelineBench.streamId(i), q, System.currentTimeMillis(), frames.frame(i, t));
                        sentFrames.put(PipelineBench.streamId(i) + "#" + q, new long[] {i, t});
                        sent++;
                        if (now > nextLog) {
                            nextLog = now + 10_000_000_000L;
                            log.printf(Locale.ROOT, "overload %s: sent %d, received %d (load %s)%n", variant, sent,
                                    docs.size(), loadAverage());
                        }
                    }
                    if (System.nanoTime() - p0 >= seconds * 1e9) {
                        break;
                    }
                }
                producer.flush();
                sendSec = (System.nanoTime() - p0) / 1e9;
                long stop = System.nanoTime();
                end = System.currentTimeMillis() + timeout.toMillis();
                while (docs.size() < sent && System.currentTimeMillis() < end) {
                    Thread.sleep(50);
                }
                double drain = (System.nanoTime() - stop) / 1e9;
                running[0] = false;
                collector.join(5000);
                job.close();
                return score(variant, s, rate, sent, sendSec, drain, docs, sentFrames, truth, latency, firstLast, log);
            } finally {
                running[0] = false;
                job.close();
                PipelineBench.deleteRecursively(ckpt);
            }
        }
    }

    /** The seq of stream s's t-th frame: +10 at every loop of its clip. */
    static long seq(Truth truth, int s, long t) {
        return t + 10 * (t / truth.clipLength(s));
    }

    private static OverloadResult score(String variant, int s, double rate, long sent, double sendSec, double drain,
            Map<String, byte[]> docs, Map<String, long[]> sentFrames, Truth truth, LatencyStats[] latency,
            long[] firstLast, PrintStream log) throws Exception {
        MaskScores scores = null;
        long keys = 0;
        long shed = 0;
        long intervalSum = 0;
        int maxInterval = 0;
        Map<Path, LabelClips.LabelMap> gtCache = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> e : docs.entrySet()) {
            MaskDocument d = MaskDocument.fromJson(e.getValue());
            keys += d.isKeyFrame() ? 1 : 0;
            shed += Boolean.TRUE.equals(d.getShed()) ? 1 : 0;
            int ki = d.getKeyInterval() == null ? 0 : d.getKeyInterval();
            intervalSum += ki;
            maxInterval = Math.max(maxInterval, ki);
            if (scores == null) {
                scores = new MaskScores(List.of(d.getClassNames()));
            }
            long[] st = sentFrames.get(e.getKey());
            Path label = st == null ? null : truth.label((int) st[0], st[1]);
            LabelClips.LabelMap gt = label == null ? null : gtCache.computeIfAbsent(label, p -> {
                try {
                    return LabelClips.readLabel(p);
                } catch (Exception x) {
                    throw new IllegalStateException(x);
                }
            });
            scores.add(d.getStream(), d.isKeyFrame(), d.getProcessingMs(), LabelMapPng.read(d.getLabelMapPng()), gt);
        }
        long scored = scores == null ? 0 : scores.scored();
        long n = docs.size();
        double fps;
        synchronized (latency) {
            fps = n > 1 ? (n - 1) / ((firstLast[1] - firstLast[0]) / 1e9) : Double.NaN;
        }
        OverloadResult r = new OverloadResult(variant, s, rate, sent, n, sendSec, fps, latency[0].summary(),
                n == 0 ? Double.NaN : (double) intervalSum / n, maxInterval, n == 0 ? Double.NaN : (double) keys / n,
                scored == 0 ? Double.NaN : scores.all().meanIoU(), scored, drain, n == 0 ? Double.NaN : (double) shed / n);
        log.printf(Locale.ROOT, "overload %s: %d/%d masks, %.1f frames/s, latency %s, mean interval %.2f, mIoU %.1f%%%n",
                variant, n, sent, fps, r.latency(), r.meanInterval(), 100 * r.miou());
        return r;
    }
}
