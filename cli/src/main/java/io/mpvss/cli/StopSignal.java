package io.mpvss.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C / SIGTERM for a command that runs until it is stopped: a shutdown hook that asks the command to stop and
 * then holds the JVM's exit until the command has cleaned up (flushed its producer, stopped its broker or job, written
 * what it received) or a grace period has passed. The JVM exits as soon as its shutdown hooks return, so a hook that
 * returned at once would cut that clean-up short.
 *
 * <pre>
 * try (StopSignal stop = new StopSignal("mpvss-x-stop", Duration.ofSeconds(10)).install(() -> { })) {
 *     ... work until stop.await(...) says a stop was asked for ...
 * } // close(): the hook may return now, and a later Ctrl-C no longer waits for this command
 * </pre>
 */
final class StopSignal implements AutoCloseable {

    private final String threadName;
    private final Duration grace;
    private final CountDownLatch requested = new CountDownLatch(1);
    private final CountDownLatch finished = new CountDownLatch(1);
    private Thread hook;

    /**
     * @param threadName the hook thread's name (it shows in thread dumps taken while the JVM is stopping)
     * @param grace how long the hook waits for {@link #finished} before it lets the JVM exit anyway
     */
    StopSignal(String threadName, Duration grace) {
        this.threadName = threadName;
        this.grace = grace;
    }

    /** Installs the hook: on Ctrl-C / SIGTERM it marks the stop as asked for, runs {@code onStop}, then waits. */
    StopSignal install(Runnable onStop) {
        hook = new Thread(() -> {
            requested.countDown();
            onStop.run();
            try {
                finished.await(grace.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
        }, threadName);
        Runtime.getRuntime().addShutdownHook(hook);
        return this;
    }

    /** Waits for Ctrl-C / SIGTERM at most {@code timeout} (null: without limit); true if it came. */
    boolean await(Duration timeout) throws InterruptedException {
        if (timeout == null) {
            requested.await();
            return true;
        }
        return requested.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The command has cleaned up: a running hook returns, and the JVM may exit. */
    void finished() {
        finished.countDown();
    }

    /** Ctrl-C / SIGTERM from now on ends the JVM without waiting for this command (a running hook still waits). */
    void uninstall() {
        if (hook == null) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it returns when finished() is called or the grace period is over
        }
    }

    /** {@link #finished} and {@link #uninstall}. */
    @Override
    public void close() {
        finished();
        uninstall();
    }
}
