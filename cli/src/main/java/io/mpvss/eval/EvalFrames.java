package io.mpvss.eval;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.connector.datagen.source.GeneratorFunction;

import io.mpvss.format.FrameRecord;
import io.mpvss.metrics.LabelClips;

/**
 * The frames of a labelled dataset as one bounded stream of {@link FrameRecord}s, one camera stream per clip, the
 * clips interleaved frame by frame (frame 0 of every clip, then frame 1, ...) as concurrent cameras would arrive.
 * Sequence numbers are the frame indices; capture timestamps are {@code base + index * frameIntervalMs}. Only file
 * paths are held: each record reads its image file when it is generated, so datasets of any size fit.
 */
public final class EvalFrames implements GeneratorFunction<Long, FrameRecord>, Serializable {

    private static final long serialVersionUID = 1L;

    /** Stream id of a clip. */
    public static String streamId(String clipId) {
        return clipId;
    }

    private final String[] streams;
    private final long[] seqs;
    private final String[] files;
    private final long baseTs;
    private final long frameIntervalMs;

    public EvalFrames(List<LabelClips.Clip> clips, long baseTs, long frameIntervalMs) {
        List<String> st = new ArrayList<>();
        List<Long> sq = new ArrayList<>();
        List<String> fs = new ArrayList<>();
        int longest = clips.stream().mapToInt(c -> c.frames().size()).max().orElse(0);
        for (int t = 0; t < longest; t++) {
            for (LabelClips.Clip c : clips) {
                if (t < c.frames().size()) {
                    st.add(streamId(c.id()));
                    sq.add((long) c.frames().get(t).index());
                    fs.add(c.frames().get(t).image().toAbsolutePath().toString());
                }
            }
        }
        this.streams = st.toArray(new String[0]);
        this.seqs = sq.stream().mapToLong(Long::longValue).toArray();
        this.files = fs.toArray(new String[0]);
        this.baseTs = baseTs;
        this.frameIntervalMs = frameIntervalMs;
    }

    public int size() {
        return files.length;
    }

    @Override
    public FrameRecord map(Long index) {
        int i = Math.toIntExact(index);
        try {
            byte[] image = Files.readAllBytes(Path.of(files[i]));
            return FrameRecord.of(streams[i], seqs[i], baseTs + seqs[i] * frameIntervalMs, image);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
