package io.mpvss.state;

/**
 * IEEE 754 binary16 conversion (Java 17 has no {@code Float.floatToFloat16}). Round to nearest, ties to even, like
 * numpy's and PyTorch's {@code .half()}, so a state compacted here equals one compacted in Python.
 */
public final class Half {

    private Half() {}

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int val = bits & 0x7fffffff;
        if (val >= 0x7f800000) { // inf, nan (keep nan quiet)
            return (short) (sign | 0x7c00 | (val > 0x7f800000 ? 0x200 : 0));
        }
        if (val >= 0x477ff000) { // >= 65520 rounds past the largest half (65504)
            return (short) (sign | 0x7c00);
        }
        if (val < 0x38800000) { // below 2^-14: subnormal half or zero
            if (val < 0x33000000) { // below 2^-25: rounds to zero
                return (short) sign;
            }
            int exp = val >>> 23;
            int mant = (val & 0x7fffff) | 0x800000;
            int shift = 126 - exp;
            int m = mant >>> shift;
            int rem = mant & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (m & 1) != 0)) {
                m++;
            }
            return (short) (sign | m);
        }
        int h = (((val >>> 23) - 112) << 10) | ((val & 0x7fffff) >>> 13);
        int rem = val & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++;
        }
        return (short) (sign | h);
    }

    public static float toFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    public static short[] fromFloats(float[] a) {
        short[] out = new short[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = fromFloat(a[i]);
        }
        return out;
    }

    public static float[] toFloats(short[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = toFloat(a[i]);
        }
        return out;
    }
}
