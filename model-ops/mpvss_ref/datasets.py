"""One video data set abstraction for training, evaluation and export: `synth | folder | cityscapes | vspw`.

A data set is a list of clips; a clip is a time-ordered list of frames of which any subset is labelled (sparse
labels: Cityscapes labels one frame of each 30-frame snippet). Every frame is read at the model's input size the way
the Flink job resizes camera frames (bilinear, half-pixel centres, no antialiasing); labels are resized by nearest
neighbour and mapped to train ids 0..K-1, 255 = ignore.

Layouts (`open_dataset(kind, root, split, size)`):

folder (the project's own; what scripts/synth.py and the demo clips use, and what the Java eval tool reads)
    <root>/classes.json                      [{"id": 0, "name": "road", "color": [128, 64, 128]}, ...]
                                             (or {"classes": [...]}; a split.json / clips.json with a "classes"
                                             key, as synth.py and make_demo_clips.py write, is accepted too)
    <root>/[<split>/]<clip>/frames/<stem>.jpg|jpeg|png   RGB frames, time order = file-name order
    <root>/[<split>/]<clip>/labels/<stem>.png            optional per frame: 8-bit, pixel = class id, 255 = ignore
    With a <root>/<split>/ folder the split's clips are there; without one, every clip under <root> is used for
    any split (and the data set says so in `note`).
cityscapes (video)
    <root>/leftImg8bit_sequence/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png  (preferred when present)
                                                  or ..._gtFine_labelIds.png   (mapped with the official table)
    One clip per labelled frame F: the sequence frames F-19..F+10 that exist (the labelled frame is index 19 of a
    complete snippet). Without leftImg8bit_sequence/, <root>/leftImg8bit/<split>/... gives one-frame clips
    (enough for the segmentor stage, not for the flow stage).
vspw
    <root>/<split>.txt                       video names, one per line (train.txt, val.txt, test.txt)
    <root>/data/<video>/origin/<stem>.jpg    frames
    <root>/data/<video>/mask/<stem>.png      labels, raw 0..124 + 255 (see classdefs: 0 and 255 -> ignore)
    <root>/label_num_dic_final.json          optional: {class name: raw id}
synth
    the built-in generator (mpvss_ref.synth), rendered at the model's size and cached (data.cached_clip);
    `root` is unused, split = train | val | test.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from . import classdefs, data, synth

KINDS = ("synth", "folder", "cityscapes", "vspw")
IMAGE_EXT = (".jpg", ".jpeg", ".png")


class DatasetError(ValueError):
    """A data set that cannot be read as asked: the message names the path and what was expected."""


@dataclasses.dataclass
class ClipRef:
    id: str
    frames: List[str]                                   # image paths, time order
    labels: Dict[int, str] = dataclasses.field(default_factory=dict)   # frame index -> label path


# --------------------------------------------------------------------------- resizing like the job

def resize_image(rgb: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """uint8 [h,w,3] -> [H,W,3]: bilinear, half-pixel centres, no antialiasing (FrameDecoder.resizeBilinear)."""
    if rgb.shape[:2] == tuple(size):
        return rgb
    x = torch.from_numpy(np.array(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    y = F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)
    return y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def resize_label(lab: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """uint8 [h,w] -> [H,W] by nearest neighbour at pixel centres (labels are never interpolated)."""
    if lab.shape == tuple(size):
        return lab
    return np.asarray(Image.fromarray(lab).resize((size[1], size[0]), Image.NEAREST))


def read_rgb(path: str) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: cannot read image ({e})") from None


def read_label_png(path: str) -> np.ndarray:
    """Raw class ids of a single-channel label PNG (grayscale or palette; the stored value is the id)."""
    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "P", "I", "I;16"):
                raise DatasetError(f"{path}: label PNG has mode {im.mode}; expected a single channel of class ids "
                                   "(8-bit grayscale or palette), not a colour rendering")
            arr = np.asarray(im)
    except OSError as e:
        raise DatasetError(f"{path}: cannot read label ({e})") from None
    if arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise DatasetError(f"{path}: label values {arr.min()}..{arr.max()} do not fit 0..255")
        arr = arr.astype(np.uint8)
    return arr


# --------------------------------------------------------------------------- the abstraction

class VideoDataset:
    """Clips with sparse labels and one class list; frames and labels come back at `size` (H, W)."""

    kind = "base"

    def __init__(self, root: str, split: str, classes: List[Dict], clips: List[ClipRef], size: Tuple[int, int],
                 note: str = "", cache_frames: int = 256):
        self.root, self.split, self.size = root, split, tuple(size)
        self.classes = classes
        self.clips = clips
        self.note = note
        self._cache: "collections.OrderedDict[Tuple[int, int, str], np.ndarray]" = collections.OrderedDict()
        self._cache_max = cache_frames

    # -- sizes and indices
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __len__(self) -> int:
        return len(self.clips)

    def clip_length(self, c: int) -> int:
        return len(self.clips[c].frames)

    def labelled(self, c: int) -> List[int]:
        return sorted(self.clips[c].labels)

    def labelled_count(self) -> int:
        return sum(len(c.labels) for c in self.clips)

    def subset(self, n: Optional[int]) -> "VideoDataset":
        """The first n clips (all when n is None)."""
        if n is not None and n < len(self.clips):
            self.clips = self.clips[:n]
        return self

    # -- reading
    def _cached(self, key, fn):
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        v = fn()
        if self._cache_max > 0:
            self._cache[key] = v
            if len(self._cache) > self._cache_max:
                self._cache.popitem(last=False)
        return v

    def image(self, c: int, t: int) -> np.ndarray:
        """uint8 [H,W,3] RGB at the data set's size."""
        return self._cached((c, t, "i"), lambda: resize_image(read_rgb(self.clips[c].frames[t]), self.size))

    def label(self, c: int, t: int) -> Optional[np.ndarray]:
        """uint8 [H,W] train ids (255 = ignore) at the data set's size, or None for an unlabelled frame."""
        path = self.clips[c].labels.get(t)
        if path is None:
            return None
        return self._cached((c, t, "l"), lambda: self._load_label(path))

    def _load_label(self, path: str) -> np.ndarray:
        lab = self.convert_label(path, read_label_png(path))
        bad = (lab != classdefs.IGNORE) & (lab >= self.num_classes)
        if bad.any():
            v = int(lab[bad][0])
            raise DatasetError(f"{path}: class id {v} but the data set has {self.num_classes} classes "
                               f"(0..{self.num_classes - 1}; 255 = ignore)")
        return resize_label(lab, self.size)

    def convert_label(self, path: str, raw: np.ndarray) -> np.ndarray:
        """Raw label values -> train ids (identity for the folder layout)."""
        return raw

    def clip_arrays(self, c: int, frames: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """images [T,H,W,3], labels [T,H,W] (255 on unlabelled frames), labelled [T] bool."""
        T = self.clip_length(c) if frames is None else min(frames, self.clip_length(c))
        images = np.stack([self.image(c, t) for t in range(T)])
        labels = np.full((T,) + self.size, classdefs.IGNORE, np.uint8)
        has = np.zeros(T, bool)
        for t in self.labelled(c):
            if t < T:
                labels[t] = self.label(c, t)
                has[t] = True
        return images, labels, has

    def describe(self) -> Dict:
        return {"kind": self.kind, "root": self.root, "split": self.split, "clips": len(self.clips),
                "frames": sum(len(c.frames) for c in self.clips), "labelled_frames": self.labelled_count(),
                "size": list(self.size), "classes": len(self.classes), "note": self.note}

    def summary(self) -> str:
        d = self.describe()
        s = (f"{d['kind']} {d['root'] or ''} split {d['split']}: {d['clips']} clips, {d['frames']} frames, "
             f"{d['labelled_frames']} labelled, {d['classes']} classes, read at {self.size[0]}x{self.size[1]}")
        return s + (f" ({self.note})" if self.note else "")


class SynthDataset(VideoDataset):
    """The built-in generator's clips (rendered at the model's size; every frame labelled)."""

    kind = "synth"

    def __init__(self, split: str, size: Tuple[int, int], clips: int, frames: int = 40,
                 cache_dir: Optional[str] = data.DEFAULT_CACHE, first: int = 0):
        if split not in synth.SPLIT_SEEDS:
            raise DatasetError(f"synth: unknown split {split!r} (one of {', '.join(sorted(synth.SPLIT_SEEDS))})")
        self.seeds = synth.split_seeds(split, clips, first)
        self.frames, self.cache_dir = frames, cache_dir
        refs = [ClipRef(data.clip_id(split, s), [""] * frames, {t: "" for t in range(frames)}) for s in self.seeds]
        super().__init__("", split, data.classes_json(), refs, size, cache_frames=0)
        self._clips: Dict[int, synth.Clip] = {}

    def clip(self, c: int) -> synth.Clip:
        if c not in self._clips:
            self._clips[c] = data.cached_clip(self.seeds[c], self.size[0], self.size[1], self.frames, self.cache_dir)
        return self._clips[c]

    def image(self, c, t):
        return self.clip(c).images[t]

    def label(self, c, t):
        return self.clip(c).labels[t]

    def clip_arrays(self, c, frames=None):
        cl = self.clip(c)
        T = len(cl.images) if frames is None else min(frames, len(cl.images))
        return cl.images[:T], cl.labels[:T], np.ones(T, bool)

    def subset(self, n):
        if n is not None and n < len(self.clips):
            self.clips, self.seeds = self.clips[:n], self.seeds[:n]
        return self


# --------------------------------------------------------------------------- folder layout

def _list_files(d: str, exts) -> List[str]:
    return sorted(f for f in os.listdir(d) if f.lower().endswith(exts) and os.path.isfile(os.path.join(d, f)))


def read_folder_clip(clip_dir: str) -> ClipRef:
    fdir, ldir = os.path.join(clip_dir, "frames"), os.path.join(clip_dir, "labels")
    frames = _list_files(fdir, IMAGE_EXT)
    if not frames:
        raise DatasetError(f"{fdir}: no frames (expected *.jpg|*.jpeg|*.png)")
    stems = {os.path.splitext(f)[0]: i for i, f in enumerate(frames)}
    if len(stems) != len(frames):
        raise DatasetError(f"{fdir}: two frames share a file stem (e.g. 000001.jpg and 000001.png)")
    labels = {}
    if os.path.isdir(ldir):
        for f in _list_files(ldir, (".png",)):
            stem = os.path.splitext(f)[0]
            if stem not in stems:
                raise DatasetError(f"{os.path.join(ldir, f)}: label without a frame of the same stem in {fdir}")
            labels[stems[stem]] = os.path.join(ldir, f)
    return ClipRef(os.path.basename(os.path.normpath(clip_dir)), [os.path.join(fdir, f) for f in frames], labels)


def _validated(classes, where: str) -> List[Dict]:
    try:
        return classdefs.validate_classes(classes, where)
    except ValueError as e:
        raise DatasetError(str(e)) from None


def load_folder_classes(root: str) -> List[Dict]:
    for name in ("classes.json", "split.json", "clips.json"):
        p = os.path.join(root, name)
        if os.path.isfile(p):
            try:
                with open(p) as f:
                    doc = json.load(f)
            except ValueError as e:
                raise DatasetError(f"{p}: not valid JSON ({e})") from None
            if name == "classes.json" and isinstance(doc, list):
                return _validated(doc, p)
            if isinstance(doc, dict) and "classes" in doc:
                return _validated(doc["classes"], f"{p} (key 'classes')")
            if name == "classes.json":
                raise DatasetError(f"{p}: expected a list of classes or an object with a 'classes' list")
    raise DatasetError(f"{root}: no classes.json (a list of {{\"id\", \"name\", \"color\"}}, ids 0..K-1)")


def _clip_dirs(d: str) -> List[str]:
    return sorted(os.path.join(d, n) for n in os.listdir(d) if os.path.isdir(os.path.join(d, n, "frames")))


class FolderDataset(VideoDataset):
    kind = "folder"

    @classmethod
    def open(cls, root: str, split: str, size, **kw) -> "FolderDataset":
        _need_dir(root, "folder data set root")
        classes = load_folder_classes(root)
        sub = os.path.join(root, split)
        if os.path.isdir(sub) and _clip_dirs(sub):
            dirs, note = _clip_dirs(sub), ""
        else:
            dirs = _clip_dirs(root)
            note = f"no {split}/ folder with clips: all clips under the root are used as split {split!r}"
        if not dirs:
            raise DatasetError(f"{root}: no clips (expected <root>/[<split>/]<clip>/frames/*.jpg|png)")
        return cls(root, split, classes, [read_folder_clip(d) for d in dirs], size, note=note, **kw)


# --------------------------------------------------------------------------- Cityscapes (video)

CS_FRAME = re.compile(r"^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)_leftImg8bit\.png$")
CS_LABEL = re.compile(r"^(?P<city>.+)_(?P<seq>\d+)_(?P<frame>\d+)_gtFine_(?P<kind>labelTrainIds|labelIds)\.png$")
CS_BEFORE, CS_AFTER = 19, 10    # the labelled frame is the 20th of a 30-frame snippet


def _need_dir(path: str, what: str) -> str:
    if not os.path.isdir(path):
        raise DatasetError(f"{path}: {what} not found")
    return path


def _cityscapes_labels(gt_dir: str) -> Dict[Tuple[str, str, int], str]:
    """(city, seq, frame) -> label path, labelTrainIds preferred over labelIds."""
    out: Dict[Tuple[str, str, int], str] = {}
    for city in sorted(os.listdir(gt_dir)):
        cdir = os.path.join(gt_dir, city)
        if not os.path.isdir(cdir):
            continue
        for f in sorted(os.listdir(cdir)):
            m = CS_LABEL.match(f)
            if not m:
                continue
            key = (m["city"], m["seq"], int(m["frame"]))
            if m["kind"] == "labelTrainIds" or key not in out:
                out[key] = os.path.join(cdir, f)
    return out


def _cityscapes_frames(img_dir: str) -> Dict[Tuple[str, str], Dict[int, str]]:
    """(city, seq) -> {frame number: path}."""
    out: Dict[Tuple[str, str], Dict[int, str]] = collections.defaultdict(dict)
    for city in sorted(os.listdir(img_dir)):
        cdir = os.path.join(img_dir, city)
        if not os.path.isdir(cdir):
            continue
        for f in os.listdir(cdir):
            m = CS_FRAME.match(f)
            if m:
                out[(m["city"], m["seq"])][int(m["frame"])] = os.path.join(cdir, f)
    return out


def cityscapes_clips(root: str, split: str) -> Tuple[List[ClipRef], str]:
    gt_dir = _need_dir(os.path.join(root, "gtFine", split), "Cityscapes labels (gtFine/<split>)")
    labels = _cityscapes_labels(gt_dir)
    if not labels:
        raise DatasetError(f"{gt_dir}: no *_gtFine_labelIds.png or *_gtFine_labelTrainIds.png files")
    seq_dir = os.path.join(root, "leftImg8bit_sequence", split)
    note = ""
    if os.path.isdir(seq_dir):
        frames = _cityscapes_frames(seq_dir)
        before, after = CS_BEFORE, CS_AFTER
    else:
        img_dir = _need_dir(os.path.join(root, "leftImg8bit", split),
                            "Cityscapes frames (leftImg8bit_sequence/<split> or leftImg8bit/<split>)")
        frames = _cityscapes_frames(img_dir)
        before = after = 0
        note = "no leftImg8bit_sequence/: one-frame clips from leftImg8bit/ (segmentor stage only)"
    clips = []
    for (city, seq, fr), lpath in sorted(labels.items()):
        seqf = frames.get((city, seq), {})
        if fr not in seqf:
            raise DatasetError(f"{lpath}: no frame {city}_{seq}_{fr:06d}_leftImg8bit.png under "
                               f"{seq_dir if before else os.path.join(root, 'leftImg8bit', split)}/{city}")
        ts = [n for n in range(fr - before, fr + after + 1) if n in seqf]
        clips.append(ClipRef(f"{city}_{seq}_{fr:06d}", [seqf[n] for n in ts], {ts.index(fr): lpath}))
    return clips, note


class CityscapesDataset(VideoDataset):
    kind = "cityscapes"

    @classmethod
    def open(cls, root: str, split: str, size, **kw) -> "CityscapesDataset":
        _need_dir(root, "Cityscapes root")
        clips, note = cityscapes_clips(root, split)
        return cls(root, split, classdefs.cityscapes_classes(), clips, size, note=note, **kw)

    _LUT = classdefs.cityscapes_label_lut()

    def convert_label(self, path, raw):
        if path.endswith("_gtFine_labelTrainIds.png"):
            return np.where(raw < self.num_classes, raw, classdefs.IGNORE).astype(np.uint8)
        return self._LUT[raw]


# --------------------------------------------------------------------------- VSPW

def vspw_names(root: str) -> Dict[int, str]:
    p = os.path.join(root, "label_num_dic_final.json")
    if not os.path.isfile(p):
        return {}
    try:
        with open(p) as f:
            doc = json.load(f)
        return {int(v): str(k) for k, v in doc.items()}
    except (ValueError, AttributeError, TypeError) as e:
        raise DatasetError(f"{p}: expected {{class name: raw id}} ({e})") from None


def vspw_clips(root: str, split: str) -> List[ClipRef]:
    lst = os.path.join(root, f"{split}.txt")
    if not os.path.isfile(lst):
        raise DatasetError(f"{lst}: VSPW split list not found (one video name per line)")
    with open(lst) as f:
        videos = [ln.strip() for ln in f if ln.strip()]
    if not videos:
        raise DatasetError(f"{lst}: no videos listed")
    clips = []
    for v in videos:
        odir = os.path.join(root, "data", v, "origin")
        if not os.path.isdir(odir):
            raise DatasetError(f"{odir}: frames of video {v!r} (listed in {lst}) not found")
        frames = _list_files(odir, IMAGE_EXT)
        if not frames:
            raise DatasetError(f"{odir}: no frames")
        mdir = os.path.join(root, "data", v, "mask")
        labels = {}
        if os.path.isdir(mdir):
            masks = {os.path.splitext(f)[0]: f for f in _list_files(mdir, (".png",))}
            for i, f in enumerate(frames):
                m = masks.get(os.path.splitext(f)[0])
                if m:
                    labels[i] = os.path.join(mdir, m)
        clips.append(ClipRef(v, [os.path.join(odir, f) for f in frames], labels))
    return clips


def _first_palette(clips: Sequence[ClipRef]) -> Optional[List[int]]:
    for c in clips:
        for p in c.labels.values():
            with Image.open(p) as im:
                return im.getpalette() if im.mode == "P" else None
    return None


class VspwDataset(VideoDataset):
    kind = "vspw"

    @classmethod
    def open(cls, root: str, split: str, size, **kw) -> "VspwDataset":
        _need_dir(root, "VSPW root")
        clips = vspw_clips(root, split)
        classes, source = classdefs.vspw_classes(vspw_names(root), _first_palette(clips))
        ds = cls(root, split, classes, clips, size, note=f"class names: {source['names']}; colours: {source['colors']}", **kw)
        ds.class_source = source
        return ds

    _LUT = classdefs.vspw_label_lut()

    def convert_label(self, path, raw):
        return self._LUT[raw]


# --------------------------------------------------------------------------- entry point

def open_dataset(kind: str, root: Optional[str], split: str, size: Tuple[int, int], clips: Optional[int] = None,
                 frames: int = 40, cache_dir: Optional[str] = data.DEFAULT_CACHE, synth_clips: int = 48,
                 cache_frames: int = 256) -> VideoDataset:
    """The data set `kind` at `root`, split `split`, read at `size` (H, W); the first `clips` clips only if given.

    synth renders `clips` (default synth_clips) clips of `frames` frames; the others read files."""
    if kind == "synth":
        return SynthDataset(split, size, clips if clips is not None else synth_clips, frames, cache_dir)
    if kind not in KINDS:
        raise DatasetError(f"unknown data set kind {kind!r} (one of {', '.join(KINDS)})")
    if not root:
        raise DatasetError(f"--dataset {kind} needs --data-root DIR")
    opener = {"folder": FolderDataset, "cityscapes": CityscapesDataset, "vspw": VspwDataset}[kind]
    ds = opener.open(os.path.abspath(root), split, size, cache_frames=cache_frames)
    return ds.subset(clips)


def dataset_classes(kind: str, root: Optional[str], split: str = "train") -> List[Dict]:
    """Only the class list of a data set (for export): no frames are read."""
    if kind == "synth":
        return data.classes_json()
    if kind == "cityscapes":
        return classdefs.cityscapes_classes()
    if not root:
        raise DatasetError(f"--dataset {kind} needs --data-root DIR")
    if kind == "folder":
        _need_dir(root, "folder data set root")
        return load_folder_classes(root)
    if kind == "vspw":
        _need_dir(root, "VSPW root")
        clips = vspw_clips(root, split) if os.path.isfile(os.path.join(root, f"{split}.txt")) else []
        return classdefs.vspw_classes(vspw_names(root), _first_palette(clips))[0]
    raise DatasetError(f"unknown data set kind {kind!r} (one of {', '.join(KINDS)})")
