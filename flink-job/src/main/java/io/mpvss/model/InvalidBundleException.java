package io.mpvss.model;

/**
 * A model bundle that cannot be used: missing file, bad manifest, sha256 mismatch or a graph that breaks the
 * {@code mpvss/1} contract. The message names the file, the tensor (where there is one), what was expected and
 * what was found, so that the operator fixing the deployment knows where to look.
 */
public class InvalidBundleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidBundleException(String message) {
        super(message);
    }

    public InvalidBundleException(String message, Throwable cause) {
        super(message, cause);
    }
}
