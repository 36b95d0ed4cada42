#!/usr/bin/python3
"""mIoU of each semantic inference formulation (mpvss_ref.model.SEMANTIC_FORMULATIONS) side by side, on the same
segmentor outputs and the same warped masks: key frame every K, propagated frames in between (as evaluate.py), for
K = 1, 2, 3, 5, 10, one confusion matrix per (formulation, K) over the whole split.

    /usr/bin/python3 model-ops/scripts/semantic_formulations.py --checkpoint model-ops/bundle/checkpoint.pt \\
        --split test --clips 20 --frames 40 --out model-ops/bundle/semantic_formulations.json

The segmentor and the flow module run once per frame; only the last step (N query masks -> label map) differs,
so the differences in the table are the formulations' alone. Also counts, per formulation, the pixels whose label
differs from "full" (the Mask2Former formulation the model was trained with).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from mpvss_ref import data, synth
from mpvss_ref.evaluation import segment_all
from mpvss_ref.metrics import confusion, miou
from mpvss_ref.model import SEMANTIC_FORMULATIONS, load_checkpoint, normalize_image, semantic_inference, warp_masks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--split", default="test", choices=sorted(synth.SPLIT_SEEDS))
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 3, 5, 10])
    ap.add_argument("--formulations", nargs="+", default=list(SEMANTIC_FORMULATIONS))
    ap.add_argument("--cache", default=data.DEFAULT_CACHE)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model, _ = load_checkpoint(args.checkpoint)
    cfg = model.cfg
    size = (cfg.height, cfg.width)
    nc = cfg.num_classes
    forms = args.formulations
    conf = {(f, K): np.zeros((nc, nc), np.int64) for f in forms for K in args.ks}
    differ = {(f, K): 0 for f in forms for K in args.ks}
    pixels = {K: 0 for K in args.ks}
    seeds = synth.split_seeds(args.split, args.clips, args.first)
    with torch.no_grad():
        for seed in tqdm(seeds, desc="clips", dynamic_ncols=True):
            c = data.cached_clip(seed, cfg.height, cfg.width, args.frames, args.cache)
            images, labels = c.images[:args.frames], c.labels[:args.frames]
            q, cl, m, _ = segment_all(model, images, args.batch)
            T = len(images)
            for K in args.ks:
                # (class logits, mask logits) per frame: the key's own outputs, or the key's masks warped to frame t
                cls_t, masks_t = cl.clone(), m.clone()
                non_key = [t for t in range(T) if t % K != 0]
                for i in range(0, len(non_key), args.batch):
                    ts = non_key[i:i + args.batch]
                    ks = [t - t % K for t in ts]
                    flow, _ = model.flow(normalize_image(torch.from_numpy(images[ts])),
                                         normalize_image(torch.from_numpy(images[ks])), q[ks])
                    masks_t[ts] = warp_masks(m[ks], flow)
                    cls_t[ts] = cl[ks]
                ref = None
                for f in forms:
                    pred = np.concatenate([semantic_inference(cls_t[i:i + args.batch], masks_t[i:i + args.batch], size, f).numpy()
                                           for i in range(0, T, args.batch)])
                    conf[(f, K)] += confusion(pred, labels, nc)
                    if f == "full":
                        ref = pred
                    if ref is not None:
                        differ[(f, K)] += int((pred != ref).sum())
                pixels[K] += int(np.prod(labels.shape))
    res = {f: {f"k{K}": round(miou(conf[(f, K)]), 2) for K in args.ks} for f in forms}
    out = {
        "split": f"{args.split} clips {args.first}..{args.first + args.clips - 1} (seeds {seeds[0]}..{seeds[-1]}), "
                 f"{args.frames} frames each, {cfg.height}x{cfg.width}",
        "checkpoint": args.checkpoint,
        "miou": res,
        "delta_vs_full": ({f: {f"k{K}": round(miou(conf[(f, K)]) - miou(conf[("full", K)]), 2) for K in args.ks}
                           for f in forms} if "full" in forms else None),
        "pixels_differing_from_full_pct": ({f: {f"k{K}": round(100.0 * differ[(f, K)] / pixels[K], 3) for K in args.ks}
                                            for f in forms} if "full" in forms else None),
        "confusion": {f"{f}_k{K}": conf[(f, K)].tolist() for f in forms for K in args.ks},
        "seconds": round(time.time() - t0, 1),
        "command": "/usr/bin/python3 model-ops/scripts/semantic_formulations.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps({k: out[k] for k in ("split", "miou", "delta_vs_full", "pixels_differing_from_full_pct", "seconds")}, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
