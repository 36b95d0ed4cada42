package io.mpvss.operator;

import io.mpvss.state.KeyFrameState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The last key frame of each recently seen stream, as an object, next to keyed state ({@code state.key-frame-cache}).
 *
 * <p>Why: with RocksDB every read of keyed state deserializes a new {@link KeyFrameState}, and the propagator then
 * decodes its JPEG key image and widens its mask logits again, on every propagated frame (about 3 ms against an
 * 11 ms propagator call for the bundled model, docs/formats.md). The heap backend keeps the object, so there the
 * decoding happens once per key frame. This cache gives RocksDB the same: a state read whose key frame is the one
 * cached (same model, key seq, capture time and frame size) is answered with the cached object and its decoded
 * image. Keyed state stays the truth: the cache is consulted only after a read, never instead of one, and is not
 * checkpointed; a restore starts it empty. Bounded to {@code maxStreams} (least recently used dropped).
 */
final class KeyFrameCache {
    private final int maxStreams;
    private final Map<String, KeyFrameState> byStream;
    private long hits;
    private long misses;

    KeyFrameCache(int maxStreams) {
        if (maxStreams < 0) {
            throw new IllegalArgumentException("state.key-frame-cache must be >= 0, found " + maxStreams);
        }
        this.maxStreams = maxStreams;
        this.byStream = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, KeyFrameState> eldest) {
                return size() > KeyFrameCache.this.maxStreams;
            }
        };
    }

    /** The object to use for {@code stream}'s key frame just read from state: the cached one if it is the same. */
    KeyFrameState reuse(String stream, KeyFrameState read) {
        if (read == null || maxStreams == 0) {
            return read;
        }
        KeyFrameState cached = byStream.get(stream);
        if (cached != null && sameKeyFrame(cached, read)) {
            hits++;
            return cached;
        }
        misses++;
        byStream.put(stream, read);
        return read;
    }

    /** A new key frame written to state for {@code stream}. */
    void written(String stream, KeyFrameState key) {
        if (maxStreams > 0) {
            byStream.put(stream, key);
        }
    }

    static boolean sameKeyFrame(KeyFrameState a, KeyFrameState b) {
        return a.keySeq() == b.keySeq() && a.keyTs() == b.keyTs() && a.frameWidth() == b.frameWidth()
                && a.frameHeight() == b.frameHeight() && Objects.equals(a.modelId(), b.modelId());
    }

    long hits() {
        return hits;
    }

    long misses() {
        return misses;
    }

    int size() {
        return byStream.size();
    }
}
