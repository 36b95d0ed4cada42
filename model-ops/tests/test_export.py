import json
import os
import time

import numpy as np
import onnx
import pytest
import torch

from mpvss_ref import export as E
from mpvss_ref.model import Mpvss, preset


def test_tiny_export_meets_contract(tiny_export):
    model, out, paths = tiny_export
    assert E.check_contract(out, model.cfg) == []
    io = E.graph_io(paths["segmentor"])
    assert io["image"] == ("uint8", ["batch", 128, 256, 3])
    assert io["semantic"] == ("uint8", ["batch", 128, 256])
    pio = E.graph_io(paths["propagator"])
    assert pio["key_mask_logits"] == ("float32", ["batch", "queries", 32, 64])
    assert pio["flow"] == ("float32", ["batch", "queries", 2, 16, 32])
    for p in paths.values():
        m = onnx.load(p)
        assert max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) >= 16
        ops = {n.op_type for n in m.graph.node}
        assert "ATen" not in ops and not any(o.domain not in ("", "ai.onnx") for o in m.opset_import)
    assert "GridSample" in {n.op_type for n in onnx.load(paths["propagator"]).graph.node}


def test_graph_constants_match_torch_weights(tiny_export):
    """Structural parity without a runtime: every learned weight matrix of the query decoders appears in
    the graph's initializers (Linear weights are exported transposed for MatMul)."""
    model, out, paths = tiny_export
    inits = [onnx.numpy_helper.to_array(i) for i in onnx.load(paths["propagator"]).graph.initializer]
    w = model.flow.layers[0].attn.q.weight.detach().numpy()
    assert any(a.shape == w.T.shape and np.allclose(a, w.T) for a in inits)


def test_cost_shape_counted_from_graphs(tiny_export):
    model, out, paths = tiny_export
    macs = E.graph_macs(paths, model.cfg)
    assert macs["segmentor"] > 0 and 0 < macs["propagator"] <= macs["segmentor"] / 5


def test_manifest_and_parity_vectors(tiny_export, tmp_path):
    model, out, paths = tiny_export
    macs = E.graph_macs(paths, model.cfg)
    man = E.write_manifest(out, model.cfg, macs, name="t")
    assert man["contract"] == "mpvss/1" and man["graphs"]["segmentor"]["sha256"] == E.sha256(paths["segmentor"])
    vec = tmp_path / "parity"
    meta = E.write_parity_vectors(model, str(vec))
    assert [c["name"] for c in meta["cases"]] == ["random", "real"]
    for case in meta["cases"]:
        for g in ("segmentor", "propagator"):
            d = vec / case[g]["dir"]
            for kind in ("inputs", "outputs"):
                for n in case[g][kind]:
                    a = np.load(d / kind / f"{n}.npy")
                    assert a.dtype.str in ("<f4", "|u1"), (n, a.dtype.str)
                    assert a.shape[0] == 2 and a.flags.c_contiguous
    sem = np.load(vec / "real" / "segmentor" / "outputs" / "semantic.npy")
    assert sem.shape == (2, 128, 256) and sem.dtype == np.uint8
    with open(vec / "real" / "propagator" / "inputs" / "key_queries.npy", "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00"  # .npy v1.0
    # the propagator's key inputs are the segmentor's outputs on the key images
    assert np.array_equal(np.load(vec / "real" / "propagator" / "inputs" / "key_mask_logits.npy"),
                          np.load(vec / "real" / "segmentor" / "outputs" / "mask_logits.npy"))


def test_export_script_tiny_random(tmp_path):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    t = time.time()
    r = subprocess.run([sys.executable, os.path.join(root, "scripts", "export.py"), "--preset", "tiny", "--random-init",
                        "--out", str(tmp_path / "b"), "--vectors", str(tmp_path / "b" / "parity")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert time.time() - t < 90
    man = json.load(open(tmp_path / "b" / "manifest.json"))
    assert man["queries"] == 8 and man["input"] == {"height": 128, "width": 256}
    assert os.path.exists(tmp_path / "b" / "parity" / "vectors.json")


def test_paper_size_exports(tmp_path):
    """The same exporter handles the paper-size config (N=100, C=256, 9 layers, ~40M flow module) with random
    weights at a small input size."""
    torch.manual_seed(0)
    cfg = preset("paper", height=128, width=256)
    model = Mpvss(cfg).eval()
    paths = E.export_graphs(model, str(tmp_path))
    assert E.check_contract(str(tmp_path), cfg) == []
    macs = E.graph_macs(paths, cfg)
    assert macs["propagator"] < macs["segmentor"]
