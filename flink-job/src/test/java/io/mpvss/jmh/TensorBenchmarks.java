package io.mpvss.jmh;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;

/**
 * Building the graphs' input tensors from host arrays, as {@code ModelBundle} does for every call: the uint8 image
 * [1,H,W,3] (segmentor; twice for the propagator) and the key frame's float mask logits [1,N,H/4,W/4] (propagator,
 * the largest input). {@code size} = HxW and {@code queries} = N (scripts/bench.sh passes the bundle's).
 */
public class TensorBenchmarks extends JmhBenchmark {

    @Param({"100"})
    public int queries;

    private OrtEnvironment env;
    private byte[] rgb;
    private float[] masks;
    private long[] imageShape;
    private long[] maskShape;

    @Setup
    public void setup() {
        int[] hw = JmhInputs.size(size);
        env = OrtEnvironment.getEnvironment();
        rgb = JmhInputs.rgb(hw[0], hw[1], 1);
        masks = JmhInputs.floats(queries * (hw[0] / 4) * (hw[1] / 4), 2);
        imageShape = new long[] {1, hw[0], hw[1], 3};
        maskShape = new long[] {1, queries, hw[0] / 4, hw[1] / 4};
    }

    @Benchmark
    public long imageTensor() throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, ByteBuffer.wrap(rgb), imageShape, OnnxJavaType.UINT8)) {
            return t.getInfo().getNumElements();
        }
    }

    @Benchmark
    public long maskLogitsTensor() throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(masks), maskShape)) {
            return t.getInfo().getNumElements();
        }
    }

    /** Reading a float output back into a Java array (what ModelBundle does with mask_logits). */
    @Benchmark
    public float[] maskLogitsReadBack() throws OrtException {
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(masks), maskShape)) {
            FloatBuffer fb = t.getFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            return a;
        }
    }

}
