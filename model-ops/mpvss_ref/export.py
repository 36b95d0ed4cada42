"""ONNX export to the `mpvss/1` bundle contract, manifest writing, contract checks and parity vectors."""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import onnx
import torch

from . import contract, data, synth
from .flops import count_macs
from .model import Mpvss, PropagatorGraph, SegmentorGraph

# the contract's names and shapes come from its one declaration, model-ops/contract/mpvss-1.json
CONTRACT = contract.CONTRACT
OPSET = contract.MIN_OPSET
SEG_IN = contract.tensor_names("segmentor", "inputs")
SEG_OUT = contract.tensor_names("segmentor", "outputs")
PROP_IN = contract.tensor_names("propagator", "inputs")
PROP_OUT = contract.tensor_names("propagator", "outputs")
contract_shapes = contract.shapes


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _example_inputs(model: Mpvss, batch: int = 2, seed: int = 0):
    cfg = model.cfg
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (batch, cfg.height, cfg.width, 3), dtype=torch.uint8, generator=g)
    img2 = torch.randint(0, 256, (batch, cfg.height, cfg.width, 3), dtype=torch.uint8, generator=g)
    with torch.no_grad():
        q, c, m, _ = model.segment(img)
    return img, img2, q, c, m


def export_graphs(model: Mpvss, out_dir: str, dynamic_queries: bool = True) -> Dict[str, str]:
    """Writes segmentor.onnx and propagator.onnx; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    model.eval()
    img, img2, q, c, m = _example_inputs(model)
    seg_path = os.path.join(out_dir, "segmentor.onnx")
    prop_path = os.path.join(out_dir, "propagator.onnx")
    b = {0: "batch"}
    bq = {0: "batch", 1: "queries"} if dynamic_queries else b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(SegmentorGraph(model), (img,), seg_path, input_names=SEG_IN, output_names=SEG_OUT,
                          dynamic_axes={n: b for n in SEG_IN + SEG_OUT}, opset_version=OPSET,
                          do_constant_folding=True)
        torch.onnx.export(PropagatorGraph(model), (img, img2, q, c, m), prop_path, input_names=PROP_IN,
                          output_names=PROP_OUT,
                          dynamic_axes={"key_image": b, "image": b, "key_queries": bq, "key_class_logits": bq,
                                        "key_mask_logits": bq, "semantic": b, "mask_logits": bq, "flow": bq},
                          opset_version=OPSET, do_constant_folding=True)
    exp = contract_shapes(model.cfg, dynamic_queries)
    for g, path in (("segmentor", seg_path), ("propagator", prop_path)):
        stamp_output_shapes(path, exp[g])
    return {"segmentor": seg_path, "propagator": prop_path}


def stamp_output_shapes(path: str, expected: Dict[str, Tuple[str, list]]) -> None:
    """torch 1.13 leaves some static output dims symbolic ('Addqueries_dim_1'); write the contract's
    shapes on the graph outputs (verified by `inferred_output_shapes` in check_contract/tests)."""
    mdl = onnx.load(path)
    for vi in mdl.graph.output:
        dt, shape = expected[vi.name]
        vi.type.tensor_type.ClearField("shape")
        for d in shape:
            dim = vi.type.tensor_type.shape.dim.add()
            if isinstance(d, str):
                dim.dim_param = d
            else:
                dim.dim_value = d
    onnx.save(mdl, path)


def inferred_output_shapes(path: str, dims: Dict[str, int]) -> Dict[str, list]:
    """Output shapes derived from the graph's nodes alone, with symbolic input dims pinned to `dims`."""
    from .flops import _fold_shapes, _pin_dims, _shape_table
    m = _fold_shapes(_pin_dims(onnx.load(path), dims))
    t = _shape_table(m)
    return {o.name: t.get(o.name) for o in m.graph.output}


_DT = {onnx.TensorProto.UINT8: "uint8", onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.INT64: "int64"}


def graph_io(path: str) -> Dict[str, Tuple[str, list]]:
    mdl = onnx.load(path)
    out = {}
    for vi in list(mdl.graph.input) + list(mdl.graph.output):
        t = vi.type.tensor_type
        out[vi.name] = (_DT.get(t.elem_type, str(t.elem_type)),
                        [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim])
    return out


