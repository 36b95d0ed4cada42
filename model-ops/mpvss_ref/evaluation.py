"""Streaming evaluation of MPVSS in PyTorch: key frame every K frames, propagation in between."""
from __future__ import annotations

from typing import Dict, Iterable, List, Sequence

import numpy as np
import torch

from .metrics import confusion, miou
from .model import Mpvss


def _dev(model):
    return next(model.parameters()).device


@torch.no_grad()
def segment_all(model: Mpvss, images: np.ndarray, batch: int = 8):
    """Segmentor outputs for every frame of a clip: list of (q, cls, masks, sem) tensors, batched."""
    outs = [[], [], [], []]
    for i in range(0, len(images), batch):
        o = model.segment(torch.from_numpy(np.ascontiguousarray(images[i:i + batch])).to(_dev(model)))
        for j in range(4):
            outs[j].append(o[j])
    return [torch.cat(o) for o in outs]


@torch.no_grad()
def predict_clip(model: Mpvss, images: np.ndarray, K: int, zero_flow: bool = False, seg=None, batch: int = 8) -> np.ndarray:
    """Semantic maps [T,H,W] for a clip with key interval K (keys at 0, K, 2K, ...; flow always key -> current)."""
    T = len(images)
    keys = list(range(0, T, K))
    if seg is None:
        sel = np.asarray(keys)
        q, c, m, s = segment_all(model, images[sel], batch)
        key_out = {k: i for i, k in enumerate(keys)}
    else:
        q, c, m, s = seg
        key_out = {k: k for k in keys}
    pred = np.zeros(images.shape[:3], np.uint8)
    non_key = [t for t in range(T) if t % K != 0]
    for k in keys:
        pred[k] = s[key_out[k]].cpu().numpy()
    for i in range(0, len(non_key), batch):
        ts = non_key[i:i + batch]
        ks = [t - t % K for t in ts]
        ki = [key_out[k] for k in ks]
        sem, _, _ = model.propagate(torch.from_numpy(images[ks]).to(_dev(model)), torch.from_numpy(images[ts]).to(_dev(model)),
                                    q[ki], c[ki], m[ki], zero_flow=zero_flow)
        pred[ts] = sem.cpu().numpy()
    return pred


def evaluate_clips(model: Mpvss, clips: Iterable, Ks: Sequence[int], num_classes: int, frames: int = None,
                   progress=None) -> Dict[str, Dict[int, float]]:
    """mIoU (dataset-level confusion) for MPVSS and zero flow at each K. `clips` yields (images, labels)."""
    conf = {(mode, K): np.zeros((num_classes, num_classes), np.int64) for mode in ("mpvss", "zero") for K in Ks}
    for images, labels in clips:
        if frames:
            images, labels = images[:frames], labels[:frames]
        seg = segment_all(model, images)
        for K in Ks:
            for mode in ("mpvss", "zero"):
                if K == 1 and mode == "zero":
                    continue  # K=1 has no propagated frames: identical to mpvss
                pred = predict_clip(model, images, K, zero_flow=(mode == "zero"), seg=seg)
                conf[(mode, K)] += confusion(pred, labels, num_classes)
        if progress is not None:
            progress.update(1)
    if 1 in Ks:
        conf[("zero", 1)] = conf[("mpvss", 1)].copy()
    res = {mode: {K: miou(conf[(mode, K)]) for K in Ks} for mode in ("mpvss", "zero")}
    res["confusion"] = {f"{mode}_k{K}": conf[(mode, K)].tolist() for mode in ("mpvss", "zero") for K in Ks}
    return res
