package io.mpvss.render;

import java.util.Map;

/**
 * What an overlay says about its frame.
 *
 * @param stream stream (camera) id
 * @param seq frame sequence number in the stream
 * @param captureTs capture time, epoch ms (0 = unknown)
 * @param keyFrame whether the segmentor ran on this frame
 * @param keySeq seq of the key frame the mask came from (== seq on key frames)
 * @param keyReason why a key frame was taken (null on propagated frames)
 * @param model model name@version (nullable)
 * @param processingMs operator time for this frame (NaN = unknown)
 * @param classPixels pixels per class name in this frame (nullable)
 */
public record FrameInfo(String stream, long seq, long captureTs, boolean keyFrame, long keySeq, String keyReason,
                        String model, double processingMs, Map<String, Long> classPixels) {

    /** Minimal info: stream, seq and key-frame flag. */
    public static FrameInfo of(String stream, long seq, boolean keyFrame, long keySeq) {
        return new FrameInfo(stream, seq, 0L, keyFrame, keySeq, null, null, Double.NaN, null);
    }
}
