package io.mpvss.metrics;

import java.util.Arrays;

/**
 * Pixel confusion matrix for semantic segmentation.
 *
 * <p>Rows are ground-truth classes, columns predicted classes. Ground-truth pixels equal to {@link #IGNORE} (255) or
 * outside {@code [0, numClasses)} are not counted. A predicted value outside {@code [0, numClasses)} (255 = "no
 * prediction") is counted in an extra column: it is a false negative for the ground-truth class and a false positive
 * for none, exactly as a wrong prediction would be for the missed class.
 *
 * <p>Not thread-safe; {@link #merge} combines matrices built on different threads.
 */
public final class ConfusionMatrix {

    /** Label value meaning "ignore this pixel" in ground truth and "no prediction" in predictions. */
    public static final int IGNORE = 255;

    private final int numClasses;
    /** [gt][pred], pred == numClasses is "no prediction". */
    private final long[][] counts;

    public ConfusionMatrix(int numClasses) {
        if (numClasses <= 0 || numClasses > IGNORE) {
            throw new IllegalArgumentException("numClasses must be in 1..255, got " + numClasses);
        }
        this.numClasses = numClasses;
        this.counts = new long[numClasses][numClasses + 1];
    }

    public int numClasses() {
        return numClasses;
    }

    /**
     * Adds one image pair.
     *
     * @param groundTruth class id per pixel (unsigned bytes), 255 = ignore
     * @param prediction class id per pixel (unsigned bytes), same length
     */
    public ConfusionMatrix add(byte[] groundTruth, byte[] prediction) {
        if (groundTruth.length != prediction.length) {
            throw new IllegalArgumentException("ground truth has " + groundTruth.length
                    + " pixels but the prediction has " + prediction.length);
        }
        for (int i = 0; i < groundTruth.length; i++) {
            int g = groundTruth[i] & 0xFF;
            if (g >= numClasses) {
                continue;
            }
            int p = prediction[i] & 0xFF;
            counts[g][p < numClasses ? p : numClasses]++;
        }
        return this;
    }

    /** Adds one pixel (for tests and sparse annotations). */
    public ConfusionMatrix add(int groundTruth, int prediction, long pixels) {
        if (groundTruth < 0 || groundTruth >= numClasses) {
            return this;
        }
        counts[groundTruth][prediction >= 0 && prediction < numClasses ? prediction : numClasses] += pixels;
        return this;
    }

    /** Adds all counts of {@code other} (same class count) into this matrix. */
    public ConfusionMatrix merge(ConfusionMatrix other) {
        if (other.numClasses != numClasses) {
            throw new IllegalArgumentException("class counts differ: " + numClasses + " vs " + other.numClasses);
        }
        for (int g = 0; g < numClasses; g++) {
            for (int p = 0; p <= numClasses; p++) {
                counts[g][p] += other.counts[g][p];
            }
        }
        return this;
    }

    /** Pixels with ground truth {@code gt} predicted as {@code pred} ({@code pred = numClasses()}: no prediction). */
    public long count(int gt, int pred) {
        return counts[gt][pred];
    }

    public long truePositives(int c) {
        return counts[c][c];
    }

    public long falsePositives(int c) {
        long s = 0;
        for (int g = 0; g < numClasses; g++) {
            if (g != c) {
                s += counts[g][c];
            }
        }
        return s;
    }

    public long falseNegatives(int c) {
        long s = 0;
        for (int p = 0; p <= numClasses; p++) {
            if (p != c) {
                s += counts[c][p];
            }
        }
        return s;
    }

    /** Ground-truth pixels of class {@code c} (ignored pixels excluded). */
    public long groundTruthPixels(int c) {
        long s = 0;
        for (int p = 0; p <= numClasses; p++) {
            s += counts[c][p];
        }
        return s;
    }

    /** All evaluated (non-ignored) pixels. */
    public long totalPixels() {
        long s = 0;
        for (int c = 0; c < numClasses; c++) {
            s += groundTruthPixels(c);
        }
        return s;
    }

    /** Intersection over union of class {@code c}; NaN when the class is in neither ground truth nor prediction. */
    public double iou(int c) {
        long tp = truePositives(c);
        long union = tp + falsePositives(c) + falseNegatives(c);
        return union == 0 ? Double.NaN : (double) tp / union;
    }

    /** IoU per class (NaN for absent classes). */
    public double[] ious() {
        double[] r = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            r[c] = iou(c);
        }
        return r;
    }

    /** Mean IoU over the classes present in ground truth or prediction; NaN if there are none. */
    public double meanIoU() {
        double sum = 0;
        int n = 0;
        for (int c = 0; c < numClasses; c++) {
            double v = iou(c);
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Fraction of evaluated pixels predicted correctly; NaN if none were evaluated. */
    public double pixelAccuracy() {
        long total = totalPixels();
        if (total == 0) {
            return Double.NaN;
        }
        long correct = 0;
        for (int c = 0; c < numClasses; c++) {
            correct += counts[c][c];
        }
        return (double) correct / total;
    }

    /** A copy of the counts, [gt][pred] with the last column "no prediction". */
    public long[][] toArray() {
        long[][] r = new long[numClasses][];
        for (int g = 0; g < numClasses; g++) {
            r[g] = Arrays.copyOf(counts[g], numClasses + 1);
        }
        return r;
    }
}
