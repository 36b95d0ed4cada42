package io.mpvss.state;

import java.util.Locale;

/**
 * How the key frame's mask logits are kept in state. They dominate the state at paper size (N x H/4 x W/4 floats:
 * 10 MB at N=100, 480x864 in fp32): fp16 halves them, uint8 (per query: min and step, 256 levels) quarters them;
 * docs/formats.md has the measured effect on the label maps.
 */
public enum MaskPrecision {
    FP32((byte) 0),
    FP16((byte) 1),
    /** One byte per logit, affine per query: value = min + step * q, step = (max - min) / 255. */
    UINT8((byte) 2);

    final byte tag;

    MaskPrecision(byte tag) {
        this.tag = tag;
    }

    /** The value as written in configuration ({@code state.mask-precision}); Flink parses the option by it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }

    static MaskPrecision ofTag(byte tag) {
        for (MaskPrecision p : values()) {
            if (p.tag == tag) {
                return p;
            }
        }
        throw new IllegalStateException("unknown mask precision tag " + tag);
    }

}
