"""Helpers of the training and analysis scripts."""
import os

import torch

from mpvss_ref.model import Mpvss, preset
from mpvss_scripts import key_distance, train




def test_flow_stage_loads_segmentor_into_a_differently_configured_flow_module():
    """--stage flow with --override motion_dim=... must start from stage 1's segmentor (this once failed with a
    size mismatch in flow.query_mlp, because the whole model state was loaded)."""
    torch.manual_seed(1)
    stage1 = Mpvss(preset("tiny"))
    torch.manual_seed(2)
    model = Mpvss(preset("tiny", motion_dim=8))
    flow_before = {k: v.clone() for k, v in model.flow.state_dict().items()}
    train.load_segmentor(model, stage1.state_dict())
    for k, v in stage1.segmentor.state_dict().items():
        assert torch.equal(model.segmentor.state_dict()[k], v), k
    for k, v in model.flow.state_dict().items():
        assert torch.equal(v, flow_before[k]), k


def test_key_distance_untrained_equals_zero_flow_and_bundle_beats_it():
    """The flow heads start at zero, so before stage 2 MPVSS equals the copy-the-key baseline at every distance;
    the bundled (trained) model beats that baseline at distances 1..3 of a held-out clip."""
    from conftest import BUNDLE
    from mpvss_ref import synth
    from mpvss_ref.model import load_checkpoint
    kd = key_distance
    torch.manual_seed(0)
    tiny = Mpvss(preset("tiny")).eval()
    clip = synth.render_clip(300000, tiny.cfg.height, tiny.cfg.width, 6, with_flow=False)
    res = kd.by_distance(tiny, [(clip.images, clip.labels)], keys=[0], max_d=4)
    assert len(res["mpvss"]) == 5 and res["mpvss"] == res["zero"]
    model, _ = load_checkpoint(os.path.join(BUNDLE, "checkpoint.pt"))
    clip = synth.render_clip(300001, model.cfg.height, model.cfg.width, 4, with_flow=False)
    res = kd.by_distance(model, [(clip.images, clip.labels)], keys=[0], max_d=3)
    assert res["mpvss"][0] == res["zero"][0]
    assert all(m > z for m, z in zip(res["mpvss"][1:], res["zero"][1:])), res
