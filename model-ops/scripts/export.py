#!/usr/bin/python3
"""Export an MPVSS model to an `mpvss/1` bundle (segmentor.onnx, propagator.onnx, manifest.json),
optionally with parity vectors for ONNX Runtime (checked by the Java ParityCheck / scripts/ort_parity.py).

Fresh tiny random-init bundle + vectors (seconds):
    /usr/bin/python3 model-ops/scripts/export.py --preset tiny --random-init --out /tmp/tiny --vectors /tmp/tiny/parity
A model trained on another data set (classes and colours from the checkpoint, which train.py writes them into,
or from --dataset/--data-root):
    /usr/bin/python3 model-ops/scripts/export.py --checkpoint runs/cs/checkpoint.pt --metrics runs/cs/eval.json \\
        --name mpvss-cityscapes --out runs/cs/bundle
The shipped bundle from a trained checkpoint and measured metrics:
    /usr/bin/python3 model-ops/scripts/export.py --checkpoint model-ops/.cache/run/checkpoint.pt \\
        --metrics model-ops/.cache/eval.json --out model-ops/bundle --vectors /tmp/bundle-parity
"""
import argparse
import json
import os
import sys
import time


import torch

from mpvss_ref import datasets
from mpvss_ref import export as E
from mpvss_ref.cli import add_config_overrides, load_checkpoint_args
from mpvss_ref.model import Mpvss, count_params, preset


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="trained checkpoint (train.py's checkpoint.pt or a bundle's)")
    src.add_argument("--preset", help="build this preset (tiny, bundle, paper) instead of loading weights")
    ap.add_argument("--random-init", action="store_true", help="with --preset: random weights (for contract/parity tests)")
    ap.add_argument("--height", type=int, help="override the preset's input height")
    ap.add_argument("--width", type=int, help="override the preset's input width")
    add_config_overrides(ap, semantic_help="semantic inference formulation of both graphs (default: the checkpoint's "
                         "config, i.e. 'full' for a training checkpoint; the manifest's config records the one used)")
    ap.add_argument("--out", required=True, help="bundle directory to write")
    ap.add_argument("--vectors", help="also write parity vectors here")
    ap.add_argument("--metrics", help="JSON from evaluate.py to put in the manifest")
    ap.add_argument("--training", help="JSON file with facts about the training run to put in the manifest")
    ap.add_argument("--dataset", choices=datasets.KINDS, help="take the manifest's classes from this data set "
                    "(default: the checkpoint's, else the synthetic classes)")
    ap.add_argument("--data-root", help="with --dataset (all but synth and cityscapes)")
    ap.add_argument("--split", default="train", help="with --dataset vspw: split list to find a mask palette in")
    ap.add_argument("--name", default=None)
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--key-interval", type=int, default=5)
    ap.add_argument("--static-queries", action="store_true", help="propagator with a static N (default: dynamic 'queries' axis)")
    ap.add_argument("--fp32-weights", action="store_true", help="keep full fp32 weights (default: fp16-exact weights)")
    ap.add_argument("--no-weights", action="store_true", help="do not write checkpoint.pt into the bundle")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()

    meta, classes = {}, None
    if args.checkpoint:
        if not os.path.isfile(args.checkpoint):
            ap.error(f"--checkpoint {args.checkpoint}: no such file")
        model, ck = load_checkpoint_args(args)
        meta = ck.get("meta", {})
        classes = ck.get("classes")
        name = args.name or ("mpvss-synth" if not classes or (ck.get("dataset") or {}).get("kind", "synth") == "synth"
                             else f"mpvss-{ck['dataset']['kind']}")
    else:
        if not args.random_init:
            ap.error("--preset needs --random-init (or pass --checkpoint)")
        over = {k: v for k, v in (("height", args.height), ("width", args.width), ("semantic", args.semantic),
                                                 ("flow_input", args.flow_input)) if v}
        cfg = preset(args.preset, **over)
        torch.manual_seed(args.seed)
        model = Mpvss(cfg)
        # give BatchNorm non-trivial statistics so the random graph is not degenerate
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
            # and a non-zero flow head, so the warp is exercised
            for lin in (model.flow.pixel_flow, model.flow.query_mlp.layers[-1]):
                lin.weight.normal_(0, 0.02)
        name = args.name or f"mpvss-{args.preset}-random"
    if args.dataset:
        try:
            classes = datasets.dataset_classes(args.dataset, args.data_root, args.split)
        except datasets.DatasetError as e:
            ap.error(str(e))
    if classes is not None and len(classes) != model.cfg.num_classes:
        ap.error(f"the model predicts {model.cfg.num_classes} classes but the class list "
                 f"({'--dataset ' + args.dataset if args.dataset else 'checkpoint'}) has {len(classes)}")
    model.eval()
    if not args.fp32_weights:
        # ship weights that are exactly representable in fp16: checkpoint.pt stays small (the bundle's
        # checkpoint is stored as fp16) and the graphs hold the very same values, so parity is unaffected
        with torch.no_grad():
            for t in list(model.parameters()) + list(model.buffers()):
                if t.is_floating_point():
                    t.copy_(t.half().float())
    cfg = model.cfg
    dyn = not args.static_queries
    os.makedirs(args.out, exist_ok=True)
    paths = E.export_graphs(model, args.out, dynamic_queries=dyn)
    errs = E.check_contract(args.out, cfg, dynamic_queries=dyn)
    if errs:
        print("contract violations:\n  " + "\n  ".join(errs))
        sys.exit(1)
    macs = E.graph_macs(paths, cfg)
    metrics = json.load(open(args.metrics))["manifest_metrics"] if args.metrics else {}
    extra = {"parameters": {"segmentor": count_params(model.segmentor), "flow_module": count_params(model.flow)},
             "config": cfg.to_dict()}
    if args.training:
        extra["training"] = json.load(open(args.training))
    manifest = E.write_manifest(args.out, cfg, macs, name=name, version=args.version, key_interval=args.key_interval,
                                metrics=metrics, extra=extra, dynamic_queries=dyn, classes=classes)
    if not args.no_weights:
        sd = model.state_dict()
        if not args.fp32_weights:
            sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        torch.save({"config": cfg.to_dict(), "model": sd, "weights_dtype": "float16" if not args.fp32_weights else "float32",
                    **({"classes": classes} if classes is not None else {})}, os.path.join(args.out, "checkpoint.pt"))
    if args.vectors:
        E.write_parity_vectors(model, args.vectors, seed=args.seed)
    s, p = macs["segmentor"], macs["propagator"]
    print(f"wrote {args.out}: segmentor {s / 1e9:.3f} GMAC, propagator {p / 1e9:.3f} GMAC (P/S = {p / s:.3f}), "
          f"params {extra['parameters']}, {time.time() - t0:.1f}s")
    if args.vectors:
        print(f"parity vectors: {args.vectors}/vectors.json")


if __name__ == "__main__":
    main()
