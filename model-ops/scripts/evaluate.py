#!/usr/bin/python3
"""Evaluate MPVSS (PyTorch) on a data set split: mIoU for K = 1, 2, 3, 5, 10 with the flow module and with
zero flow (copy the key frame's masks); for the synthetic data also the split's motion statistics.

    /usr/bin/python3 model-ops/scripts/evaluate.py --checkpoint model-ops/bundle/checkpoint.pt \\
        --split test --clips 20 --frames 40 --out model-ops/.cache/eval.json
    /usr/bin/python3 model-ops/scripts/evaluate.py --checkpoint runs/cs/checkpoint.pt \\
        --dataset cityscapes --data-root /data/cityscapes --split val --out runs/cs/eval.json

Fully labelled clips are streams: key frames are 0, K, 2K, ...; every other frame is propagated from its key
(never chained). Sparsely labelled clips (Cityscapes: one labelled frame per snippet) score each labelled frame
at every distance 0..K-1 from a key frame (every phase a stream can have). mIoU is computed from one confusion
matrix over all scored frames of the split (per K and mode).
"""
import argparse
import json
import os
import sys
import time


import numpy as np
import torch
from tqdm import tqdm

from mpvss_ref import data, datasets, synth
from mpvss_ref.cli import add_config_overrides, load_checkpoint_args
from mpvss_ref.evaluation import evaluate_clips, evaluate_dataset
from mpvss_ref.metrics import iou_per_class


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--dataset", choices=datasets.KINDS, default="synth", help="data set layout (default synth)")
    ap.add_argument("--data-root", help="data set directory (all but synth)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--clips", type=int, help="first N clips (default: synth 20, others all)")
    add_config_overrides(ap)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 3, 5, 10])
    ap.add_argument("--cache", default=data.DEFAULT_CACHE)
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.dataset != "synth" and not args.data_root:
        ap.error(f"--dataset {args.dataset} needs --data-root DIR")
    if not os.path.isfile(args.checkpoint):
        ap.error(f"--checkpoint {args.checkpoint}: no such file")
    if args.dataset == "synth" and args.split not in synth.SPLIT_SEEDS:
        ap.error(f"--split {args.split}: synth splits are {', '.join(sorted(synth.SPLIT_SEEDS))}")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model, ck = load_checkpoint_args(args)
    model.to(args.device).eval()
    cfg = model.cfg
    if args.dataset != "synth":
        try:
            out = evaluate_files(args, model, ck, t0)
        except datasets.DatasetError as e:
            print(f"evaluate.py: {e}", file=sys.stderr)
            sys.exit(2)
        write(args, out)
        return
    args.clips = 20 if args.clips is None else args.clips
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
    out["semantic"] = cfg.semantic
    out["flow_input"] = cfg.flow_input
    out["manifest_metrics"] = {"miou": out["miou"], "miou_zero_flow": out["miou_zero_flow"], "test_split": split_desc,
                               "semantic": cfg.semantic, "flow_input": cfg.flow_input, "motion": out["motion"]}
    write(args, out)


def write(args, out):
    keys = ("split", "semantic", "flow_input", "miou", "miou_zero_flow", "motion", "seconds")
    print(json.dumps({k: out[k] for k in keys if k in out}, indent=1))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1)


def evaluate_files(args, model, ck, t0):
    """A file data set (folder, cityscapes, vspw) at the model's input size; classes must match the model's."""
    cfg = model.cfg
    ds = datasets.open_dataset(args.dataset, args.data_root, args.split, (cfg.height, cfg.width), clips=args.clips)
    if ds.num_classes != cfg.num_classes:
        raise datasets.DatasetError(f"{ds.summary()}: the checkpoint predicts {cfg.num_classes} classes, the data set "
                                    f"has {ds.num_classes}")
    if ck.get("classes") and [c["name"] for c in ck["classes"]] != [c["name"] for c in ds.classes]:
        print(f"evaluate.py: warning: class names of the checkpoint and the data set differ", file=sys.stderr)
    if ds.labelled_count() == 0:
        raise datasets.DatasetError(f"{ds.summary()}: no labelled frames to evaluate on")
    with tqdm(total=len(ds), desc="clips", dynamic_ncols=True) as bar:
        res = evaluate_dataset(model, ds, args.ks, progress=bar)
    names = [c["name"] for c in ds.classes]
    per_class = {key: dict(zip(names, [None if np.isnan(x) else round(float(x), 2) for x in iou_per_class(np.asarray(v)) * 100]))
                 for key, v in res["confusion"].items()}
    d = ds.describe()
    split_desc = (f"{d['kind']} {d['root']} split {d['split']}: {d['clips']} clips, {d['labelled_frames']} labelled "
                  f"frames, read at {cfg.height}x{cfg.width}")
    out = {
        "split": split_desc,
        "dataset": d,
        "ks": args.ks,
        "miou": {f"k{k}": round(v, 2) for k, v in res["mpvss"].items()},
        "miou_zero_flow": {f"k{k}": round(v, 2) for k, v in res["zero"].items()},
        "per_class_iou": per_class,
        "protocol": "fully labelled clips: keys at 0, K, 2K, ...; sparsely labelled clips: every key phase",
        "seconds": round(time.time() - t0, 1),
    }
    out["manifest_metrics"] = {"miou": out["miou"], "miou_zero_flow": out["miou_zero_flow"], "test_split": split_desc}
    return out


if __name__ == "__main__":
    main()
