package io.mpvss.cameras;

/** Where the gateway's frames go (the frames topic, in the CLI). Thread-safe: every camera's thread calls it. */
public interface FrameOutput {

    /** Sends one frame asynchronously: key = stream, headers mpvss.seq / mpvss.ts, record timestamp = captureTs. */
    void send(String stream, long seq, long captureTs, byte[] jpeg);

    /** Frames the broker has acknowledged so far. */
    long acked();

    /** Waits until everything sent is acknowledged; throws the first send failure. */
    void flush();
}
