package io.mpvss.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The overload rule alone: raise, lower, hysteresis, bounds, stagger. */
class OverloadPolicyTest {

    final OverloadPolicy policy = new OverloadPolicy(5, 8, 1000, true);

    @Test
    void lagOverTheBoundRaisesTheIntervalOneStepPerFrameUpToTheMaximum() {
        int k = 0; // a stream without an interval yet starts at the base
        int[] seen = new int[6];
        for (int i = 0; i < seen.length; i++) {
            k = policy.interval(k, 1001);
            seen[i] = k;
        }
        assertEquals("[6, 7, 8, 8, 8, 8]", java.util.Arrays.toString(seen));
    }

    @Test
    void lagUnderHalfTheBoundLowersItOneStepPerFrameDownToTheBase() {
        assertEquals(7, policy.interval(8, 499));
        assertEquals(5, policy.interval(6, 0));
        assertEquals(5, policy.interval(5, 0));
        assertEquals(5, policy.interval(0, 0));
    }

    @Test
    void lagBetweenHalfTheBoundAndTheBoundKeepsIt() {
        // hysteresis: a lag hovering near the bound does not flip the interval every frame
        for (long lag : new long[] {500, 750, 1000}) {
            assertEquals(7, policy.interval(7, lag), "lag " + lag);
            assertEquals(5, policy.interval(5, lag), "lag " + lag);
        }
    }

    @Test
    void aStoredIntervalOutsideTheBoundsIsClampedAndADisabledRuleAlwaysGivesTheBase() {
        // e.g. restored from a job that ran with another key.max-interval
        assertEquals(8, policy.interval(20, 700));
        assertEquals(5, policy.interval(2, 700));
        OverloadPolicy off = new OverloadPolicy(5, 8, 0, false);
        assertEquals(5, off.interval(7, 1_000_000));
        assertEquals(5, OverloadPolicy.off(5).interval(0, Long.MAX_VALUE));
        assertEquals(5, new OverloadPolicy(5, 3, 1000, false).maxInterval(), "a maximum below the base is the base");
        assertThrows(IllegalArgumentException.class, () -> new OverloadPolicy(0, 8, 1000, false));
        assertThrows(IllegalArgumentException.class, () -> new OverloadPolicy(5, 8, -1, false));
    }

    @Test
    void staggeringSpreadsStreamsOverThePhasesAndIsStable() {
        Set<Integer> phases = new HashSet<>();
        for (int s = 0; s < 5; s++) {
            int p = policy.phase("cam-" + s, 5);
            assertTrue(p >= 0 && p < 5);
            assertEquals(p, policy.phase("cam-" + s, 5), "the same stream always gets the same phase");
            phases.add(p);
        }
        assertEquals(5, phases.size(), "5 streams named alike take 5 different phases");
        Set<Integer> many = new HashSet<>();
        for (int s = 0; s < 64; s++) {
            many.add(policy.phase("camera-" + (s * 7919), 5));
        }
        assertEquals(5, many.size(), "64 streams use every phase");
        assertEquals(0, new OverloadPolicy(5, 8, 1000, false).phase("cam-3", 5), "no staggering: phase 0");
    }
}
