#!/usr/bin/python3
"""Write parity vectors for an existing bundle from its PyTorch weights (bundle/checkpoint.pt).

    /usr/bin/python3 model-ops/scripts/parity_vectors.py --bundle model-ops/bundle --out target/parity/bundle

Layout and cases as in `export.py --vectors` (see model-ops/README.md). The ONNX Runtime half of the check is
the Java ParityCheck (or scripts/ort_parity.py where the Python onnxruntime package exists).
With --verify-export the weights are exported again to a temporary directory and the graphs must be
byte-identical to the bundle's (proves the graphs are exactly these weights).
"""
import argparse
import json
import os
import sys
import tempfile


import torch

from mpvss_ref import export as E
from mpvss_ref.model import load_bundle


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--checkpoint", help="default: <bundle>/checkpoint.pt")
    ap.add_argument("--verify-export", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    # the bundle's weights with the formulation its graphs were exported with (manifest config: semantic, flow_input)
    model, _ = load_bundle(args.bundle, checkpoint=args.checkpoint)
    with open(os.path.join(args.bundle, "manifest.json")) as f:
        manifest = json.load(f)
    for g, entry in manifest["graphs"].items():
        got = E.sha256(os.path.join(args.bundle, entry["file"]))
        if got != entry["sha256"]:
            sys.exit(f"{args.bundle}: {entry['file']} sha256 {got} does not match the manifest ({entry['sha256']})")
    if (manifest["input"]["height"], manifest["input"]["width"]) != (model.cfg.height, model.cfg.width):
        sys.exit("checkpoint and manifest disagree on the input size")
    if args.verify_export:
        with tempfile.TemporaryDirectory() as tmp:
            paths = E.export_graphs(model, tmp, dynamic_queries=manifest.get("dynamic_queries", True))
            for g, p in paths.items():
                if E.sha256(p) != manifest["graphs"][g]["sha256"]:
                    sys.exit(f"re-exported {g}.onnx differs from the bundle's")
        print("re-export is byte-identical to the bundle's graphs")
    meta = E.write_parity_vectors(model, args.out, seed=args.seed)
    print(f"wrote parity vectors for {manifest['name']}@{manifest['version']} to {args.out} "
          f"({', '.join(c['name'] for c in meta['cases'] + meta.get('extra_cases', []))})")


if __name__ == "__main__":
    main()
