package io.mpvss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.mpvss.config.JobOptions;

import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

/** The README's configuration table names every job option with its current default. */
class ReadmeOptionsTest {

    @Test
    void everyJobOptionIsInTheReadmeTable() throws IOException {
        Path readme = RepoPaths.resolve(null, "README.md");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(readme), "no README.md above " + readme);
        String text = Files.readString(readme);
        List<String> missing = new ArrayList<>();
        for (ConfigOption<?> o : JobOptions.all()) {
            String row = "| `" + o.key() + "` | " + (o.hasDefaultValue() ? "`" + RunCommand.defaultText(o) + "`"
                    : "required") + " |";
            if (!text.contains(row)) {
                missing.add(row);
            }
        }
        assertTrue(missing.isEmpty(), "README.md configuration table lacks or has stale rows: " + missing);
    }

    @Test
    void ordinals() {
        assertEquals("", DemoCommand.ordinal(1));
        assertEquals("2nd ", DemoCommand.ordinal(2));
        assertEquals("6th ", DemoCommand.ordinal(6));
        assertEquals("11th ", DemoCommand.ordinal(11));
        assertEquals("21st ", DemoCommand.ordinal(21));
    }
}