def check_contract(bundle_dir: str, cfg, dynamic_queries: bool = True) -> List[str]:
    """Returns a list of violations (empty = ok): names, dtypes, shapes, opset, onnx.checker."""
    errs = []
    exp = contract_shapes(cfg, dynamic_queries)
    for graph, ins, outs in (("segmentor", SEG_IN, SEG_OUT), ("propagator", PROP_IN, PROP_OUT)):
        path = os.path.join(bundle_dir, f"{graph}.onnx")
        mdl = onnx.load(path)
        try:
            onnx.checker.check_model(mdl)
        except Exception as e:  # pragma: no cover - reported, not raised
            errs.append(f"{graph}: onnx.checker: {e}")
        opset = max(o.version for o in mdl.opset_import if o.domain in ("", "ai.onnx"))
        if opset < OPSET:
            errs.append(f"{graph}: opset {opset} < {OPSET}")
        if [i.name for i in mdl.graph.input] != ins:
            errs.append(f"{graph}: inputs {[i.name for i in mdl.graph.input]} != {ins}")
        if [o.name for o in mdl.graph.output] != outs:
            errs.append(f"{graph}: outputs {[o.name for o in mdl.graph.output]} != {outs}")
        io = graph_io(path)
        for name, (dt, shape) in exp[graph].items():
            if name not in io:
                continue
            fdt, fshape = io[name]
            if fdt != dt or fshape != shape:
                errs.append(f"{graph}: tensor {name}: expected {dt}{shape}, found {fdt}{fshape}")
        # the nodes must produce those shapes: infer at batch 3 (and, for a dynamic N, N-1 queries)
        pins = {"batch": 3, "queries": max(1, cfg.num_queries - 1)}
        got = inferred_output_shapes(path, pins)
        for name in outs:
            want = [pins.get(d, d) if isinstance(d, str) else d for d in exp[graph][name][1]]
            if got.get(name) != want:
                errs.append(f"{graph}: tensor {name}: graph computes {got.get(name)} for inputs pinned to {pins}, expected {want}")
    return errs


def graph_macs(paths: Dict[str, str], cfg) -> Dict[str, int]:
    return {g: count_macs(p, {"batch": 1, "queries": cfg.num_queries})["total"] for g, p in paths.items()}


