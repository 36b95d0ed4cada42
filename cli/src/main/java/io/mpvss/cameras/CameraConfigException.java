package io.mpvss.cameras;

/** A bad cameras.yaml: the message is one line naming the file, the line, the camera and the problem. */
public final class CameraConfigException extends IllegalArgumentException {

    public CameraConfigException(String message) {
        super(message);
    }
}
