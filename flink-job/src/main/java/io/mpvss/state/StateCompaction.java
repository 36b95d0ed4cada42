package io.mpvss.state;

import java.io.Serializable;
import java.util.Objects;

/**
 * How a new key frame is compacted into state ({@code state.mask-precision}, {@code state.key-image},
 * {@code state.key-image-jpeg-quality}). Applied once, when the key frame is created, so that every later read (heap,
 * RocksDB, restore) sees the same values.
 */
public record StateCompaction(MaskPrecision maskPrecision, KeyImageEncoding keyImage, int jpegQuality)
        implements Serializable {

    /** No loss at all: fp32 masks and the raw key image (the reference the compact formats are measured against). */
    public static final StateCompaction FULL = new StateCompaction(MaskPrecision.FP32, KeyImageEncoding.RAW, 100);

    public StateCompaction {
        Objects.requireNonNull(maskPrecision, "maskPrecision");
        Objects.requireNonNull(keyImage, "keyImage");
        if (jpegQuality < 1 || jpegQuality > 100) {
            throw new IllegalArgumentException("state.key-image-jpeg-quality must be 1..100, found " + jpegQuality);
        }
    }

    /** Only the mask precision differs from {@link #FULL} (the raw key image is kept). */
    public static StateCompaction masksOnly(MaskPrecision p) {
        return new StateCompaction(p, KeyImageEncoding.RAW, 100);
    }

    @Override
    public String toString() {
        return "masks=" + maskPrecision + " key-image=" + keyImage
                + (keyImage == KeyImageEncoding.JPEG ? "@q" + jpegQuality : "");
    }
}
