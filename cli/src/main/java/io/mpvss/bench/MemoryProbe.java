package io.mpvss.bench;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples this JVM's memory in the background. The MiniCluster's TaskManager runs in this JVM, so heap is the
 * TaskManager's heap plus whatever else lives here (JobManager, the embedded Kafka broker, the benchmark's own
 * producer/consumer); native memory is the process's resident set (VmRSS), which includes ONNX Runtime's arenas and
 * weights, RocksDB (if used) and direct buffers.
 */
public final class MemoryProbe implements AutoCloseable {

    /** One reading, in bytes. */
    public record Reading(long heapUsed, long heapCommitted, long nonHeapUsed, long directUsed, long rss) {
    }

    private final MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peakHeap = new AtomicLong();
    private final AtomicLong peakRss = new AtomicLong();
    private final AtomicLong peakDirect = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;

    public MemoryProbe(long periodMs) {
        thread = new Thread(() -> {
            while (running) {
                Reading r = read();
                peakHeap.accumulateAndGet(r.heapUsed(), Math::max);
                peakRss.accumulateAndGet(r.rss(), Math::max);
                peakDirect.accumulateAndGet(r.directUsed(), Math::max);
                try {
                    Thread.sleep(periodMs);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "mpvss-memory-probe");
        thread.setDaemon(true);
        thread.start();
    }

    public Reading read() {
        long direct = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            direct += Math.max(0, b.getMemoryUsed());
        }
        return new Reading(mem.getHeapMemoryUsage().getUsed(), mem.getHeapMemoryUsage().getCommitted(),
                mem.getNonHeapMemoryUsage().getUsed(), direct, rss());
    }

    public long peakHeapUsed() {
        return peakHeap.get();
    }

    public long peakRss() {
        return peakRss.get();
    }

    public long peakDirect() {
        return peakDirect.get();
    }

    /** Resident set size of this process from /proc/self/status (VmRSS), or -1 where there is no procfs. */
    public static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] p = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(p[0]) * 1024L;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
