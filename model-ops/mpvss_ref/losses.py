"""Training losses: Mask2Former set criterion (Hungarian matching) and per-pixel semantic CE."""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .model import semantic_scores


def linear_sum_assignment(cost: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Minimum-cost assignment (Hungarian, O(n^2 m)) for an [n, m] cost matrix.

    Returns (rows, cols) like scipy.optimize.linear_sum_assignment (scipy is not available here).
    """
    cost = np.asarray(cost, dtype=np.float64)
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    n, m = cost.shape
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            cur = cost[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            upd = free & (cur < minv[1:])
            minv[1:][upd] = cur[upd]
            way[1:][upd] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            used_idx = np.nonzero(used)[0]
            u[p[used_idx]] += delta
            v[used_idx] -= delta
            minv[~used] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    rows, cols = [], []
    for j in range(1, m + 1):
        if p[j] != 0:
            rows.append(p[j] - 1)
            cols.append(j - 1)
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order], cols[order]


def _pair_costs(logits: torch.Tensor, targets: torch.Tensor):
    """logits [N,P], targets [G,P] float -> (bce [N,G], dice [N,G])."""
    P = logits.shape[1]
    pos = F.softplus(-logits)
    neg = F.softplus(logits)
    bce = (pos @ targets.T + neg @ (1 - targets).T) / P
    s = logits.sigmoid()
    dice = 1 - (2 * s @ targets.T + 1) / (s.sum(1)[:, None] + targets.sum(1)[None, :] + 1)
    return bce, dice


def set_criterion(cls: torch.Tensor, masks: torch.Tensor, labels4: torch.Tensor, num_classes: int,
                  w_cls: float = 2.0, w_bce: float = 5.0, w_dice: float = 5.0, eos: float = 0.1) -> torch.Tensor:
    """Mask2Former loss for semantic segmentation (one GT segment per class present).

    cls [B,N,K+1], masks [B,N,h,w] logits, labels4 [B,h,w] long (255 = ignore)."""
    B, N = cls.shape[:2]
    weight = torch.ones(num_classes + 1, device=cls.device)
    weight[-1] = eos
    total = cls.new_zeros(())
    for b in range(B):
        lab = labels4[b].flatten()
        valid = lab != 255
        present = torch.unique(lab[valid])
        tgt_cls = torch.full((N,), num_classes, dtype=torch.long, device=cls.device)
        if len(present):
            tmask = (lab[valid][None, :] == present[:, None]).float()  # [G,P]
            logit = masks[b].flatten(1)[:, valid]                     # [N,P]
            with torch.no_grad():
                prob = cls[b].softmax(-1)
                bce, dice = _pair_costs(logit.float(), tmask)
                c = w_cls * -prob[:, present] + w_bce * bce + w_dice * dice
                qi, gi = linear_sum_assignment(c.cpu().numpy())
            qi = torch.as_tensor(qi, device=cls.device)
            gi = torch.as_tensor(gi, device=cls.device)
            tgt_cls[qi] = present[gi]
            ml, mt = logit[qi], tmask[gi]
            l_bce = F.binary_cross_entropy_with_logits(ml, mt)
            s = ml.sigmoid()
            l_dice = (1 - (2 * (s * mt).sum(1) + 1) / (s.sum(1) + mt.sum(1) + 1)).mean()
            total = total + w_bce * l_bce + w_dice * l_dice
        total = total + w_cls * F.cross_entropy(cls[b], tgt_cls, weight=weight)
    return total / B


def semantic_ce(cls: torch.Tensor, masks: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per-pixel CE on the normalised Mask2Former semantic scores at the labels' resolution."""
    scores = semantic_scores(cls, masks, size=tuple(labels.shape[-2:]))
    p = scores / scores.sum(1, keepdim=True).clamp_min(1e-6)
    return F.nll_loss(p.clamp_min(1e-6).log(), labels, ignore_index=255)


def labels_at_stride4(labels: torch.Tensor) -> torch.Tensor:
    """Nearest label at the centre of every 4x4 cell: [B,H,W] -> [B,H/4,W/4]."""
    return labels[:, 2::4, 2::4]
