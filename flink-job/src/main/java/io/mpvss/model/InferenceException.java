package io.mpvss.model;

/** An ONNX Runtime call that failed at run time (the bundle itself was valid at start). */
public class InferenceException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
