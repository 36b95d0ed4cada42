package io.mpvss.view;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import javax.imageio.ImageIO;

import io.mpvss.format.LabelMapPng;
import io.mpvss.format.MaskDocument;
import io.mpvss.render.OverlayRenderer;
import io.mpvss.render.Palette;

/**
 * What the live view knows: the latest mask document of every stream (with frames/s and lag), and the dead-letter
 * count by error class. Written by the Kafka reader thread, read by the HTTP threads; every method is synchronized
 * (a document per frame is little work next to rendering).
 */
public final class StreamBoard {

    /** Frames/s is measured over this much capture time. */
    static final long FPS_WINDOW_MS = 5_000;

    private final Palette palette;
    private final OverlayRenderer renderer;
    private final Map<String, StreamState> streams = new TreeMap<>();
    private final Map<String, Long> dlqByClass = new TreeMap<>();
    private long dlqTotal;
    private String dlqLast;
    private long unreadable;

    /** One stream's latest document and its rates. */
    static final class StreamState {
        MaskDocument latest;
        long receivedMs;
        long frames;
        long keyFrames;
        long repeats;
        final Deque<Long> captureTimes = new ArrayDeque<>();
        long pngSeq = -1;
        byte[] png;
    }

    public StreamBoard(Palette palette) {
        this.palette = palette;
        // the label map alone, colourised: the masks topic has no frame to blend it over
        this.renderer = new OverlayRenderer(palette).alpha(1f).minWidth(0);
    }

    public Palette palette() {
        return palette;
    }

    /**
     * Takes one document. Repeats (at-least-once delivery) and older seqs are counted and not shown: a tile only
     * moves forward.
     *
     * @return true if the stream is new
     */
    public synchronized boolean accept(MaskDocument doc, long receivedMs) {
        StreamState s = streams.get(doc.getStream());
        boolean isNew = s == null;
        if (isNew) {
            s = new StreamState();
            streams.put(doc.getStream(), s);
        }
        if (s.latest != null && doc.getSeq() <= s.latest.getSeq()) {
            s.repeats++;
            return false;
        }
        s.latest = doc;
        s.receivedMs = receivedMs;
        s.frames++;
        if (doc.isKeyFrame()) {
            s.keyFrames++;
        }
        s.captureTimes.addLast(doc.getCaptureTs());
        while (s.captureTimes.size() > 2 && doc.getCaptureTs() - s.captureTimes.peekFirst() > FPS_WINDOW_MS) {
            s.captureTimes.removeFirst();
        }
        return isNew;
    }

    public synchronized void acceptDeadLetter(String errorClass, String message) {
        dlqTotal++;
        dlqByClass.merge(errorClass == null ? "unknown" : errorClass, 1L, Long::sum);
        dlqLast = (errorClass == null ? "unknown" : errorClass) + (message == null ? "" : ": " + message);
    }

    public synchronized void countUnreadable() {
        unreadable++;
    }

    public synchronized List<String> streamIds() {
        return new ArrayList<>(streams.keySet());
    }

    public synchronized long deadLetters() {
        return dlqTotal;
    }

    /** The latest label map of a stream as a colour PNG (cached per seq), or null for an unknown stream. */
    public byte[] png(String stream) {
        MaskDocument doc;
        synchronized (this) {
            StreamState s = streams.get(stream);
            if (s == null || s.latest == null) {
                return null;
            }
            if (s.pngSeq == s.latest.getSeq()) {
                return s.png;
            }
            doc = s.latest;
        }
        byte[] png = render(doc);
        synchronized (this) {
            StreamState s = streams.get(stream);
            if (s.latest == doc) {
                s.pngSeq = doc.getSeq();
                s.png = png;
            }
        }
        return png;
    }

    private byte[] render(MaskDocument doc) {
        LabelMapPng.Image labels = LabelMapPng.read(doc.getLabelMapPng());
        BufferedImage img = renderer.blend(null, labels.labels(), labels.width(), labels.height(), 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 14);
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The whole board as the JSON tree of {@code /api/streams}. */
    public synchronized Map<String, Object> snapshot(long nowMs) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Map.Entry<String, StreamState> e : streams.entrySet()) {
            StreamState s = e.getValue();
            MaskDocument d = s.latest;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stream", e.getKey());
            m.put("seq", d.getSeq());
            m.put("key_frame", d.isKeyFrame());
            m.put("key_seq", d.getKeySeq());
            m.put("key_reason", d.getKeyReason());
            m.put("model", d.getModel());
            m.put("width", d.getWidth());
            m.put("height", d.getHeight());
            m.put("capture_ts", d.getCaptureTs());
            m.put("processing_ms", d.getProcessingMs());
            long first = s.captureTimes.peekFirst();
            long span = d.getCaptureTs() - first;
            m.put("fps", span > 0 ? (s.captureTimes.size() - 1) * 1000.0 / span : 0.0);
            m.put("lag_ms", s.receivedMs - d.getCaptureTs());
            m.put("age_ms", nowMs - s.receivedMs);
            m.put("frames", s.frames);
            m.put("key_frames", s.keyFrames);
            m.put("repeats_dropped", s.repeats);
            long total = 0;
            Map<String, Long> pixels = d.classPixels();
            for (long v : pixels.values()) {
                total += v;
            }
            List<Map<String, Object>> classes = new ArrayList<>();
            for (Map.Entry<String, Long> c : pixels.entrySet()) {
                Map<String, Object> cm = new LinkedHashMap<>();
                cm.put("name", c.getKey());
                int id = palette.idOf(c.getKey());
                cm.put("color", String.format("#%06x", id >= 0 ? palette.rgb(id) : 0x808080));
                cm.put("share", total > 0 ? c.getValue() / (double) total : 0.0);
                classes.add(cm);
            }
            m.put("classes", classes);
            list.add(m);
        }
        Map<String, Object> dlq = new LinkedHashMap<>();
        dlq.put("total", dlqTotal);
        dlq.put("by_class", new LinkedHashMap<>(dlqByClass));
        dlq.put("last", dlqLast);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("now", nowMs);
        root.put("streams", list);
        root.put("dead_letters", dlq);
        root.put("unreadable_documents", unreadable);
        return root;
    }
}
