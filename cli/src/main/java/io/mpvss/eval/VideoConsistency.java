package io.mpvss.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Video consistency mVC_n as VSPW defines it (Miao et al., "VSPW: A Large-scale Dataset for Video Scene Parsing in
 * the Wild", CVPR 2021; reference implementation {@code VC_perclip.py} in the VSPW baseline code).
 *
 * <p>For a clip of L frames and a window of n consecutive frames starting at frame i, let
 * {@code G = ∩_{j=1..n-1} (GT_i == GT_{i+j})} be the pixels whose ground truth does not change in the window and
 * {@code P = ∩_{j=1..n-1} (Pred_i == Pred_{i+j})} those whose prediction does not change. (Equality with the window's
 * first frame for every j is the same set as equality of every consecutive pair.) The window's consistency is
 * {@code VC = |G ∩ P| / |G|}. mVC_n is the mean over all windows of all clips (the reference pools the windows of every
 * clip before averaging, and so does this class).
 *
 * <p>Two points follow the reference code exactly: windows start at {@code i = 0 .. L-n-1} (L−n windows per clip,
 * the reference's {@code range(len(list_) - clip_num)}), and a window with an empty G contributes NaN and is left out
 * of the mean ({@code np.nanmean}). One point differs on purpose: pixels whose ground truth is the ignore label (255)
 * in any frame of the window are left out of G (the reference counts 255 == 255 as consistent ground truth).
 */
public final class VideoConsistency {

    public static final int IGNORE = 255;

    private final int n;
    private double sum;
    private long windows;
    private long emptyWindows;

    /** @param n window length in frames (8 and 16 in VSPW) */
    public VideoConsistency(int n) {
        if (n < 2) {
            throw new IllegalArgumentException("window length must be >= 2, got " + n);
        }
        this.n = n;
    }

    public int windowLength() {
        return n;
    }

    /**
     * Adds one clip. {@code gt.get(t)} and {@code pred.get(t)} are the label maps of frame t (row-major class ids, all
     * of the same size). Clips with L <= n frames contribute no window.
     */
    public void addClip(List<byte[]> gt, List<byte[]> pred) {
        if (gt.size() != pred.size()) {
            throw new IllegalArgumentException("clip has " + gt.size() + " ground-truth and " + pred.size()
                    + " predicted frames");
        }
        for (double vc : windows(gt, pred, n)) {
            if (Double.isNaN(vc)) {
                emptyWindows++;
            } else {
                sum += vc;
                windows++;
            }
        }
    }

    /** The per-window VC values of one clip (NaN where no pixel has consistent ground truth). */
    public static List<Double> windows(List<byte[]> gt, List<byte[]> pred, int n) {
        List<Double> out = new ArrayList<>();
        int frames = gt.size();
        if (frames == 0) {
            return out;
        }
        int pixels = gt.get(0).length;
        for (int t = 0; t < frames; t++) {
            if (gt.get(t).length != pixels || pred.get(t).length != pixels) {
                throw new IllegalArgumentException("frame " + t + " has " + gt.get(t).length + " ground-truth and "
                        + pred.get(t).length + " predicted pixels, expected " + pixels);
            }
        }
        for (int i = 0; i < frames - n; i++) {
            byte[] g0 = gt.get(i);
            byte[] p0 = pred.get(i);
            long common = 0;
            long both = 0;
            for (int px = 0; px < pixels; px++) {
                byte g = g0[px];
                if ((g & 0xff) == IGNORE) {
                    continue;
                }
                boolean gtSame = true;
                boolean predSame = true;
                byte p = p0[px];
                for (int j = 1; j < n; j++) {
                    if (gt.get(i + j)[px] != g) {
                        gtSame = false;
                        break;
                    }
                    if (predSame && pred.get(i + j)[px] != p) {
                        predSame = false;
                    }
                }
                if (gtSame) {
                    common++;
                    if (predSame) {
                        both++;
                    }
                }
            }
            out.add(common == 0 ? Double.NaN : (double) both / common);
        }
        return out;
    }

    /** mVC_n over every window added so far; NaN if there was none. */
    public double mean() {
        return windows == 0 ? Double.NaN : sum / windows;
    }

    public long windowCount() {
        return windows;
    }

    public long emptyWindowCount() {
        return emptyWindows;
    }
}
