package io.mpvss.model;

/**
 * One frame's propagator inputs: the key frame (image and its segmentor outputs, as kept in state) and the
 * current image, both at model resolution.
 */
public record PropagatorInput(byte[] keyImage, byte[] image, float[] keyQueries, float[] keyClassLogits,
        float[] keyMaskLogits) {}
