package io.mpvss.cameras;

import java.util.Locale;

/**
 * One camera's status line.
 *
 * @param fps frames sent per second over the last status interval
 * @param sent frames sent to Kafka so far
 * @param received frames ffmpeg delivered (sent + dropped by the fps cap + dropped while Kafka was slower)
 * @param droppedSlowKafka frames dropped because Kafka took them slower than the camera delivered them
 * @param nextSeq the seq the next frame will get
 * @param lastErrorAgeMs how long ago the last error happened (-1: none yet)
 * @param retryInMs time to the next reconnect while in backoff (-1 otherwise)
 */
public record CameraStatus(String id, State state, double fps, long sent, long received,
                           long droppedSlowKafka, long nextSeq,
                           int reconnects, String lastError, long lastErrorAgeMs, long retryInMs) {

    /** What a camera is doing: connecting, listening (an RTSP camera that pushes: waiting for it), streaming,
     * backoff (waiting to reconnect), ended (a file without loop), stopped. */
    public enum State { CONNECTING, LISTENING, STREAMING, BACKOFF, ENDED, STOPPED }

    public String stateName() {
        return state.name().toLowerCase(Locale.ROOT);
    }

    /** {@code gate-north  streaming  10.0 fps  sent 1234  reconnects 1  last error: ... (12 s ago)} */
    public String line(int idWidth) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-" + Math.max(4, idWidth) + "s  %-9s %5.1f "
                + "fps  sent %7d  reconnects %3d", id, stateName(), fps, sent, reconnects));
        if (droppedSlowKafka > 0) {
            sb.append("  dropped (Kafka slow) ").append(droppedSlowKafka);
        }
        if (retryInMs >= 0) {
            sb.append(String.format(Locale.ROOT, "  retry in %.1f s", retryInMs / 1000.0));
        }
        if (lastError != null) {
            sb.append("  last error: ").append(lastError).append(" (").append(age(lastErrorAgeMs)).append(" ago)");
        }
        return sb.toString();
    }

    static String age(long ms) {
        if (ms < 60_000) {
            return Math.max(0, ms / 1000) + " s";
        }
        if (ms < 3_600_000) {
            return ms / 60_000 + " min";
        }
        return ms / 3_600_000 + " h";
    }
}
