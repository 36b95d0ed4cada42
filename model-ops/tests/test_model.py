import itertools

import numpy as np
import torch

from mpvss_ref import model as M
from mpvss_ref.losses import linear_sum_assignment, semantic_ce, set_criterion


def test_tiny_shapes():
    cfg = M.preset("tiny")
    m = M.Mpvss(cfg).eval()
    B, H, W, N = 2, cfg.height, cfg.width, cfg.num_queries
    img = torch.randint(0, 256, (B, H, W, 3), dtype=torch.uint8)
    with torch.no_grad():
        q, c, mk, sem = m.segment(img)
        assert q.shape == (B, N, cfg.hidden_dim)
        assert c.shape == (B, N, cfg.num_classes + 1)
        assert mk.shape == (B, N, H // 4, W // 4)
        assert sem.shape == (B, H, W) and sem.dtype == torch.uint8
        s2, w, f = m.propagate(img, img, q, c, mk)
        assert s2.shape == (B, H, W) and w.shape == mk.shape and f.shape == (B, N, 2, H // 8, W // 8)
        # any number of queries works in the propagator
        s3, w3, f3 = m.propagate(img, img, q[:, :3], c[:, :3], mk[:, :3])
        assert w3.shape == (B, 3, H // 4, W // 4) and f3.shape == (B, 3, 2, H // 8, W // 8)


def test_paper_flow_module_is_about_40m_params():
    flow = M.FlowModule(M.preset("paper"))
    n = M.count_params(flow)
    assert abs(n - 40e6) <= 4e6, n
    cfg = M.preset("paper")
    assert cfg.num_queries == 100 and cfg.hidden_dim == 256 and cfg.flow_layers == 9


def test_backward_warp_zero_and_integer_shift():
    src = torch.arange(6 * 8, dtype=torch.float32).reshape(1, 1, 6, 8)
    zero = torch.zeros(1, 2, 6, 8)
    assert torch.allclose(M.backward_warp(src, zero), src, atol=1e-4)
    flow = torch.zeros(1, 2, 6, 8)
    flow[:, 0] = 1.0  # out(p) = src(p + (1, 0))
    out = M.backward_warp(src, flow)
    assert torch.allclose(out[..., :-1], src[..., 1:], atol=1e-4)
    assert torch.allclose(out[..., -1], src[..., -1], atol=1e-4)  # border padding


def test_warp_masks_uses_each_querys_own_flow():
    mk = torch.randn(1, 2, 8, 16)
    flow = torch.zeros(1, 2, 2, 4, 8)
    flow[0, 1, 0] = 0.5  # H/8 pixels -> 1 pixel at H/4 for query 1 only
    w = M.warp_masks(mk, flow)
    assert torch.allclose(w[0, 0], mk[0, 0], atol=1e-5)
    assert torch.allclose(w[0, 1, :, :-1], mk[0, 1, :, 1:], atol=1e-5)


def test_semantic_inference_matches_definition():
    torch.manual_seed(0)
    cls = torch.randn(1, 4, 4)  # 3 classes + no-object
    masks = torch.randn(1, 4, 2, 2)
    sem = M.semantic_inference(cls, masks, (2, 2))
    probs = cls.softmax(-1)[0, :, :3]
    scores = torch.einsum("qc,qhw->chw", probs, masks[0].sigmoid())
    assert torch.equal(sem[0], scores.argmax(0).to(torch.uint8))


def test_hungarian_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        c = rng.random((n, m))
        r, k = linear_sum_assignment(c)
        if n <= m:
            best = min(sum(c[i, p[i]] for i in range(n)) for p in itertools.permutations(range(m), n))
        else:
            best = min(sum(c[p[j], j] for j in range(m)) for p in itertools.permutations(range(n), m))
        assert len(r) == min(n, m) and abs(c[r, k].sum() - best) < 1e-9


def test_losses_backprop():
    cfg = M.preset("tiny")
    m = M.Mpvss(cfg)
    x = M.normalize_image(torch.randint(0, 256, (2, 128, 256, 3), dtype=torch.uint8))
    lab = torch.randint(0, cfg.num_classes, (2, 128, 256))
    _, cls, masks, preds = m.segmentor(x, aux=True)
    assert len(preds) == cfg.dec_layers + 1
    loss = set_criterion(cls, masks, lab[:, 2::4, 2::4], cfg.num_classes) + semantic_ce(cls, masks, lab)
    loss.backward()
    assert torch.isfinite(loss)


def test_config_roundtrip():
    cfg = M.preset("bundle")
    assert M.MpvssConfig.from_dict(cfg.to_dict()) == cfg


def test_config_validation_names_the_field():
    """A bad config is a ValueError naming the field, not an assert (which python -O removes)."""
    import pytest
    from mpvss_ref.model import preset
    with pytest.raises(ValueError, match="multiples of 128"):
        preset("tiny", height=100)
    with pytest.raises(ValueError, match="divisible by heads"):
        preset("tiny", hidden_dim=30, heads=4)


def test_exporter_reads_the_contract_declaration():
    """The exporter's tensor names and shapes come from model-ops/contract/mpvss-1.json, the file the Java job
    packs as its contract: a tensor renamed there is renamed for both."""
    import json
    from mpvss_ref import contract, export
    from mpvss_ref.model import preset
    with open(contract.CONTRACT_FILE) as f:
        spec = json.load(f)
    assert export.CONTRACT == spec["contract"] == "mpvss/1"
    assert export.SEG_OUT == [t["name"] for t in spec["graphs"]["segmentor"]["outputs"]]
    assert export.PROP_IN == [t["name"] for t in spec["graphs"]["propagator"]["inputs"]]
    cfg = preset("tiny")
    shapes = export.contract_shapes(cfg)
    assert shapes["segmentor"]["mask_logits"] == ("float32", ["batch", cfg.num_queries, cfg.height // 4, cfg.width // 4])
    assert shapes["propagator"]["flow"] == ("float32", ["batch", "queries", 2, cfg.height // 8, cfg.width // 8])
    assert shapes["propagator"]["key_class_logits"][1][2] == cfg.num_classes + 1
