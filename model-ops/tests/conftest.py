import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import torch

torch.set_num_threads(2)
BUNDLE = os.path.join(ROOT, "bundle")
DEMO = os.path.join(ROOT, "demo-clips")


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory):
    """A freshly built tiny random-init model, exported with parity vectors."""
    from mpvss_ref import export as E
    from mpvss_ref.model import Mpvss, preset
    out = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    model = Mpvss(preset("tiny")).eval()
    with torch.no_grad():
        for lin in (model.flow.pixel_flow, model.flow.query_mlp.layers[-1]):
            lin.weight.normal_(0, 0.05)
    paths = E.export_graphs(model, str(out))
    return model, str(out), paths
