package io.mpvss.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** The tools' reports as files: {@code <name>.json} (indented) and {@code <name>.md} side by side. */
public final class ReportFiles {

    private ReportFiles() {
    }

    /** Writes {@code dir/<name>.json} and {@code dir/<name>.md} (creating {@code dir}); returns the two paths. */
    public static Path[] write(Path dir, String name, Object json, String markdown) throws IOException {
        Files.createDirectories(dir);
        Path jsonFile = dir.resolve(name + ".json");
        Path mdFile = dir.resolve(name + ".md");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(jsonFile.toFile(), json);
        Files.writeString(mdFile, markdown, StandardCharsets.UTF_8);
        return new Path[] {jsonFile, mdFile};
    }
}
