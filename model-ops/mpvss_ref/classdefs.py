"""Class lists of the supported data sets: names, colours and the raw-label -> train-id mappings.

Cityscapes: the official table of cityscapesScripts (`cityscapesscripts/helpers/labels.py`): every labelId with its
trainId (19 evaluated classes 0..18, everything else 255 = ignore) and its colour.

VSPW: masks hold 0..124 and 255, where 0 is "others" and 255 is "void"; VSPW's README says both are void in the
evaluation. So train id = raw id - 1 for raw 1..124 (124 classes, 0..123), and raw 0, 255 (and anything above 124)
-> 255 = ignore, the same as VSPW's recommended `mask - 1` with 0 and 255 made void. The class names are not
embedded here (this project could not check a copy of the 124 names): they are read from the data set's own
`label_num_dic_final.json` ({name: raw id}) when it is present, else `class_<raw id>`; colours come from the
palette of VSPW's mask PNGs (palette mode, index = raw id) when the masks carry one, else from `generated_palette`.
"""
from __future__ import annotations

import colorsys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

IGNORE = 255

# (name, labelId, trainId, colour) - cityscapesScripts labels.py (license plate, id -1, is not in labelIds PNGs)
CITYSCAPES_LABELS: List[Tuple[str, int, int, Tuple[int, int, int]]] = [
    ("unlabeled", 0, 255, (0, 0, 0)),
    ("ego vehicle", 1, 255, (0, 0, 0)),
    ("rectification border", 2, 255, (0, 0, 0)),
    ("out of roi", 3, 255, (0, 0, 0)),
    ("static", 4, 255, (0, 0, 0)),
    ("dynamic", 5, 255, (111, 74, 0)),
    ("ground", 6, 255, (81, 0, 81)),
    ("road", 7, 0, (128, 64, 128)),
    ("sidewalk", 8, 1, (244, 35, 232)),
    ("parking", 9, 255, (250, 170, 160)),
    ("rail track", 10, 255, (230, 150, 140)),
    ("building", 11, 2, (70, 70, 70)),
    ("wall", 12, 3, (102, 102, 156)),
    ("fence", 13, 4, (190, 153, 153)),
    ("guard rail", 14, 255, (180, 165, 180)),
    ("bridge", 15, 255, (150, 100, 100)),
    ("tunnel", 16, 255, (150, 120, 90)),
    ("pole", 17, 5, (153, 153, 153)),
    ("polegroup", 18, 255, (153, 153, 153)),
    ("traffic light", 19, 6, (250, 170, 30)),
    ("traffic sign", 20, 7, (220, 220, 0)),
    ("vegetation", 21, 8, (107, 142, 35)),
    ("terrain", 22, 9, (152, 251, 152)),
    ("sky", 23, 10, (70, 130, 180)),
    ("person", 24, 11, (220, 20, 60)),
    ("rider", 25, 12, (255, 0, 0)),
    ("car", 26, 13, (0, 0, 142)),
    ("truck", 27, 14, (0, 0, 70)),
    ("bus", 28, 15, (0, 60, 100)),
    ("caravan", 29, 255, (0, 0, 90)),
    ("trailer", 30, 255, (0, 0, 110)),
    ("train", 31, 16, (0, 80, 100)),
    ("motorcycle", 32, 17, (0, 0, 230)),
    ("bicycle", 33, 18, (119, 11, 32)),
]

VSPW_NUM_CLASSES = 124


def class_entry(i: int, name: str, color: Sequence[int]) -> Dict:
    return {"id": int(i), "name": str(name), "color": [int(c) for c in color]}


def cityscapes_classes() -> List[Dict]:
    """The 19 evaluated Cityscapes classes by trainId, with their official names and colours."""
    by_train = {t: (n, c) for n, _, t, c in CITYSCAPES_LABELS if t != IGNORE}
    return [class_entry(t, *by_train[t]) for t in range(len(by_train))]


