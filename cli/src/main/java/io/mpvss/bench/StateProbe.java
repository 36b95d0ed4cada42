package io.mpvss.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import io.mpvss.cli.Args;
import io.mpvss.cli.RepoPaths;
import io.mpvss.format.FrameDecoder;
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
 * Bytes of keyed state per stream, measured with the operator's own serializers on real state: a real frame through
 * the real segmentor, turned into the operator's {@link KeyFrameState} with each state compaction, plus the per-frame
 * {@link StreamCursor}. Also times the serializer round trip: serialize is what RocksDB pays on a key-frame write
 * (after the compaction itself, done once when the key frame is made); deserialize includes decoding the key image and
 * widening the masks, i.e. what every propagated frame pays with RocksDB before it can call the propagator.
 */
public final class StateProbe {

    private StateProbe() {
    }

    /** The compactions the bench measures: none, the previous default (fp16 masks), uint8 masks alone, the default. */
    public static List<StateCompaction> variants(StateCompaction def) {
        List<StateCompaction> v = new ArrayList<>(List.of(StateCompaction.FULL,
                StateCompaction.masksOnly(MaskPrecision.FP16), StateCompaction.masksOnly(MaskPrecision.UINT8)));
        if (!v.contains(def)) {
            v.add(def);
        }
        return v;
    }

    /** Short name of a compaction for tables: masks + key image, e.g. {@code uint8+jpeg95}. */
    public static String label(StateCompaction c) {
        return c.maskPrecision() + "+" + (c.keyImage() == KeyImageEncoding.JPEG ? "jpeg" + c.jpegQuality() : "raw");
    }

    /** State of one stream with one compaction ({@code precision}: its {@link #label}). */
    public record Size(String precision, int keyFrameStateBytes, int cursorBytes, int totalBytes, int imageBytes,
                       int queriesBytes, int classLogitsBytes, int maskBytes, double serializeMs,
                       double deserializeMs, int modelWidth, int modelHeight, int queries) {
    }

    public static Size measure(ModelBundle bundle, byte[] encodedFrame, StateCompaction compaction, int reps)
            throws IOException {
        ModelManifest m = bundle.manifest();
        FrameDecoder.Rgb rgb = BenchFrames.decode(encodedFrame);
        byte[] img = FrameDecoder.resizeBilinear(rgb.pixels(), rgb.width(), rgb.height(), m.width(), m.height());
        SegmentorOutput out = bundle.segment(img);
        KeyFrameState state = KeyFrameState.of(m.modelId(), 0, System.currentTimeMillis(), rgb.width(), rgb.height(),
                img, m.width(), m.height(), out, compaction);
        int bytes = KeyFrameStateSerializer.serializedSize(state);
        DataOutputSerializer cur = new DataOutputSerializer(64);
        StreamCursorSerializer.INSTANCE.serialize(new StreamCursor(41, System.currentTimeMillis(), 3), cur);

        DataOutputSerializer buf = new DataOutputSerializer(bytes + 64);
        double ser = 0;
        double de = 0;
        for (int i = 0; i < reps + 3; i++) {
            buf.clear();
            long a = System.nanoTime();
            KeyFrameStateSerializer.INSTANCE.serialize(state, buf);
            long b = System.nanoTime();
            KeyFrameState back = KeyFrameStateSerializer.INSTANCE.deserialize(
                    new DataInputDeserializer(buf.getSharedBuffer(), 0, buf.length()));
            if (back.image().length != img.length || back.maskLogits().length != out.maskLogits().length) {
                throw new IllegalStateException("KeyFrameState read back with other sizes");
            }
            long c = System.nanoTime();
            if (!back.equals(state)) {
                throw new IllegalStateException("KeyFrameState round trip changed the state");
            }
            if (i >= 3) {
                ser += (b - a) / 1e6;
                de += (c - b) / 1e6;
            }
        }
        return new Size(label(compaction), bytes, cur.length(), bytes + cur.length(), state.storedImageBytes(),
                out.queries().length * 4, out.classLogits().length * 4, state.storedMaskBytes(), ser / reps, de / reps,
                m.width(), m.height(), m.queries());
    }

    /**
     * Bytes per stream and read/write cost of each compaction, as a Markdown table: the mean over the first frame of
     * each of up to {@code --max-clips} clips (the key image's JPEG size depends on the picture).
     * {@code StateProbe [--model.dir DIR] [--clips DIR] [--max-clips 8] [--repeats 20] [--compactions fp32+raw,...]}
     */
    public static void main(String[] args) throws Exception {
        BenchMain.run("StateProbe", null, args, StateProbe::bench);
    }

    static void bench(Args a) throws Exception {
        java.nio.file.Path model = RepoPaths.modelDir(a);
        RepoPaths.requireModelBundle(model);
        java.nio.file.Path frames = RepoPaths.clipsDir(a);
        int clips = a.getPositiveInt("max-clips", 8);
        int reps = a.getPositiveInt("repeats", 20);
        List<String> labels = a.getList("compactions", List.of("fp32+raw", "fp16+raw", "uint8+raw", "fp32+jpeg95",
                "fp16+jpeg95", "uint8+jpeg95", "uint8+jpeg90", "uint8+jpeg80"));
        a.rejectUnknown();
        BenchFrames f = BenchFrames.load(frames, clips, 1);
        StringBuilder md = new StringBuilder("| state (masks+key image) | bytes per stream (key frame + cursor) | "
                + "key image | mask logits | serialize ms | read ms (deserialize + decode) |\n"
                + "| --- | ---: | ---: | ---: | ---: | ---: |\n");
        try (ModelBundle bundle = ModelBundle.open(model, io.mpvss.model.InferenceOptions.cpu())) {
            for (String label : labels) {
                StateCompaction c = StateChurnBench.parse(label);
                double total = 0;
                double image = 0;
                double mask = 0;
                double ser = 0;
                double de = 0;
                for (int i = 0; i < f.clipCount(); i++) {
                    Size s = measure(bundle, f.frame(i, 0), c, reps);
                    total += s.totalBytes();
                    image += s.imageBytes();
                    mask += s.maskBytes();
                    ser += s.serializeMs();
                    de += s.deserializeMs();
                }
                int n = f.clipCount();
                md.append(String.format(java.util.Locale.ROOT, "| %s | %,.0f | %,.0f | %,.0f | %.3f | %.3f |%n", label,
                        total / n, image / n, mask / n, ser / n, de / n));
            }
        }
        System.out.print(md);
    }
}
