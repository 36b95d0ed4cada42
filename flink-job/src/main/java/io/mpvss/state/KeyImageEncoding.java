package io.mpvss.state;

import java.util.Locale;

/**
 * How the key frame's model-resolution RGB image is kept in state. Raw RGB is H*W*3 bytes (393,216 at 256x512, 60% of
 * the state before compaction); JPEG keeps it at a tenth of that. The propagator reads the key image back, so a lossy
 * key image changes the propagated masks: docs/formats.md has the measured effect.
 */
public enum KeyImageEncoding {
    /** Packed RGB bytes, exactly what the segmentor saw. */
    RAW((byte) 0),
    /** Baseline JPEG (JDK ImageIO) at {@code state.key-image-jpeg-quality}; decoded again when a frame needs it. */
    JPEG((byte) 1);

    final byte tag;

    KeyImageEncoding(byte tag) {
        this.tag = tag;
    }

    /** The value as written in configuration ({@code state.key-image}); Flink parses the option by it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }

    static KeyImageEncoding ofTag(byte tag) {
        for (KeyImageEncoding e : values()) {
            if (e.tag == tag) {
                return e;
            }
        }
        throw new IllegalStateException("unknown key image encoding tag " + tag);
    }
}
