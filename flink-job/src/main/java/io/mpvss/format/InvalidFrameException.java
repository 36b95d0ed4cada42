package io.mpvss.format;

/**
 * A frame record that cannot be processed. Carries the machine error code written to the dead-letter topic's
 * {@link WireFormat#DLQ_ERROR_CLASS} header (one of the {@code WireFormat.ERR_*} constants).
 */
public class InvalidFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String errorClass;

    public InvalidFrameException(String errorClass, String message) {
        super(message);
        this.errorClass = errorClass;
    }

    public InvalidFrameException(String errorClass, String message, Throwable cause) {
        super(message, cause);
        this.errorClass = errorClass;
    }

    /** The short machine code, e.g. {@code undecodable-image}. */
    public String errorClass() {
        return errorClass;
    }
}
