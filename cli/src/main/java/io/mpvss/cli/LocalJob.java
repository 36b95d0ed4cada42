package io.mpvss.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import io.mpvss.job.MpvssJob;

/**
 * A job the tools run in this JVM on a Flink MiniCluster ({@code mpvss demo}, {@code mpvss bench},
 * {@code mpvss eval}): start it, learn when it ends on its own, and stop it cleanly.
 */
public final class LocalJob implements AutoCloseable {

    /** How long a finished job's last committed masks may still take to reach a consumer. */
    private static final Duration FINISHED_GRACE = Duration.ofSeconds(3);

    private final JobClient client;
    private final AtomicReference<String> ended = new AtomicReference<>();
    private volatile boolean stopping;

    private LocalJob(JobClient client) {
        this.client = client;
    }

    /** The product's Kafka job ({@link MpvssJob#buildKafkaPipeline}) on a MiniCluster configured by {@code conf}. */
    public static LocalJob startKafkaPipeline(Configuration conf, String name) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        MpvssJob.buildKafkaPipeline(env, conf);
        return start(env, name);
    }

    /** Whatever pipeline {@code env} holds. */
    public static LocalJob start(StreamExecutionEnvironment env, String name) throws Exception {
        return new LocalJob(env.executeAsync(name));
    }

    public JobClient client() {
        return client;
    }

    /**
     * Calls {@code listener} once when the job ends by itself, not when we stop it: "FAILED: cause", or
     * "FINISHED" (a grace period after the end, for its last committed output). Used to stop waiting for output
     * that will never come.
     */
    public void onEnd(Consumer<String> listener) {
        client.getJobExecutionResult().whenComplete((result, failure) -> {
            if (stopping) {
                return;
            }
            if (failure != null) {
                report("FAILED: " + Mpvss.rootMessage(failure), listener);
            } else {
                CompletableFuture.delayedExecutor(FINISHED_GRACE.toMillis(), TimeUnit.MILLISECONDS)
                        .execute(() -> report("FINISHED", listener));
            }
        });
    }

    private void report(String state, Consumer<String> listener) {
        if (!stopping && ended.compareAndSet(null, state)) {
            listener.accept(state);
        }
    }

    /** How the job ended by itself ("FINISHED", "FAILED: cause"), or null while it runs or after we stopped it. */
    public String ended() {
        return ended.get();
    }

    /** Waits until every task runs; throws the job's failure if it ends first. */
    public void awaitRunning(Duration limit) throws Exception {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            JobStatus s = client.getJobStatus().get(10, TimeUnit.SECONDS);
            if (s == JobStatus.RUNNING) {
                return;
            }
            if (s.isGloballyTerminalState()) {
                client.getJobExecutionResult().get(10, TimeUnit.SECONDS); // throws the failure cause
                throw new IllegalStateException("the job ended before it ran: " + s);
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the job did not reach RUNNING within " + limit.toSeconds() + " s");
    }

    /** Whether the job has ended (a finished bounded job's MiniCluster may already be gone: ended too). */
    public boolean terminated() {
        try {
            return client.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState();
        } catch (Exception e) {
            return true;
        }
    }

    /** Waits for the job's end and throws its failure (wrapped as Flink and the future wrap it). */
    public void awaitResult() throws Exception {
        client.getJobExecutionResult().get();
    }

    /**
     * Stops the job: a bounded one is given {@code bounded} to finish by itself (then cancelled), an unbounded one
     * is cancelled at once. Throws the job's failure if it failed; a finished job whose MiniCluster is already gone
     * is not a failure.
     */
    public void stop(Duration bounded, PrintStream log) throws Exception {
        if (!bounded.isZero()) {
            try {
                client.getJobExecutionResult().get(bounded.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (TimeoutException e) {
                log.println("  the bounded job did not finish within " + bounded.toSeconds()
                        + " s of its last output; cancelling it");
            } catch (Exception e) {
                if (!miniClusterGone(e)) {
                    throw e;
                }
                return;
            }
        }
        stopping = true;
        if (!terminated()) {
            client.cancel().get(60, TimeUnit.SECONDS);
        } else if (client.getJobStatus().get(10, TimeUnit.SECONDS) == JobStatus.FAILED) {
            client.getJobExecutionResult().get(10, TimeUnit.SECONDS);
        }
    }

    private static boolean miniClusterGone(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root instanceof IllegalStateException && String.valueOf(root.getMessage()).contains("MiniCluster");
    }

    /** Cancels the job if it still runs; never throws (for finally blocks). */
    @Override
    public void close() {
        stopping = true;
        try {
            if (!terminated()) {
                client.cancel().get(60, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            // already gone
        }
    }
}
