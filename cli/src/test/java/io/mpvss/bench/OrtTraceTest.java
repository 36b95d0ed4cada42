package io.mpvss.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading an ONNX Runtime profile trace: the events the benchmarks use, and the per-op aggregation of bench.sh. */
class OrtTraceTest {

    /** Two runs of a graph of two Conv nodes and a GridSample, in ONNX Runtime's trace layout. */
    static final String TRACE = """
            [
              {"cat": "Session", "name": "session_initialization", "dur": 900},
              {"cat": "Node", "name": "/flow/conv1_fence_before", "dur": 0, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/flow/conv1_kernel_time", "dur": 300, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/flow/conv2_kernel_time", "dur": 100, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/warp/grid_kernel_time", "dur": 100, "args": {"op_name": "GridSample"}},
              {"cat": "Session", "name": "model_run", "dur": 520},
              {"cat": "Node", "name": "/flow/conv1_kernel_time", "dur": 200, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/flow/conv2_kernel_time", "dur": 100, "args": {"op_name": "Conv"}},
              {"cat": "Node", "name": "/warp/grid_kernel_time", "dur": 200, "args": {"op_name": "GridSample"}},
              {"cat": "Session", "name": "model_run", "dur": 510}
            ]
            """;

    @Test
    void readsKernelTimesAndRunEndsInOrder(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("trace.json");
        Files.writeString(trace, TRACE);
        List<OrtTrace.Event> ev = OrtTrace.read(trace);
        assertEquals(8, ev.size(), ev.toString());
        assertEquals(new OrtTrace.Event("/flow/conv1", "Conv", 300, false), ev.get(0));
        assertTrue(ev.get(3).runEnd());
        assertEquals(new OrtTrace.Event("/warp/grid", "GridSample", 200, false), ev.get(6));
        assertTrue(ev.get(7).runEnd());
    }

    @Test
    void graphProfileSharesNodeTimeByOpType(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("trace.json");
        Files.writeString(trace, TRACE);
        GraphProfile.Graph g = GraphProfile.parse("propagator", trace, 2, 0.6);
        assertEquals(0.5, g.nodeMsPerRun(), 1e-9); // 1000 us of kernels over 2 runs
        assertEquals(1, g.runs());
        GraphProfile.OpShare conv = g.ops().get(0);
        assertEquals("Conv", conv.op());
        assertEquals(0.35, conv.msPerRun(), 1e-9);
        assertEquals(0.7, conv.share(), 1e-9);
        assertEquals(2, conv.nodes());
        assertEquals(new GraphProfile.OpShare("GridSample", 0.15, 0.3, 1), g.ops().get(1));
        assertFalse(Files.exists(trace), "the trace is deleted once read");
    }
}
