package io.mpvss.cameras;

import java.io.IOException;
import java.io.InputStream;

/** Cuts a stream of concatenated JPEGs (ffmpeg's {@code -f image2pipe -c:v mjpeg}) into single images. */
@FunctionalInterface
public interface JpegSplitter {

    /** The next complete JPEG, or null at a clean end of the stream. */
    byte[] next(InputStream in) throws IOException;
}
