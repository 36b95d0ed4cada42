package io.mpvss.bench;

import io.mpvss.cli.Args;
import io.mpvss.cli.UsageException;

/**
 * The entry of every benchmark main (the tools bench.sh and the docs run with {@code java -cp ... io.mpvss.bench.X}):
 * options through {@link Args}, as in the {@code mpvss} commands; a usage error is one line naming the tool and exit
 * status 2, not a stack trace.
 */
final class BenchMain {

    private BenchMain() {
    }

    /** The body of a benchmark: its options in, its output written; a {@link UsageException} for bad options. */
    interface Body {
        void run(Args args) throws Exception;
    }

    /** Runs {@code body}; {@code usage} (may be null) is printed for {@code -h}/{@code --help} and after an error. */
    static void run(String name, String usage, String[] argv, Body body) throws Exception {
        if (usage != null && (java.util.List.of(argv).contains("-h") || java.util.List.of(argv).contains("--help"))) {
            System.out.println(usage);
            return;
        }
        try {
            body.run(Args.parse(argv));
        } catch (UsageException e) {
            System.err.println(name + ": " + e.getMessage() + (usage == null ? "" : "\n" + usage));
            System.exit(2);
        }
    }
}