def write_manifest(bundle_dir: str, cfg, macs: Dict[str, int], name: str = "mpvss-synth", version: str = "1.0.0",
                   key_interval: int = 5, metrics: Optional[Dict] = None, extra: Optional[Dict] = None,
                   dynamic_queries: bool = True, classes: Optional[List[Dict]] = None) -> Dict:
    """`classes` [{id, name, color}] (the training data set's); default: the synthetic classes."""
    if classes is not None and len(classes) != cfg.num_classes:
        raise ValueError(f"{len(classes)} classes given for a model with {cfg.num_classes}")
    graphs = {}
    for g in ("segmentor", "propagator"):
        f = f"{g}.onnx"
        graphs[g] = {"file": f, "sha256": sha256(os.path.join(bundle_dir, f)),
                     "gmacs_per_frame": round(macs[g] / 1e9, 4)}
    s, p = macs["segmentor"], macs["propagator"]
    manifest = {
        "name": name,
        "version": version,
        "contract": CONTRACT,
        "input": {"height": cfg.height, "width": cfg.width},
        "queries": cfg.num_queries,
        "query_dim": cfg.hidden_dim,
        "classes": classes if classes is not None else data.classes_json()[: cfg.num_classes] if cfg.num_classes <= synth.NUM_CLASSES else
        [{"id": i, "name": f"class{i}", "color": [(37 * i) % 256, (91 * i) % 256, (173 * i) % 256]} for i in range(cfg.num_classes)],
        "key_interval": key_interval,
        "opset": OPSET,
        "graphs": graphs,
        "dynamic_queries": dynamic_queries,
        "flow_units": "pixels of the H/8 grid, (dx, dy), current -> key",
        "cost": {"propagator_over_segmentor": round(p / s, 4),
                 "gflops_per_frame": {f"k{k}": round(2 * (s + (k - 1) * p) / k / 1e9, 4) for k in (1, 2, 3, 5, 10)},
                 "note": "GFLOPs = 2 x MACs counted from the ONNX graphs at batch 1 (mpvss_ref.flops)"},
        "metrics": metrics or {},
    }
    if extra:
        manifest.update(extra)
    with open(os.path.join(bundle_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


# --------------------------------------------------------------------------- parity vectors

def _save(path: str, arr: np.ndarray):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arr = np.ascontiguousarray(arr)
    if arr.dtype not in (np.float32, np.uint8):
        raise TypeError(f"{path}: parity vectors are float32 or uint8 (the Java reader reads only those), found {arr.dtype}")
    np.save(path, arr.astype(arr.dtype.newbyteorder("<")) if arr.dtype == np.float32 else arr, allow_pickle=False)


def _top2_gap(scores: torch.Tensor) -> np.ndarray:
    top = scores.topk(2, dim=1).values
    return (top[:, 0] - top[:, 1]).numpy().astype(np.float32)


@torch.no_grad()
def write_parity_vectors(model: Mpvss, out_dir: str, real_pairs: Optional[List[Tuple[np.ndarray, np.ndarray]]] = None,
                         seed: int = 0) -> Dict:
    """Writes <out>/<case>/{segmentor,propagator}/{inputs,outputs}/<tensor>.npy and <out>/vectors.json.

    Cases: `random` (uniform random uint8 images, batch 2) and `real` (two (key, current) pairs of
    synthetic test frames, batch 2). The propagator's key inputs are the torch segmentor outputs of
    the key images, which are also the segmentor case's inputs. Each graph dir also holds
    aux/semantic_top2_gap.npy: the gap between the two best semantic scores per pixel (pixels with a
    gap under 1e-4 are near-ties whose argmax may legitimately differ between engines)."""
    from .model import normalize_image, semantic_scores
    model.eval()
    cfg = model.cfg
    H, W = cfg.height, cfg.width
    cases = {}
    g = np.random.default_rng(seed)
    cases["random"] = (g.integers(0, 256, (2, H, W, 3), dtype=np.uint8), g.integers(0, 256, (2, H, W, 3), dtype=np.uint8))
    if real_pairs is None:
        real_pairs = []
        for s, gap in ((synth.split_seeds("test", 1)[0], 3), (synth.split_seeds("test", 2)[1], 5)):
            c = synth.render_clip(s, H, W, gap + 1, with_flow=False)
            real_pairs.append((c.images[0], c.images[gap]))
    cases["real"] = (np.stack([k for k, _ in real_pairs]), np.stack([c for _, c in real_pairs]))
    listing = []
    for name, (key, cur) in cases.items():
        kt, ct = torch.from_numpy(key), torch.from_numpy(cur)
        q, c, m, sem = model.segment(kt)
        seg_dir = os.path.join(out_dir, name, "segmentor")
        _save(os.path.join(seg_dir, "inputs", "image.npy"), key)
        for n, v in zip(SEG_OUT, (q, c, m, sem)):
            _save(os.path.join(seg_dir, "outputs", f"{n}.npy"), v.numpy())
        _save(os.path.join(seg_dir, "aux", "semantic_top2_gap.npy"), _top2_gap(semantic_scores(c, m, (H, W), cfg.semantic)))
        psem, pm, pf = model.propagate(kt, ct, q, c, m)
        prop_dir = os.path.join(out_dir, name, "propagator")
        for n, v in zip(PROP_IN, (key, cur, q.numpy(), c.numpy(), m.numpy())):
            _save(os.path.join(prop_dir, "inputs", f"{n}.npy"), v)
        for n, v in zip(PROP_OUT, (psem, pm, pf)):
            _save(os.path.join(prop_dir, "outputs", f"{n}.npy"), v.numpy())
        _save(os.path.join(prop_dir, "aux", "semantic_top2_gap.npy"), _top2_gap(semantic_scores(c, pm, (H, W), cfg.semantic)))
        listing.append({
            "name": name, "batch": int(key.shape[0]),
            "segmentor": {"dir": f"{name}/segmentor", "inputs": SEG_IN, "outputs": SEG_OUT},
            "propagator": {"dir": f"{name}/propagator", "inputs": PROP_IN, "outputs": PROP_OUT},
        })
    # extra case (listed under "extra_cases"): the propagator with fewer queries than N (dynamic "queries" axis)
    extra = []
    key, cur = cases["real"]
    kt, ct = torch.from_numpy(key), torch.from_numpy(cur)
    q, c, m, _ = model.segment(kt)
    n = max(1, cfg.num_queries // 2)
    # keep the queries that matter (highest object probability over the batch), as a state store might
    score = c.softmax(-1)[..., :-1].max(-1).values.mean(0)
    sel = score.argsort(descending=True)[:n].sort().values
    qs, cs, ms = q[:, sel].contiguous(), c[:, sel].contiguous(), m[:, sel].contiguous()
    psem, pm, pf = model.propagate(kt, ct, qs, cs, ms)
    prop_dir = os.path.join(out_dir, "queries_subset", "propagator")
    for nme, v in zip(PROP_IN, (key, cur, qs.numpy(), cs.numpy(), ms.numpy())):
        _save(os.path.join(prop_dir, "inputs", f"{nme}.npy"), v)
    for nme, v in zip(PROP_OUT, (psem, pm, pf)):
        _save(os.path.join(prop_dir, "outputs", f"{nme}.npy"), v.numpy())
    _save(os.path.join(prop_dir, "aux", "semantic_top2_gap.npy"), _top2_gap(semantic_scores(cs, pm, (H, W), cfg.semantic)))
    extra.append({"name": "queries_subset", "batch": int(key.shape[0]), "queries": int(n), "query_index": sel.tolist(),
                  "semantic_rule": "tie-aware: no mismatch where the top-2 score gap exceeds semantic_tie_gap",
                  "propagator": {"dir": "queries_subset/propagator", "inputs": PROP_IN, "outputs": PROP_OUT}})
    meta = {
        "contract": CONTRACT,
        "extra_cases": extra,
        "input": {"height": H, "width": W},
        "queries": cfg.num_queries,
        "cases": listing,
        "tolerance": {"float_max_abs": 1e-3, "semantic_equal_fraction": 0.999, "semantic_tie_gap": 1e-4},
        "layout": "<case>/<graph>/{inputs,outputs}/<tensor>.npy (.npy v1.0, C order, little-endian <f4 or |u1); "
                  "<case>/<graph>/aux/semantic_top2_gap.npy",
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "vectors.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta
