package io.mpvss.model;

/** The propagator's outputs for one frame: the semantic map (model resolution) and the warped mask logits. */
public record PropagatorOutput(byte[] semantic, float[] maskLogits) {}
