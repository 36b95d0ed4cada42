#!/usr/bin/python3
"""Write a data set split (Cityscapes video, VSPW, or a folder data set) in the project's folder layout, at a given
size, with labels already mapped to train ids:

    <out>/classes.json                       the data set's classes [{"id", "name", "color"}]
    <out>/<clip>/frames/000000.jpg|png       frames resized like the job does (bilinear, no antialiasing)
    <out>/<clip>/labels/000000.png           train ids (255 = ignore), only for labelled frames (sparse is fine)

Two uses: `mpvss eval --data <out> --model <bundle>` scores a bundle through the product's own pipeline (Flink,
ONNX Runtime) on it, and training from the converted copy (`train.py --dataset folder`) skips decoding and resizing
full-size images at every step.

    /usr/bin/python3 model-ops/scripts/convert_dataset.py --dataset cityscapes --data-root /data/cityscapes \\
        --split val --out /data/cs-val-256 --height 256 --width 512 --context 10
"""
import argparse
import json
import os
import sys


from PIL import Image
from tqdm import tqdm

from mpvss_ref import datasets


def frames_to_keep(ds, c, context):
    """All frames, or only those at most `context` frames before (or at) a labelled frame."""
    T = ds.clip_length(c)
    if context is None:
        return list(range(T))
    keep = set()
    for t in ds.labelled(c):
        keep.update(range(max(0, t - context), t + 1))
    return sorted(keep)


def convert(ds, out, fmt="jpg", quality=95, context=None, progress=True):
    """Writes ds in the folder layout under out; returns the number of frames written."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "classes.json"), "w") as f:
        json.dump(ds.classes, f, indent=1)
    n = 0
    for c in tqdm(range(len(ds)), desc="clips", dynamic_ncols=True, disable=not progress):
        ref = ds.clips[c]
        fdir, ldir = os.path.join(out, ref.id, "frames"), os.path.join(out, ref.id, "labels")
        os.makedirs(fdir, exist_ok=True)
        for i, t in enumerate(frames_to_keep(ds, c, context)):
            im = Image.fromarray(ds.image(c, t))
            im.save(os.path.join(fdir, f"{i:06d}.{fmt}"), **({"quality": quality} if fmt == "jpg" else {}))
            lab = ds.label(c, t)
            if lab is not None:
                os.makedirs(ldir, exist_ok=True)
                Image.fromarray(lab).save(os.path.join(ldir, f"{i:06d}.png"))
            n += 1
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=[k for k in datasets.KINDS if k != "synth"], required=True)
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--height", type=int, default=256, help="output frame height (default 256: the bundle preset)")
    ap.add_argument("--width", type=int, default=512, help="output frame width (default 512)")
    ap.add_argument("--format", choices=["jpg", "png"], default="jpg")
    ap.add_argument("--quality", type=int, default=95, help="JPEG quality")
    ap.add_argument("--context", type=int, help="keep only frames up to N before a labelled frame (default: all)")
    ap.add_argument("--clips", type=int, help="first N clips only")
    args = ap.parse_args(argv)
    if os.path.isdir(args.out) and os.listdir(args.out):
        ap.error(f"--out {args.out} is not empty")
    try:
        ds = datasets.open_dataset(args.dataset, args.data_root, args.split, (args.height, args.width),
                                   clips=args.clips, cache_frames=0)
        print(ds.summary())
        n = convert(ds, args.out, args.format, args.quality, args.context)
    except datasets.DatasetError as e:
        print(f"convert_dataset.py: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {len(ds)} clips, {n} frames to {args.out}")


if __name__ == "__main__":
    main()
