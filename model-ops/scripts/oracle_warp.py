#!/usr/bin/python3
"""Ceiling analysis: warp the key masks with the generator's TRUE motion instead of the flow module.

For every non-key frame t (key k = t - t % K) the true displacement of each pixel of frame t into frame k
(known exactly by the generator) is sampled at the H/4 cell centres, and all key mask logits are
backward-warped with it (one flow for all queries), then Mask2Former semantic inference as usual.
This measures how much of the K>1 loss is due to the mask-warping representation itself (occlusions,
disocclusions, non-rigid persons, H/4 resolution) rather than to flow errors.

    /usr/bin/python3 model-ops/scripts/oracle_warp.py --checkpoint model-ops/bundle/checkpoint.pt --k 5
"""
import argparse
import json
import os


import numpy as np
import torch
from tqdm import tqdm

from mpvss_ref import synth
from mpvss_ref.cli import add_config_overrides, load_checkpoint_args
from mpvss_ref.evaluation import predict_clip, segment_all
from mpvss_ref.metrics import confusion, iou_per_class, miou
from mpvss_ref.model import backward_warp, semantic_inference


@torch.no_grad()
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    add_config_overrides(ap)
    ap.add_argument("--split", default="test")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = load_checkpoint_args(args)
    model.to(args.device)
    cfg, K, dev = model.cfg, args.k, args.device
    C = cfg.num_classes
    conf = {n: np.zeros((C, C), np.int64) for n in ("k1", "zero", "oracle", "mpvss")}
    for seed in tqdm(synth.split_seeds(args.split, args.clips), desc="clips", dynamic_ncols=True):
        pairs = [(t, t - t % K) for t in range(args.frames) if t % K]
        clip = synth.render_clip(seed, cfg.height, cfg.width, args.frames, with_flow=False, pairs=pairs)
        seg = segment_all(model, clip.images)
        q, cl, m, s = seg
        conf["k1"] += confusion(s.cpu().numpy(), clip.labels, C)
        conf["mpvss"] += confusion(predict_clip(model, clip.images, K, seg=seg), clip.labels, C)
        conf["zero"] += confusion(predict_clip(model, clip.images, K, zero_flow=True, seg=seg), clip.labels, C)
        pred = s.cpu().numpy().copy()
        for t, k in pairs:
            d = torch.from_numpy(clip.extra[(t, k)][2::4, 2::4] / 4.0).permute(2, 0, 1)[None].to(dev)
            w = backward_warp(m[k][:, None], d.expand(m.shape[1], -1, -1, -1))[:, 0]
            pred[t] = semantic_inference(cl[k:k + 1], w[None], (cfg.height, cfg.width), cfg.semantic)[0].cpu().numpy()
        conf["oracle"] += confusion(pred, clip.labels, C)
    names = [n for n, _ in synth.CLASSES][:C]
    res = {n: {"miou": round(miou(v), 2), "per_class": dict(zip(names, np.round(iou_per_class(v) * 100, 1).tolist()))}
           for n, v in conf.items()}
    res["setup"] = {"split": args.split, "clips": args.clips, "frames": args.frames, "k": K, "semantic": cfg.semantic}
    print(json.dumps(res, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
