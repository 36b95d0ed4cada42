"""Dataset helpers: cached synthetic splits and the on-disk clip folder layout.

Folder layout (written by scripts/synth.py, read by the Java eval tool):

    <root>/<clip-id>/frames/000000.jpg|png   RGB, one file per frame
    <root>/<clip-id>/labels/000000.png       8-bit single channel, pixel = class id, 255 = ignore

File names are the zero-padded frame index; sorted order is time order.
"""
from __future__ import annotations

import json
import os
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np
from PIL import Image

from . import synth

DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "clips")


def clip_id(split: str, seed: int) -> str:
    return f"{split}-{seed}"


def cached_clip(seed: int, height: int, width: int, frames: int, cache_dir: Optional[str] = DEFAULT_CACHE,
                with_flow: bool = False) -> synth.Clip:
    """Render a clip or load it from the .npz cache (images, labels; flow only when asked)."""
    path = None
    if cache_dir:
        os.makedirs(cache_dir, exist_ok=True)
        path = os.path.join(cache_dir, f"{seed}_{height}x{width}_{frames}.npz")
        if os.path.exists(path):
            z = np.load(path)
            if not with_flow or "flow" in z.files:
                flow = z["flow"] if "flow" in z.files else np.zeros((0, height, width, 2), np.float32)
                return synth.Clip(seed, z["images"], z["labels"], flow)
    clip = synth.render_clip(seed, height, width, frames, with_flow=with_flow)
    if path:
        tmp = path + ".tmp.npz"
        if with_flow:
            np.savez(tmp, images=clip.images, labels=clip.labels, flow=clip.flow.astype(np.float16))
        else:
            np.savez(tmp, images=clip.images, labels=clip.labels)
        os.replace(tmp, path)
    return clip


def write_clip(clip: synth.Clip, out_dir: str, fmt: str = "png", quality: int = 90, start: int = 0,
               count: Optional[int] = None) -> None:
    fdir, ldir = os.path.join(out_dir, "frames"), os.path.join(out_dir, "labels")
    os.makedirs(fdir, exist_ok=True)
    os.makedirs(ldir, exist_ok=True)
    end = len(clip.images) if count is None else min(len(clip.images), start + count)
    for i, t in enumerate(range(start, end)):
        name = f"{i:06d}"
        im = Image.fromarray(clip.images[t])
        if fmt == "jpg":
            im.save(os.path.join(fdir, name + ".jpg"), quality=quality)
        else:
            im.save(os.path.join(fdir, name + ".png"))
        Image.fromarray(clip.labels[t]).save(os.path.join(ldir, name + ".png"))


def read_clip_dir(clip_dir: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Read one clip folder back: images [T,H,W,3] uint8 and labels [T,H,W] uint8 (or None)."""
    fdir, ldir = os.path.join(clip_dir, "frames"), os.path.join(clip_dir, "labels")
    names = sorted(f for f in os.listdir(fdir) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    images = np.stack([np.asarray(Image.open(os.path.join(fdir, n)).convert("RGB")) for n in names])
    labels = None
    if os.path.isdir(ldir):
        lnames = sorted(f for f in os.listdir(ldir) if f.endswith(".png"))
        labels = np.stack([np.asarray(Image.open(os.path.join(ldir, n))) for n in lnames])
    return images, labels


def classes_json() -> List[Dict]:
    return [{"id": i, "name": n, "color": list(c)} for i, (n, c) in enumerate(synth.CLASSES)]
