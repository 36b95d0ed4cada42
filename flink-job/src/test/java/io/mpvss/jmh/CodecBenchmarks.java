package io.mpvss.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

import io.mpvss.format.FrameDecoder;
import io.mpvss.format.FrameRecord;
import io.mpvss.format.InvalidFrameException;
import io.mpvss.format.LabelMapPng;

/**
 * The operator's per-frame codecs, with the product's classes: JPEG decode of a frame ({@link FrameDecoder}, as the
 * operator calls it), bilinear resize to the model input, and PNG encode / decode of the label map
 * ({@link LabelMapPng}). {@code size} is the frame's HxW (scripts/bench.sh passes the bundle's input size).
 */
public class CodecBenchmarks extends JmhBenchmark {

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
