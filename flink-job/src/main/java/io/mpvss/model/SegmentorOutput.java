package io.mpvss.model;

/** The segmentor's outputs for one frame (batch index removed). Shapes as in {@link BundleContract}. */
public record SegmentorOutput(float[] queries, float[] classLogits, float[] maskLogits, byte[] semantic) {}
