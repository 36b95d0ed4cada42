"""The shipped bundle: checksums, contract, cost shape, size, demo clips, and its quality bar on a test slice."""
import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import BUNDLE, DEMO
from mpvss_ref import export as E, synth
from mpvss_ref.evaluation import predict_clip, segment_all
from mpvss_ref.metrics import confusion, miou
from mpvss_ref.model import load_bundle, MpvssConfig


@pytest.fixture(scope="module")
def manifest():
    with open(os.path.join(BUNDLE, "manifest.json")) as f:
        return json.load(f)


def test_manifest_checksums_match_files(manifest):
    for g in ("segmentor", "propagator"):
        entry = manifest["graphs"][g]
        assert entry["file"] == f"{g}.onnx"
        assert E.sha256(os.path.join(BUNDLE, entry["file"])) == entry["sha256"]


def test_manifest_fields(manifest):
    assert manifest["contract"] == "mpvss/1" and manifest["opset"] >= 16
    assert manifest["input"] == {"height": 256, "width": 512}
    ids = [c["id"] for c in manifest["classes"]]
    assert ids == list(range(len(ids))) and len(ids) >= 7
    assert all(len(c["color"]) == 3 for c in manifest["classes"])
    for k in ("k1", "k2", "k3", "k5", "k10"):
        assert 0 < manifest["metrics"]["miou"][k] <= 100
        assert 0 < manifest["metrics"]["miou_zero_flow"][k] <= 100
    assert manifest["metrics"]["motion"]["mean_px"] > 0


def test_bundle_contract_and_cost(manifest):
    ck = torch.load(os.path.join(BUNDLE, "checkpoint.pt"))
    cfg = MpvssConfig.from_dict(manifest["config"])   # the exported graphs' config (checkpoint's + formulation)
    assert MpvssConfig.from_dict(ck["config"]).num_queries == cfg.num_queries
    assert manifest["queries"] == cfg.num_queries and manifest["query_dim"] == cfg.hidden_dim
    assert E.check_contract(BUNDLE, cfg) == []
    macs = E.graph_macs({g: os.path.join(BUNDLE, f"{g}.onnx") for g in ("segmentor", "propagator")}, cfg)
    for g in macs:
        assert abs(manifest["graphs"][g]["gmacs_per_frame"] - macs[g] / 1e9) < 1e-3
    assert macs["propagator"] <= macs["segmentor"] / 5


def test_bundle_size():
    total = sum(os.path.getsize(os.path.join(BUNDLE, f)) for f in os.listdir(BUNDLE))
    assert total <= 20 * 1024 * 1024


def test_demo_clips_layout():
    clips = sorted(d for d in os.listdir(DEMO) if os.path.isdir(os.path.join(DEMO, d)))
    assert len(clips) == 3
    for c in clips:
        frames = sorted(os.listdir(os.path.join(DEMO, c, "frames")))
        labels = sorted(os.listdir(os.path.join(DEMO, c, "labels")))
        assert len(frames) == 60 and frames[0] == "000000.jpg" and labels[-1] == "000059.png"
        im = Image.open(os.path.join(DEMO, c, "frames", frames[0]))
        lb = Image.open(os.path.join(DEMO, c, "labels", labels[0]))
        assert im.mode == "RGB" and im.size == (512, 256) and lb.mode == "L"
    # regenerated labels are identical (same scripts, same seeds; a clip is a function of seed, size and length)
    seed = int(clips[0].split("-")[1])
    clip = synth.render_clip(seed, 256, 512, 60, with_flow=False)
    assert np.array_equal(np.asarray(Image.open(os.path.join(DEMO, clips[0], "labels", "000001.png"))), clip.labels[1])


@torch.no_grad()
def test_bundled_model_meets_bar_on_test_slice():
    """2 held-out test clips x 20 frames: K=1 mIoU >= 70 and MPVSS beats zero flow at K=5."""
    model, _ = load_bundle(BUNDLE)   # the formulation the bundle's graphs compute (manifest config)
    K = model.cfg.num_classes
    conf = {n: np.zeros((K, K), np.int64) for n in ("k1", "k5", "zero5")}
    for seed in synth.split_seeds("test", 2):
        clip = synth.render_clip(seed, model.cfg.height, model.cfg.width, 40, with_flow=False)  # as in the test split
        images, labels = clip.images[:20], clip.labels[:20]
        seg = segment_all(model, images)
        conf["k1"] += confusion(seg[3].numpy(), labels, K)
        conf["k5"] += confusion(predict_clip(model, images, 5, seg=seg), labels, K)
        conf["zero5"] += confusion(predict_clip(model, images, 5, zero_flow=True, seg=seg), labels, K)
    r = {n: miou(c) for n, c in conf.items()}
    assert r["k1"] >= 70, r
    assert r["k5"] - r["zero5"] > 2.0, r
    assert r["k1"] - r["k5"] < r["k1"] - r["zero5"], r
