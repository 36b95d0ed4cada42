#!/usr/bin/python3
"""Evaluate MPVSS (PyTorch) on a synthetic split: mIoU for K = 1, 2, 3, 5, 10 with the flow module and with
zero flow (copy the key frame's masks), plus the split's motion statistics.

    /usr/bin/python3 model-ops/scripts/evaluate.py --checkpoint model-ops/bundle/checkpoint.pt \\
        --split test --clips 20 --frames 40 --out model-ops/.cache/eval.json

Key frames are 0, K, 2K, ... of every clip; every other frame is propagated from its key (never chained).
mIoU is computed from one confusion matrix over all frames of the split (per K and mode).
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mpvss_ref import data, synth  # noqa: E402
from mpvss_ref.evaluation import evaluate_clips  # noqa: E402
from mpvss_ref.metrics import iou_per_class  # noqa: E402
from mpvss_ref.model import SEMANTIC_FORMULATIONS, load_checkpoint  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--flow-input", choices=["normalize-pool", "pool-normalize"],
                    help="how the propagator makes the flow module's x0.5 input (default: the checkpoint's config)")
    ap.add_argument("--semantic", choices=list(SEMANTIC_FORMULATIONS),
                    help="semantic inference formulation (default: the checkpoint's config, 'full'); a bundle's is "
                         "manifest.json config.semantic")
    ap.add_argument("--split", default="test", choices=sorted(synth.SPLIT_SEEDS))
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 3, 5, 10])
    ap.add_argument("--cache", default=data.DEFAULT_CACHE)
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model, _ = load_checkpoint(args.checkpoint, semantic=args.semantic, flow_input=args.flow_input)
    model.to(args.device).eval()
    cfg = model.cfg
    seeds = synth.split_seeds(args.split, args.clips, args.first)
    flows = []

    def clips():
        for s in seeds:
            c = data.cached_clip(s, cfg.height, cfg.width, args.frames, args.cache, with_flow=True)
            flows.append(c.flow.astype(np.float32))
            yield c.images, c.labels

    with tqdm(total=len(seeds), desc="clips", dynamic_ncols=True) as bar:
        res = evaluate_clips(model, clips(), args.ks, cfg.num_classes, progress=bar)
    motion = synth.motion_stats(flows)
    names = [n for n, _ in synth.CLASSES][: cfg.num_classes]
    per_class = {key: dict(zip(names, np.round(iou_per_class(np.asarray(v)) * 100, 2).tolist()))
                 for key, v in res["confusion"].items()}
    split_desc = (f"{args.split} clips {args.first}..{args.first + args.clips - 1} (seeds {seeds[0]}..{seeds[-1]}), "
                  f"{args.frames} frames each, {cfg.height}x{cfg.width}")
    out = {
        "split": split_desc,
        "semantic": cfg.semantic,
        "flow_input": cfg.flow_input,
        "ks": args.ks,
        "miou": {f"k{k}": round(v, 2) for k, v in res["mpvss"].items()},
        "miou_zero_flow": {f"k{k}": round(v, 2) for k, v in res["zero"].items()},
        "per_class_iou": per_class,
        "motion": {"mean_px": round(motion["mean_px"], 3), "p95_px": round(motion["p95_px"], 3)},
        "seconds": round(time.time() - t0, 1),
    }
    out["manifest_metrics"] = {"miou": out["miou"], "miou_zero_flow": out["miou_zero_flow"], "test_split": split_desc, "semantic": cfg.semantic,
                               "flow_input": cfg.flow_input, "motion": out["motion"]}
    print(json.dumps({k: out[k] for k in ("split", "semantic", "flow_input", "miou", "miou_zero_flow", "motion", "seconds")}, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
