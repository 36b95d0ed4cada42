package io.mpvss.eval;

import java.util.Map;

/**
 * Quality and cost of one run of the operator over a dataset at key interval K.
 *
 * @param k key interval (1 = segmentor on every frame, the per-frame baseline)
 * @param variant free label of the configuration (e.g. "default", "state.mask-precision=fp32")
 * @param overrides Flink/job settings the run used on top of the defaults
 * @param frames masks received (one per input frame)
 * @param scoredFrames frames with a ground-truth label that were scored
 * @param keyFrames masks that came from the segmentor
 * @param miou mean IoU over the classes present (0..1)
 * @param pixelAccuracy fraction of scored pixels right (0..1)
 * @param perClassIoU IoU by class name (NaN = class absent)
 * @param mvc8 VSPW video consistency, 8-frame windows (0..1)
 * @param mvc16 VSPW video consistency, 16-frame windows (0..1)
 * @param gmacsPerFrame (S + (K-1)P)/K from the manifest
 * @param gflopsPerFrame 2 x gmacsPerFrame
 * @param msPerFrame mean of the documents' processing_ms (decode + inference + encode in the operator)
 * @param msKeyFrame mean processing_ms of key frames
 * @param msNonKeyFrame mean processing_ms of propagated frames (NaN at K = 1)
 * @param msP50 median processing_ms
 * @param wallSeconds wall time of the whole Flink job (start-up and model load included)
 * @param deadLetters frames the job sent to the dead-letter output (should be 0)
 */
public record EvalResult(int k, String variant, Map<String, String> overrides, long frames, long scoredFrames,
                         long keyFrames, double miou, double pixelAccuracy, Map<String, Double> perClassIoU,
                         double mvc8, double mvc16, double gmacsPerFrame, double gflopsPerFrame, double msPerFrame,
                         double msKeyFrame, double msNonKeyFrame, double msP50, double wallSeconds,
                         long deadLetters) {

    /** The same measurements under another variant label (a run reused for a comparison). */
    public EvalResult withVariant(String newVariant) {
        return new EvalResult(k, newVariant, overrides, frames, scoredFrames, keyFrames, miou, pixelAccuracy,
                perClassIoU, mvc8, mvc16, gmacsPerFrame, gflopsPerFrame, msPerFrame, msKeyFrame, msNonKeyFrame, msP50,
                wallSeconds, deadLetters);
    }
}