def cityscapes_label_lut() -> np.ndarray:
    """uint8 [256] lookup table labelId -> trainId (255 for every id that is not evaluated or unknown)."""
    lut = np.full(256, IGNORE, np.uint8)
    for _, lid, tid, _ in CITYSCAPES_LABELS:
        lut[lid] = tid
    return lut


def vspw_label_lut() -> np.ndarray:
    """uint8 [256]: raw 1..124 -> 0..123; raw 0 (others), 255 (void) and 125..254 -> 255."""
    lut = np.full(256, IGNORE, np.uint8)
    lut[1:VSPW_NUM_CLASSES + 1] = np.arange(VSPW_NUM_CLASSES, dtype=np.uint8)
    return lut


def generated_palette(n: int) -> List[List[int]]:
    """n distinct-looking colours (golden-ratio hues, alternating lightness); deterministic."""
    out = []
    for i in range(n):
        h = (i * 0.618033988749895) % 1.0
        l = (0.45, 0.6, 0.35)[i % 3]
        s = (0.75, 0.55)[(i // 3) % 2]
        out.append([int(round(255 * v)) for v in colorsys.hls_to_rgb(h, l, s)])
    return out


def vspw_classes(names_by_raw_id: Optional[Dict[int, str]] = None,
                 palette: Optional[Sequence[int]] = None) -> Tuple[List[Dict], Dict[str, str]]:
    """The 124 VSPW classes (train ids 0..123 = raw ids 1..124) and where their names and colours came from.

    names_by_raw_id: from VSPW's label_num_dic_final.json (raw id -> name); missing ids get `class_<raw id>`.
    palette: a flat PIL palette [r0, g0, b0, r1, ...] indexed by raw id (from a mask PNG), or None."""
    names_by_raw_id = names_by_raw_id or {}
    gen = generated_palette(VSPW_NUM_CLASSES)
    pal_ok = palette is not None and len(palette) >= 3 * (VSPW_NUM_CLASSES + 1)
    classes = []
    for t in range(VSPW_NUM_CLASSES):
        raw = t + 1
        color = palette[3 * raw:3 * raw + 3] if pal_ok else gen[t]
        classes.append(class_entry(t, names_by_raw_id.get(raw, f"class_{raw}"), color))
    named = sum(1 for t in range(VSPW_NUM_CLASSES) if (t + 1) in names_by_raw_id)
    source = {"names": f"label_num_dic_final.json ({named} of {VSPW_NUM_CLASSES} named)" if named else
              "generated (class_<raw id>): label_num_dic_final.json not found",
              "colors": "palette of the mask PNGs" if pal_ok else "generated palette"}
    return classes, source


def validate_classes(classes, where: str) -> List[Dict]:
    """Checks a class list [{id, name, color}] (ids 0..K-1 in order, 1 <= K <= 255, RGB colours); returns it
    normalised. Raises ValueError naming `where` and the offending entry."""
    if not isinstance(classes, list) or not classes:
        raise ValueError(f"{where}: expected a non-empty list of classes [{{\"id\", \"name\", \"color\"}}], got {type(classes).__name__}")
    if len(classes) > 255:
        raise ValueError(f"{where}: {len(classes)} classes; at most 255 (label value 255 is 'ignore')")
    out = []
    for i, c in enumerate(classes):
        if not isinstance(c, dict) or not {"id", "name", "color"} <= set(c):
            raise ValueError(f"{where}: class entry {i} must have id, name and color, got {c!r}")
        if c["id"] != i:
            raise ValueError(f"{where}: class entry {i} has id {c['id']!r}; ids must be 0..K-1 in order")
        col = c["color"]
        if not (isinstance(col, (list, tuple)) and len(col) == 3 and all(isinstance(v, int) and 0 <= v <= 255 for v in col)):
            raise ValueError(f"{where}: class {i} ({c['name']!r}) color must be [r, g, b] with ints 0..255, got {col!r}")
        out.append(class_entry(i, c["name"], col))
    return out
