"""The model bundle contract, read from `model-ops/contract/mpvss-1.json`.

That JSON file is the contract's one declaration: this module and the Java job (`io.mpvss.model.BundleContract`,
which gets the same file as a classpath resource) both read it, so the exporter and the job cannot disagree on a
tensor name, dtype or shape rule.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Tuple

# model-ops/contract/ beside the package (the package is installed editable from this checkout: model-ops/setup.sh)
CONTRACT_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "contract", "mpvss-1.json")


def _load() -> Dict:
    with open(CONTRACT_FILE, encoding="utf-8") as f:
        return json.load(f)


SPEC = _load()
CONTRACT: str = SPEC["contract"]
MIN_OPSET: int = SPEC["min_opset"]
STRIDE: int = SPEC["stride"]
GRAPHS = ("segmentor", "propagator")


def tensor_names(graph: str, side: str) -> List[str]:
    """Names of a graph's `inputs` or `outputs`, in contract order (optional ones included)."""
    return [t["name"] for t in SPEC["graphs"][graph][side]]


def resolve_dim(d, symbols: Dict[str, object]):
    """A contract dim: an int, a symbol ('N'), or 'X/d' (a symbol divided by d)."""
    if isinstance(d, int):
        return d
    if "/" in d:
        sym, div = d.split("/")
        return symbols[sym] // int(div)
    return symbols[d]


def shapes(cfg, dynamic_queries: bool = True) -> Dict[str, Dict[str, Tuple[str, list]]]:
    """Expected (dtype, shape) per graph and tensor for a model config; strings are symbolic (ONNX dim_param) dims:
    'batch' always, and 'queries' for the propagator's per-query tensors when N is dynamic."""
    out = {}
    for g in GRAPHS:
        symbols = {"B": "batch", "H": cfg.height, "W": cfg.width, "C": cfg.hidden_dim, "K1": cfg.out_classes,
                   "N": "queries" if (dynamic_queries and g == "propagator") else cfg.num_queries}
        out[g] = {t["name"]: (t["dtype"], [resolve_dim(d, symbols) for d in t["shape"]])
                  for side in ("inputs", "outputs") for t in SPEC["graphs"][g][side]}
    return out
