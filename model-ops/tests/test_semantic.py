"""Semantic inference formulations (MpvssConfig.semantic, mpvss_ref.model.SEMANTIC_FORMULATIONS): their definitions,
the old one still selectable, and what the exported graphs compute in."""
import dataclasses
import json
import os

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import shape_inference

from mpvss_ref import export as E
from mpvss_ref import model as M


def _inputs(b=2, n=16, k=7, h4=16, w4=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    cls = torch.randn(b, n, k + 1, generator=g) * 3
    masks = torch.randn(b, n, h4, w4, generator=g) * 6
    return cls, masks


def test_config_default_is_the_trained_formulation_and_names_are_checked():
    assert M.MpvssConfig().semantic == "full"
    d = M.preset("bundle").to_dict()
    d.pop("semantic")  # configs saved before 1.2.0 have no such field
    assert M.MpvssConfig.from_dict(d).semantic == "full"
    assert M.preset("tiny", semantic="full-nhwc").semantic == "full-nhwc"
    with pytest.raises(ValueError):
        M.preset("tiny", semantic="s3-prob")


def test_full_nhwc_equals_full_on_clear_margin_pixels():
    cls, masks = _inputs()
    size = (64, 128)
    ref = M.semantic_scores(cls, masks, size, "full")
    new = M.semantic_scores(cls, masks, size, "full-nhwc")
    assert new.shape == ref.shape == (2, 7, 64, 128)
    assert torch.allclose(new, ref, atol=1e-5)
    top = ref.topk(2, dim=1).values
    clear = (top[:, 0] - top[:, 1]) > 1e-4
    a = M.semantic_inference(cls, masks, size, "full")
    b = M.semantic_inference(cls, masks, size, "full-nhwc")
    assert clear.float().mean() > 0.9
    assert torch.equal(a[clear], b[clear])


def test_full_is_mask2former_definition_at_input_resolution():
    cls, masks = _inputs(b=1)
    size = (64, 128)
    probs = cls.softmax(-1)[0, :, :-1]
    up = F.interpolate(masks, size=size, mode="bilinear", align_corners=False)[0].sigmoid()
    scores = torch.einsum("qc,qhw->chw", probs, up)
    assert torch.equal(M.semantic_inference(cls, masks, size, "full")[0], scores.argmax(0).to(torch.uint8))


@pytest.mark.parametrize("name", ["s2-prob", "s4-prob", "s2-logit", "s4-logit"])
def test_low_resolution_formulations_upsample_k_class_maps(name):
    """Class scores at H/s from N masks, then only the K class maps are upsampled (in probability or logit space)."""
    scale, space, _ = M.SEMANTIC_FORMULATIONS[name]
    cls, masks = _inputs()
    size = (64, 128)
    at = (size[0] // scale, size[1] // scale)
    low = M.semantic_scores(cls, masks, at, "full")                  # [B,K,H/s,W/s], Mask2Former's scores there
    if space == "logit":
        c = low.clamp(M.LOGIT_EPS, 1 - M.LOGIT_EPS)
        low = torch.log(c) - torch.log(1 - c)
    want = F.interpolate(low, size=size, mode="bilinear", align_corners=False)
    got = M.semantic_scores(cls, masks, size, name)
    assert got.shape == (2, 7, 64, 128)
    assert torch.allclose(got, want, atol=1e-4)
    lab = M.semantic_inference(cls, masks, size, name)
    assert lab.dtype == torch.uint8 and lab.shape == (2, 64, 128)
    top = want.topk(2, dim=1).values
    clear = (top[:, 0] - top[:, 1]) > 1e-3
    assert torch.equal(lab[clear], want.argmax(1).to(torch.uint8)[clear])


def test_logit_space_upsampling_is_mask_logit_upsampling_for_one_confident_query():
    """A class held by one query with probability ~1: logit(score) is that query's mask logit, so s4-logit
    boundaries equal those of upsampling the mask logits themselves (what "full" does)."""
    n, k = 2, 2
    cls = torch.full((1, n, k + 1), -30.0)
    cls[0, 0, 0] = 30.0   # query 0 -> class 0
    cls[0, 1, 1] = 30.0   # query 1 -> class 1
    x = torch.arange(32.0) - 15.6
    # a steep and a gentle edge crossing between two H/4 samples: sigmoid saturates between them
    masks = torch.stack([6.0 * x[None, :].expand(8, 32), -x[None, :].expand(8, 32) + 0.3])[None]
    size = (32, 128)
    assert torch.equal(M.semantic_inference(cls, masks, size, "s4-logit"), M.semantic_inference(cls, masks, size, "full"))
    assert not torch.equal(M.semantic_inference(cls, masks, size, "s4-prob"), M.semantic_inference(cls, masks, size, "full"))


def _resize_inputs(path):
    m = shape_inference.infer_shapes(onnx.load(path))
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[vi.name] = [d.dim_value if d.dim_value else d.dim_param for d in vi.type.tensor_type.shape.dim]
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in m.graph.initializer}
    consts = {n.output[0]: onnx.numpy_helper.to_array(n.attribute[0].t) for n in m.graph.node if n.op_type == "Constant"}
    out = []
    for n in m.graph.node:
        if n.op_type == "Resize" and not n.name.startswith("/flow/"):
            sc = inits.get(n.input[2], consts.get(n.input[2]))
            out.append((shapes.get(n.input[0]), None if sc is None else sc.tolist()))
    return m, out


@pytest.mark.parametrize("name", ["full", "full-nhwc", "s2-logit", "s4-logit"])
def test_exported_graphs_compute_the_formulation(tmp_path, name):
    torch.manual_seed(0)
    model = M.Mpvss(M.preset("tiny", semantic=name)).eval()
    paths = E.export_graphs(model, str(tmp_path))
    assert E.check_contract(str(tmp_path), model.cfg) == []
    N, K = model.cfg.num_queries, model.cfg.num_classes
    for g in ("segmentor", "propagator"):
        m, resizes = _resize_inputs(paths[g])
        sem = resizes[-1]                        # the last Resize outside the flow module is the semantic one
        ops = [n.op_type for n in m.graph.node]
        argmax = [n for n in m.graph.node if n.op_type == "ArgMax"][-1]
        axis = [a.i for a in argmax.attribute if a.name == "axis"][0]
        if name == "full":
            assert sem[1] == [1, 1, 4, 4] and sem[0][1] in (N, "queries")   # N masks NCHW to full resolution
            assert axis == 1
        else:
            assert axis in (-1, 3)                                     # channels last: argmax over the last axis
            f = 4 if name == "full-nhwc" else M.SEMANTIC_FORMULATIONS[name][0]   # from H/4 masks, or from H/s scores
            assert sem[1] == [1, f, f, 1]
            # full-nhwc: the N masks channels-last; the others upsample only the K class maps to HxW
            assert sem[0][-1] in ((N, "queries") if name == "full-nhwc" else (K,))
            if g == "propagator":
                assert "Einsum" not in [n.op_type for n in m.graph.node if not n.name.startswith("/flow/")]


def test_load_bundle_uses_the_manifests_formulation(tmp_path):
    torch.manual_seed(0)
    cfg = M.preset("tiny")
    model = M.Mpvss(cfg)
    torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, tmp_path / "checkpoint.pt")
    (tmp_path / "manifest.json").write_text(json.dumps({"config": dataclasses.replace(cfg, semantic="s2-logit").to_dict()}))
    m2, _ = M.load_bundle(str(tmp_path))
    assert m2.cfg.semantic == "s2-logit"
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {}}))
    assert M.load_bundle(str(tmp_path))[0].cfg.semantic == "full"
    assert M.load_checkpoint(str(tmp_path / "checkpoint.pt"), semantic="full-nhwc")[0].cfg.semantic == "full-nhwc"


@torch.no_grad()
def test_pool_then_normalize_flow_input_matches_the_trained_one():
    """flow_input="pool-normalize" averages raw pixels, then normalises: the same x0.5 input up to float rounding."""
    torch.manual_seed(0)
    img = torch.randint(0, 256, (2, 128, 256, 3), dtype=torch.uint8)
    assert torch.allclose(M.half_normalized(img), F.avg_pool2d(M.normalize_image(img), 2), atol=1e-5)
    a = M.Mpvss(M.preset("tiny")).eval()
    for lin in (a.flow.pixel_flow, a.flow.query_mlp.layers[-1]):
        lin.weight.normal_(0, 0.05)
    b = M.Mpvss(M.preset("tiny", flow_input="pool-normalize")).eval()
    b.load_state_dict(a.state_dict())
    img2 = torch.randint(0, 256, (2, 128, 256, 3), dtype=torch.uint8)
    q, c, m, _ = a.segment(img)
    _, wa, fa = a.propagate(img, img2, q, c, m)
    _, wb, fb = b.propagate(img, img2, q, c, m)
    assert fa.abs().max() > 1e-3                     # the flow is not trivially zero
    assert torch.allclose(fa, fb, atol=1e-4) and torch.allclose(wa, wb, atol=1e-4)
