#!/usr/bin/python3
"""Regenerate model-ops/demo-clips: 3 camera streams x 60 frames from held-out test seeds, JPEG q90.

    /usr/bin/python3 model-ops/scripts/make_demo_clips.py

The clips are the test split's last seeds (test clips 97..99, never used for the metrics table, which uses
test clips 0..19), rendered at the bundle resolution with the same generator.
"""
import argparse
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

from tqdm import tqdm

from mpvss_ref import data, synth


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "demo-clips"))
    ap.add_argument("--clips", type=int, default=3)
    ap.add_argument("--first", type=int, default=97, help="first test-split clip index")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=512)
    args = ap.parse_args()
    if os.path.isdir(args.out):
        for d in os.listdir(args.out):
            if d.startswith("test-"):
                shutil.rmtree(os.path.join(args.out, d))
    os.makedirs(args.out, exist_ok=True)
    seeds = synth.split_seeds("test", args.clips, args.first)
    flows = []
    for seed in tqdm(seeds, desc="demo clips", dynamic_ncols=True):
        clip = synth.render_clip(seed, args.height, args.width, args.frames, with_flow=True)
        data.write_clip(clip, os.path.join(args.out, data.clip_id("test", seed)), "jpg", 90)
        flows.append(clip.flow)
    info = {"split": "test", "seeds": seeds, "frames": args.frames, "height": args.height, "width": args.width,
            "format": "jpg", "quality": 90, "classes": data.classes_json(), "motion": synth.motion_stats(flows),
            "command": "/usr/bin/python3 model-ops/scripts/make_demo_clips.py"}
    with open(os.path.join(args.out, "clips.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"wrote {len(seeds)} clips x {args.frames} frames to {args.out}")


if __name__ == "__main__":
    main()
