package io.mpvss.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;

/**
 * The operator's per-frame codecs, with the product's classes: JPEG decode of a frame ({@link FrameDecoder}, as the
 * operator calls it), bilinear resize to the model input, and PNG encode / decode of the label map
 * ({@link LabelMapPng}). {@code size} is the frame's HxW (scripts/bench.sh passes the bundle's input size).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CodecBenchmarks {

    @Param({"256x512"})
    public String size;

    private FrameRecord jpegRecord;
    private byte[] rgb;
    private int h;
    private int w;
    private byte[] labels;
    private byte[] png;

    @Setup
    public void setup() throws Exception {
        int[] hw = JmhInputs.size(size);
        h = hw[0];
        w = hw[1];
        jpegRecord = FrameRecord.of("cam-1", 1, 0, JmhInputs.jpeg(h, w, 1));
        rgb = JmhInputs.rgb(h, w, 2);
        labels = JmhInputs.labels(h, w, 3);
        png = LabelMapPng.encode(labels, w, h);
    }

    @Benchmark
    public FrameDecoder.Rgb decodeJpeg() throws InvalidFrameException {
        return FrameDecoder.decode(jpegRecord, Long.MAX_VALUE);
    }

    /** Resize of a frame twice the model size down to the model input (what a 2x camera costs). */
    @Benchmark
    public byte[] resizeBilinearHalf() {
        return FrameDecoder.resizeBilinear(rgb, w, h, w / 2, h / 2);
    }

    @Benchmark
    public byte[] encodeLabelPng() {
        return LabelMapPng.encode(labels, w, h);
    }

    @Benchmark
    public byte[] decodeLabelPng() {
        return LabelMapPng.decode(png);
    }
}
