#!/usr/bin/python3
"""Write a synthetic split in the dataset folder layout, and report its motion statistics.

    <out>/<clip-id>/frames/000000.png|jpg   RGB
    <out>/<clip-id>/labels/000000.png       8-bit, pixel = class id, 255 = ignore
    <out>/classes.json                       [{"id", "name", "color"}, ...]  (read by --dataset folder)

Examples:
    /usr/bin/python3 model-ops/scripts/synth.py --split test --clips 20 --frames 40 --out /tmp/synth-test
    /usr/bin/python3 model-ops/scripts/synth.py --split train --clips 48 --out /tmp/synth-train --format jpg

Seeds: clip i of split S has seed SPLIT_SEEDS[S] + i (train 100000+, val 200000+, test 300000+),
so splits are disjoint and every clip is reproducible on its own.
"""
import argparse
import json
import os


from tqdm import tqdm

from mpvss_ref import data, synth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=sorted(synth.SPLIT_SEEDS), required=True)
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--first", type=int, default=0, help="index of the first clip in the split")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--format", choices=["png", "jpg"], default="png")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    flows = []
    seeds = synth.split_seeds(args.split, args.clips, args.first)
    for seed in tqdm(seeds, desc=f"{args.split} clips", dynamic_ncols=True):
        clip = synth.render_clip(seed, args.height, args.width, args.frames, with_flow=True)
        data.write_clip(clip, os.path.join(args.out, data.clip_id(args.split, seed)), args.format, args.quality)
        flows.append(clip.flow)
    stats = synth.motion_stats(flows)
    info = {"split": args.split, "seeds": seeds, "frames": args.frames, "height": args.height, "width": args.width,
            "classes": data.classes_json(), "motion": stats}
    with open(os.path.join(args.out, "split.json"), "w") as f:
        json.dump(info, f, indent=1)
    with open(os.path.join(args.out, "classes.json"), "w") as f:
        json.dump(data.classes_json(), f, indent=1)
    print(f"wrote {len(seeds)} clips to {args.out}; motion between consecutive frames: "
          f"mean {stats['mean_px']:.2f} px, p95 {stats['p95_px']:.2f} px")


if __name__ == "__main__":
    main()
