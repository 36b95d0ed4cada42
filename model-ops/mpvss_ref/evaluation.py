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
    conf = _new_conf(Ks, num_classes)
    for images, labels in clips:
        if frames:
            images, labels = images[:frames], labels[:frames]
        dense_confusions(model, images, labels, Ks, num_classes, conf)
        if progress is not None:
            progress.update(1)
    return _results(conf, Ks)


def _new_conf(Ks, num_classes):
    return {(mode, K): np.zeros((num_classes, num_classes), np.int64) for mode in ("mpvss", "zero") for K in Ks}


def _results(conf, Ks):
    if 1 in Ks:
        conf[("zero", 1)] = conf[("mpvss", 1)].copy()
    res = {mode: {K: miou(conf[(mode, K)]) for K in Ks} for mode in ("mpvss", "zero")}
    res["confusion"] = {f"{mode}_k{K}": conf[(mode, K)].tolist() for mode in ("mpvss", "zero") for K in Ks}
    return res


def dense_confusions(model: Mpvss, images: np.ndarray, labels: np.ndarray, Ks: Sequence[int], num_classes: int, conf):
    """A clip as a stream: keys at 0, K, 2K, ...; every frame scored against `labels` (255 = ignore)."""
    seg = segment_all(model, images)
    for K in Ks:
        for mode in ("mpvss", "zero"):
            if K == 1 and mode == "zero":
                continue  # K=1 has no propagated frames: identical to mpvss
            pred = predict_clip(model, images, K, zero_flow=(mode == "zero"), seg=seg)
            conf[(mode, K)] += confusion(pred, labels, num_classes)


@torch.no_grad()
def sparse_confusions(model: Mpvss, image, label, labelled: Sequence[int], Ks: Sequence[int], num_classes: int, conf):
    """Sparse labels (e.g. Cityscapes: one labelled frame per snippet). A stream with key interval K meets a
    labelled frame t at every distance d = 0..K-1 from its key frame, depending on its phase; all phases are
    scored (key t-d propagated to t; d limited by the frames before t): the average over phases.
    image(t) -> uint8 [H,W,3], label(t) -> uint8 [H,W]."""
    dev = _dev(model)
    seg_cache, img_cache = {}, {}

    def img(k):
        if k not in img_cache:
            img_cache[k] = torch.from_numpy(np.ascontiguousarray(image(k))[None]).to(dev)
        return img_cache[k]

    def seg(k):
        if k not in seg_cache:
            seg_cache[k] = model.segment(img(k))
        return seg_cache[k]

    for t in labelled:
        gt = label(t)[None]
        for K in Ks:
            for d in range(0, min(K - 1, t) + 1):
                q, c, m, key_sem = seg(t - d)
                for mode in ("mpvss", "zero"):
                    if K == 1 and mode == "zero":
                        continue
                    sem = key_sem
                    if d > 0:
                        sem, _, _ = model.propagate(img(t - d), img(t), q, c, m, zero_flow=(mode == "zero"))
                    conf[(mode, K)] += confusion(sem.cpu().numpy(), gt, num_classes)


def evaluate_dataset(model: Mpvss, ds, Ks: Sequence[int], frames: int = None, progress=None) -> Dict:
    """mIoU over a datasets.VideoDataset: fully labelled clips as streams (dense_confusions; their first `frames`
    frames when given), sparsely labelled clips by key distance (sparse_confusions)."""
    conf = _new_conf(Ks, ds.num_classes)
    for c in range(len(ds)):
        lab = ds.labelled(c)
        if len(lab) == ds.clip_length(c):
            images, labels, _ = ds.clip_arrays(c, frames)
            dense_confusions(model, images, labels, Ks, ds.num_classes, conf)
        elif lab:
            sparse_confusions(model, lambda t: ds.image(c, t), lambda t: ds.label(c, t), lab, Ks, ds.num_classes, conf)
        if progress is not None:
            progress.update(1)
    return _results(conf, Ks)
