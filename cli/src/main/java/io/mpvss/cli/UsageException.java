package io.mpvss.cli;

/** Bad command-line input: printed as one line ({@code mpvss <command>: <message>}), exit status 2. */
public class UsageException extends RuntimeException {

    public UsageException(String message) {
        super(message);
    }
}
