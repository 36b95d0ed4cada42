package io.mpvss.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The events of an ONNX Runtime profile trace (the JSON file {@code OrtSession.endProfiling} names) that the
 * benchmarks read: one per node execution, in execution order, and a marker where each run ends.
 */
final class OrtTrace {

    private OrtTrace() {
    }

    /**
     * A node's kernel execution ({@code node}, {@code op}, {@code micros}), or the end of a run ({@code runEnd}: the
     * session's {@code model_run} event; node and op empty).
     */
    record Event(String node, String op, double micros, boolean runEnd) {
    }

    private static final String KERNEL_TIME = "_kernel_time";

    static List<Event> read(Path trace) throws IOException {
        List<Event> r = new ArrayList<>();
        for (JsonNode e : new ObjectMapper().readTree(trace.toFile())) {
            String cat = e.path("cat").asText();
            String name = e.path("name").asText();
            if ("Session".equals(cat) && "model_run".equals(name)) {
                r.add(new Event("", "", e.path("dur").asDouble(), true));
            } else if ("Node".equals(cat) && name.endsWith(KERNEL_TIME)) {
                r.add(new Event(name.substring(0, name.length() - KERNEL_TIME.length()),
                        e.path("args").path("op_name").asText("?"), e.path("dur").asDouble(), false));
            }
        }
        return r;
    }
}
