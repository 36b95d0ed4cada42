package io.mpvss.model;

import java.util.Arrays;

/**
 * A dense host tensor in C order: either f32 or u8 data plus its shape. The exchange type between Java code and
 * {@link ModelBundle#run}; ONNX Runtime's own tensors never leave {@code ModelBundle} (they hold native memory).
 */
public record Tensor(long[] shape, float[] f32, byte[] u8) {

    public static Tensor f32(float[] data, long... shape) {
        check(data.length, shape);
        return new Tensor(shape, data, null);
    }

    public static Tensor u8(byte[] data, long... shape) {
        check(data.length, shape);
        return new Tensor(shape, null, data);
    }

    public boolean isFloat() {
        return f32 != null;
    }

    public long elements() {
        return count(shape);
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static void check(int length, long[] shape) {
        if (count(shape) != length) {
            throw new IllegalArgumentException("tensor of " + length + " elements cannot have shape "
                    + Arrays.toString(shape));
        }
    }

    @Override
    public String toString() {
        return (isFloat() ? "f32" : "u8") + Arrays.toString(shape);
    }
}
