#!/usr/bin/python3
"""mIoU by distance to the key frame: where between two key frames propagation loses quality.

For each clip, key frames at the given positions are segmented and the next D frames are each propagated
from that key (MPVSS) and copied from it (zero flow); one confusion matrix per distance d = 1..D.

    /usr/bin/python3 model-ops/scripts/key_distance.py --checkpoint model-ops/bundle/checkpoint.pt --split val --clips 6
"""
import argparse
import json
import os


import numpy as np
import torch
from tqdm import tqdm

from mpvss_ref import data, synth
from mpvss_ref.cli import add_config_overrides, load_checkpoint_args
from mpvss_ref.metrics import confusion, miou


@torch.no_grad()
def by_distance(model, clips, keys, max_d):
    """{mode: [mIoU at d=0..max_d]} for mode in mpvss, zero; clips yields (images, labels)."""
    C = model.cfg.num_classes
    conf = {(m, d): np.zeros((C, C), np.int64) for m in ("mpvss", "zero") for d in range(max_d + 1)}
    for images, labels in clips:
        for key in keys:
            q, cl, m, sem = model.segment(torch.from_numpy(images[key:key + 1]))
            for mode in ("mpvss", "zero"):
                conf[(mode, 0)] += confusion(sem.numpy(), labels[key:key + 1], C)
            ts = list(range(key + 1, min(key + 1 + max_d, len(images))))
            n = len(ts)
            for mode in ("mpvss", "zero"):
                s, _, _ = model.propagate(torch.from_numpy(images[[key] * n]), torch.from_numpy(images[ts]),
                                          q.expand(n, -1, -1), cl.expand(n, -1, -1), m.expand(n, -1, -1, -1),
                                          zero_flow=(mode == "zero"))
                for i, t in enumerate(ts):
                    conf[(mode, t - key)] += confusion(s[i:i + 1].numpy(), labels[t:t + 1], C)
    return {mode: [round(miou(conf[(mode, d)]), 2) for d in range(max_d + 1)] for mode in ("mpvss", "zero")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    add_config_overrides(ap)
    ap.add_argument("--split", default="val", choices=sorted(synth.SPLIT_SEEDS))
    ap.add_argument("--clips", type=int, default=6)
    ap.add_argument("--frames", type=int, default=40, help="clip length as rendered (and cached)")
    ap.add_argument("--keys", type=int, nargs="+", default=[0, 20])
    ap.add_argument("--max-distance", type=int, default=9)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = load_checkpoint_args(args)
    cfg = model.cfg
    seeds = synth.split_seeds(args.split, args.clips)
    clips = ((c.images, c.labels) for c in (data.cached_clip(s, cfg.height, cfg.width, args.frames)
                                            for s in tqdm(seeds, desc="clips", dynamic_ncols=True)))
    res = by_distance(model, clips, args.keys, args.max_distance)
    print("d  mpvss  zero-flow")
    for d in range(args.max_distance + 1):
        print(f"{d}  {res['mpvss'][d]:.2f}  {res['zero'][d]:.2f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(dict(res, setup=dict(vars(args), semantic=cfg.semantic)), f, indent=1)


if __name__ == "__main__":
    main()
