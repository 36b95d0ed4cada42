package io.mpvss.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * One-line terminal progress: {@code produced 120/200 [########----] 60%  masks 80/200 [####------] 40%  14.2 fps}.
 * Redrawn in place (carriage return) on a terminal, printed every few seconds otherwise (logs, CI).
 */
final class Progress implements AutoCloseable {

    /** One counter on the line. */
    static final class Counter {
        final String label;
        final AtomicLong done = new AtomicLong();
        volatile long total;

        Counter(String label, long total) {
            this.label = label;
            this.total = total;
        }

        void increment() {
            done.incrementAndGet();
        }

        void set(long v) {
            done.set(v);
        }

        long get() {
            return done.get();
        }
    }

    private final PrintStream out;
    private final boolean tty;
    private final List<Counter> counters = new ArrayList<>();
    private final List<Supplier<String>> extras = new ArrayList<>();
    private final long started = System.nanoTime();
    private Thread ticker;
    private volatile boolean running;
    private int lastLength;
    private long lastPlainPrint;

    Progress(PrintStream out) {
        this(out, System.console() != null && !"dumb".equals(System.getenv("TERM")));
    }

    Progress(PrintStream out, boolean tty) {
        this.out = out;
        this.tty = tty;
    }

    Counter counter(String label, long total) {
        Counter c = new Counter(label, total);
        counters.add(c);
        return c;
    }

    /** Extra text at the end of the line (e.g. a rate). */
    Progress extra(Supplier<String> s) {
        extras.add(s);
        return this;
    }

    /** Starts redrawing every 200 ms. */
    Progress start() {
        running = true;
        ticker = new Thread(() -> {
            while (running) {
                draw(false);
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "mpvss-progress");
        ticker.setDaemon(true);
        ticker.start();
        return this;
    }

    static String bar(long done, long total, int width) {
        if (total <= 0) {
            return "[" + "?".repeat(width) + "]";
        }
        int full = (int) Math.min(width, Math.round((double) done * width / total));
        return "[" + "#".repeat(full) + "-".repeat(width - full) + "]";
    }

    String line() {
        StringBuilder sb = new StringBuilder();
        for (Counter c : counters) {
            long d = c.get();
            long t = c.total;
            if (sb.length() > 0) {
                sb.append("   ");
            }
            sb.append(c.label).append(' ').append(d).append('/').append(t > 0 ? String.valueOf(t) : "?").append(' ')
                    .append(bar(d, t, 20));
            if (t > 0) {
                sb.append(String.format(Locale.ROOT, " %3d%%", Math.min(100, d * 100 / t)));
            }
        }
        for (Supplier<String> e : extras) {
            String s = e.get();
            if (s != null && !s.isEmpty()) {
                sb.append("   ").append(s);
            }
        }
        sb.append(String.format(Locale.ROOT, "   %.0fs", (System.nanoTime() - started) / 1e9));
        return sb.toString();
    }

    synchronized void draw(boolean force) {
        String l = line();
        if (tty) {
            int pad = Math.max(0, lastLength - l.length());
            out.print("\r" + l + " ".repeat(pad));
            out.flush();
            lastLength = l.length();
        } else {
            long now = System.nanoTime();
            if (force || now - lastPlainPrint > 3_000_000_000L) {
                out.println(l);
                lastPlainPrint = now;
            }
        }
    }

    /** Prints a line without breaking the progress line. */
    synchronized void note(String line) {
        if (tty) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
            lastLength = 0;
        }
        out.println(line);
    }

    /** Stops redrawing and ends the line with the final state. */
    @Override
    public synchronized void close() {
        if (!running && ticker == null) {
            return;
        }
        running = false;
        if (ticker != null) {
            ticker.interrupt();
            ticker = null;
        }
        draw(true);
        if (tty) {
            out.println();
        }
    }
}
