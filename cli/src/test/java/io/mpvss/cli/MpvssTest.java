package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes and one-line messages of the command line. */
class MpvssTest {

    private record Result(int rc, String out, String err) {
    }

    private static Result run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Mpvss.execute(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void helpAndUnknownCommand() {
        Result h = run("help");
        assertEquals(0, h.rc());
        assertTrue(h.out().contains("demo") && h.out().contains("produce") && h.out().contains("consume"));
        Result none = run();
        assertEquals(2, none.rc());
        Result bad = run("frobnicate");
        assertEquals(2, bad.rc());
        assertTrue(bad.err().startsWith("mpvss: unknown command 'frobnicate'"), bad.err());
        Result runHelp = run("run", "--help");
        assertEquals(0, runHelp.rc());
        assertTrue(runHelp.out().contains("--kafka.bootstrap-servers") && runHelp.out().contains("delivery.guarantee"),
                runHelp.out());
        assertTrue(runHelp.out().contains("Kafka bootstrap servers"), "descriptions as text: " + runHelp.out());
        assertTrue(runHelp.out().contains("(2 s)"), "durations as written on the command line: " + runHelp.out());
        assertTrue(!runHelp.out().contains("Description@"), runHelp.out());
        assertEquals(0, run("help", "produce").rc());
        for (String command : new String[] {"demo", "produce", "consume", "run", "topics", "kafka", "eval", "bench"}) {
            for (String[] argv : new String[][] {{command, "--help"}, {command, "-h"}, {"help", command},
                {command, "--limit", "3", "--help"}}) {
                Result r = run(argv);
                assertEquals(0, r.rc(), String.join(" ", argv) + ": " + r.err());
                assertTrue(r.out().startsWith("usage: mpvss " + command), String.join(" ", argv) + ": " + r.out());
            }
        }
    }

    @Test
    void badInputIsOneLineAndExitTwo(@TempDir Path dir) throws IOException {
        Result missing = run("demo", "--clips", dir.resolve("nope").toString(), "--model.dir", dir.toString());
        assertEquals(2, missing.rc());
        assertTrue(missing.err().startsWith("mpvss demo: no model bundle at"), missing.err());

        Result unknown = run("consume", "--colour", "red");
        assertEquals(2, unknown.rc());
        assertTrue(unknown.err().startsWith("mpvss consume: unknown option --colour"), unknown.err());

        Result noInput = run("produce");
        assertEquals(2, noInput.rc());
        assertTrue(noInput.err().startsWith("mpvss produce: --input VIDEO|DIR is required"), noInput.err());

        Result noFile = run("produce", "--input", dir.resolve("nope.mp4").toString());
        assertEquals(2, noFile.rc());
        assertTrue(noFile.err().contains("no such file or folder"), noFile.err());

        Files.createDirectories(dir.resolve("empty"));
        Result empty = run("produce", "--input", dir.resolve("empty").toString());
        assertEquals(2, empty.rc());
        assertTrue(empty.err().contains("no .jpg/.png images"), empty.err());

        Result badFrames = run("consume", "--frames", dir.resolve("nope").toString());
        assertEquals(2, badFrames.rc());
        assertTrue(badFrames.err().contains("no such frames folder"), badFrames.err());

        for (Result r : new Result[] {missing, unknown, noInput, noFile, empty, badFrames}) {
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
    }

    /** Every tool takes the model as --model.dir, clips as --clips and job options as bare --key value; old spellings fail. */
    @Test
    void oneSpellingPerOptionInEveryCommand(@TempDir Path dir) {
        for (String command : new String[] {"demo", "consume", "eval", "bench"}) {
            Result help = run(command, "--help");
            assertEquals(0, help.rc(), command);
            assertTrue(help.out().contains("--model.dir DIR"), command + ": " + help.out());
            assertFalse(help.out().contains("--model-dir") || help.out().contains("--model DIR")
                    || help.out().contains("--set ") || help.out().contains("--timeout-s"), command + ": " + help.out());
        }
        String[][] oldSpellings = {
            {"demo", "--model-dir", dir.toString()},
            {"consume", "--model-dir", dir.toString()},
            {"eval", "--clips", dir.toString(), "--model", dir.toString()},
            {"eval", "--data", dir.toString()},
            {"eval", "--clips", dir.toString(), "--set", "inference.threads=1"},
            {"bench", "--clips", dir.toString(), "--timeout-s", "5"},
            {"bench", "--frames", dir.toString()},
        };
        for (String[] argv : oldSpellings) {
            Result r = run(argv);
            assertEquals(2, r.rc(), String.join(" ", argv) + ": " + r.err());
            assertTrue(r.err().startsWith("mpvss " + argv[0] + ": unknown option --" + argv[argv.length - 2]
                    .substring(2)), r.err());
            assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        }
        Result noData = run("eval", "--inference.threads", "1");
        assertEquals(2, noData.rc());
        assertTrue(noData.err().startsWith("mpvss eval: --clips DIR is required"), noData.err());
        Result badList = run("bench", "--clips", dir.toString(), "--streams", "1,many");
        assertEquals(2, badList.rc());
        assertTrue(badList.err().contains("--streams expects whole numbers"), badList.err());
        Result noFrames = run("bench", "--clips", dir.resolve("nope").toString(), "--inference.threads", "1");
        assertEquals(2, noFrames.rc());
        assertTrue(noFrames.err().startsWith("mpvss bench: no such folder"), noFrames.err());
    }
}
