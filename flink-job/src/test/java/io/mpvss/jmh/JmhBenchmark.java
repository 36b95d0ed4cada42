package io.mpvss.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * How every benchmark class of this package runs (JMH inherits these annotations): the average time of a call in
 * microseconds, 3 warm-up and 3 measured iterations of 1 s in one fork (scripts/bench.sh passes its own), one state
 * object per benchmark; and the frame size {@code size} = HxW (scripts/bench.sh passes the bundle's input size).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public abstract class JmhBenchmark {

    @Param({"256x512"})
    public String size;
}
