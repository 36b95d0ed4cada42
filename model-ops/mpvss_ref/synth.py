"""Labelled synthetic urban video generator (stand-in for VSPW / Cityscapes).

Every clip is a pure function of (seed, height, width, frames): numpy's PCG64
generator drives all randomness and rendering only uses numpy + PIL resizes, so
the same seed gives byte-identical frames and labels on every machine.

Scene model
-----------
A wide textured "world" (sky, buildings with windows, trees/hedges, sidewalk,
road with lane marks) is viewed by a camera that pans (horizontally and a
little vertically) and zooms forward about the image centre. Cars and persons
live in world coordinates, move on their own (persons swing their legs), get a
pseudo-perspective size from their ground position and are painted far to near,
so they occlude each other. A global brightness gain drifts over time and
sensor noise is added. Labels are pixel-exact (nearest sampling of the label
world; objects painted with hard masks), and the generator knows the true
motion of every pixel, which `motion_stats` turns into displacement statistics.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

# Cityscapes names and colours, contiguous ids.
CLASSES: List[Tuple[str, Tuple[int, int, int]]] = [
    ("road", (128, 64, 128)),
    ("sidewalk", (244, 35, 232)),
    ("building", (70, 70, 70)),
    ("vegetation", (107, 142, 35)),
    ("sky", (70, 130, 180)),
    ("person", (220, 20, 60)),
    ("car", (0, 0, 142)),
]
NUM_CLASSES = len(CLASSES)
ROAD, SIDEWALK, BUILDING, VEGETATION, SKY, PERSON, CAR = range(NUM_CLASSES)
IGNORE = 255

# Disjoint seed ranges per split (clip i of a split has seed base + i).
SPLIT_SEEDS = {"train": 100_000, "val": 200_000, "test": 300_000}


def split_seeds(split: str, clips: int, first: int = 0) -> List[int]:
    base = SPLIT_SEEDS[split]
    return [base + first + i for i in range(clips)]


# --------------------------------------------------------------------------- textures

def _lowfreq(rng, h, w, cells_y, cells_x, channels=1):
    """Smooth noise in [0,1]: a random coarse grid, bilinearly upsampled."""
    out = []
    for _ in range(channels):
        g = rng.random((max(2, cells_y), max(2, cells_x))).astype(np.float32)
        im = Image.fromarray(g, mode="F").resize((w, h), Image.BILINEAR)
        out.append(np.asarray(im))
    return np.stack(out, -1) if channels > 1 else out[0]


def _fill(img, lab, mask, color, cls, noise=None):
    img[mask] = color if noise is None else (color[None, :] + noise[mask])
    lab[mask] = cls


def _ellipse_mask(h, w, cy, cx, ry, rx):
    y0, y1 = max(0, int(cy - ry) - 1), min(h, int(cy + ry) + 2)
    x0, x1 = max(0, int(cx - rx) - 1), min(w, int(cx + rx) + 2)
    m = np.zeros((h, w), bool)
    if y1 <= y0 or x1 <= x0:
        return m
    yy, xx = np.mgrid[y0:y1, x0:x1]
    m[y0:y1, x0:x1] = ((yy - cy) / max(ry, 1e-3)) ** 2 + ((xx - cx) / max(rx, 1e-3)) ** 2 <= 1.0
    return m


@dataclasses.dataclass
class World:
    image: np.ndarray  # [Hw, Ww, 3] float32 0..255
    label: np.ndarray  # [Hw, Ww] uint8
    horizon: float
    ground: float      # top of the sidewalk band
    road_top: float    # top of the road
    scale: float       # pixel scale relative to a 256-high frame


def make_world(rng, H, W) -> World:
    sc = H / 256.0
    Hw = int(round(H * 1.5))
    Ww = int(round(W * 2.6))
    img = np.zeros((Hw, Ww, 3), np.float32)
    lab = np.zeros((Hw, Ww), np.uint8)
    yy = np.arange(Hw, dtype=np.float32)[:, None]

    horizon = Hw * rng.uniform(0.44, 0.52)
    ground = horizon + H * rng.uniform(0.04, 0.09)
    road_top = ground + H * rng.uniform(0.07, 0.13)

    # sky: gradient + clouds
    top = np.array([rng.uniform(60, 110), rng.uniform(110, 160), rng.uniform(190, 240)], np.float32)
    bot = np.array([rng.uniform(170, 220), rng.uniform(190, 230), rng.uniform(215, 250)], np.float32)
    t = np.clip(yy / max(horizon, 1), 0, 1)[..., None]
    sky = top * (1 - t) + bot * t
    clouds = _lowfreq(rng, Hw, Ww, 6, 18)
    clouds = np.clip((clouds - 0.55) * 3.0, 0, 1)[..., None]
    sky = sky * (1 - 0.7 * clouds) + 245 * 0.7 * clouds
    img[:] = np.broadcast_to(sky, img.shape)
    lab[:] = SKY

    fine = (rng.standard_normal((Hw, Ww, 1)).astype(np.float32) * 6.0)

    # buildings along x
    x = -int(rng.uniform(0, 80 * sc))
    while x < Ww:
        bw = int(rng.uniform(50, 190) * sc)
        gap = rng.random() < 0.15
        if not gap:
            btop = int(horizon - rng.uniform(30, 190) * sc)
            x0, x1 = max(0, x), min(Ww, x + bw)
            y0, y1 = max(0, btop), int(ground) + 1
            base = rng.choice([
                [rng.uniform(90, 130)] * 3,                                        # grey concrete
                [rng.uniform(150, 200), rng.uniform(130, 170), rng.uniform(100, 140)],  # beige
                [rng.uniform(110, 150), rng.uniform(60, 90), rng.uniform(50, 80)],      # brick
                [rng.uniform(170, 215)] * 3,                                       # light
            ])
            base = np.asarray(base, np.float32) + rng.uniform(-10, 10, 3)
            region = (slice(y0, y1), slice(x0, x1))
            img[region] = base + fine[region]
            lab[region] = BUILDING
            # window grid
            wy, wx = rng.uniform(10, 20) * sc, rng.uniform(10, 22) * sc
            py, px = wy * rng.uniform(1.5, 2.2), wx * rng.uniform(1.4, 2.0)
            wcol = np.asarray([rng.uniform(20, 70), rng.uniform(30, 80), rng.uniform(50, 110)], np.float32)
            if rng.random() < 0.3:
                wcol = np.asarray([rng.uniform(200, 250), rng.uniform(190, 230), rng.uniform(120, 180)], np.float32)
            gy = y0 + rng.uniform(4, 12) * sc
            while gy + wy < ground - 8 * sc:
                gx = x0 + rng.uniform(3, 10) * sc
                while gx + wx < x1 - 3 * sc:
                    a, b = int(gy), int(gx)
                    img[a:a + int(wy), b:b + int(wx)] = wcol + rng.uniform(-15, 15)
                    gx += px
                gy += py
        x += bw + (int(rng.uniform(10, 60) * sc) if gap else 0)

    # sidewalk band (tiles) and road (asphalt + lane marks)
    sw_col = np.asarray([rng.uniform(150, 200), rng.uniform(140, 180), rng.uniform(140, 185)], np.float32)
    m = (yy >= ground) & (yy < road_top)
    m = np.broadcast_to(m, (Hw, Ww))
    tile = int(max(3, rng.uniform(8, 16) * sc))
    xx = np.arange(Ww)[None, :]
    tiles = (((xx % tile) == 0) | (((yy.astype(int) - int(ground)) % tile) == 0)).astype(np.float32)
    sw = sw_col[None, None, :] - 30.0 * tiles[..., None] + fine
    img[m] = sw[m]
    lab[m] = SIDEWALK
    # kerb
    kerb = (yy >= road_top - 2 * sc) & (yy < road_top)
    kerb = np.broadcast_to(kerb, (Hw, Ww))
    img[kerb] = np.asarray([200, 200, 200], np.float32)

    road_col = np.float32(rng.uniform(55, 105))
    mr = np.broadcast_to(yy >= road_top, (Hw, Ww))
    rtex = road_col + 8.0 * (_lowfreq(rng, Hw, Ww, 10, 40) - 0.5)[..., None] + fine
    img[mr] = rtex[mr]
    lab[mr] = ROAD
    # dashed lane lines
    for lane_y in (road_top + (Hw - road_top) * rng.uniform(0.3, 0.4), road_top + (Hw - road_top) * rng.uniform(0.65, 0.75)):
        th = max(1, int(3 * sc))
        dash, period = int(rng.uniform(25, 45) * sc), int(rng.uniform(60, 90) * sc)
        ph = int(rng.uniform(0, period))
        on = ((np.arange(Ww) + ph) % period) < dash
        img[int(lane_y):int(lane_y) + th, on] = 225.0

    # trees in front of buildings (crown blobs + trunk) and hedges on the sidewalk edge
    ntrees = int(rng.integers(4, 10) * Ww / (2.6 * 512))
    for _ in range(max(2, ntrees)):
        cx = rng.uniform(0, Ww)
        r = rng.uniform(18, 45) * sc
        cy = ground - r * rng.uniform(0.9, 1.8)
        green = np.asarray([rng.uniform(40, 90), rng.uniform(90, 150), rng.uniform(30, 70)], np.float32)
        crown = np.zeros((Hw, Ww), bool)
        for _b in range(rng.integers(3, 6)):
            crown |= _ellipse_mask(Hw, Ww, cy + rng.uniform(-0.5, 0.5) * r, cx + rng.uniform(-0.7, 0.7) * r,
                                   r * rng.uniform(0.5, 0.8), r * rng.uniform(0.5, 0.9))
        tw = max(2, int(rng.uniform(3, 7) * sc))
        trunk = np.zeros((Hw, Ww), bool)
        trunk[int(cy):int(ground + 4 * sc), max(0, int(cx - tw / 2)):int(cx + tw / 2)] = True
        img[trunk] = np.asarray([80, 60, 40], np.float32)
        lab[trunk] = VEGETATION
        y0, y1 = max(0, int(cy - 1.6 * r)), min(Hw, int(cy + 1.6 * r))
        x0, x1 = max(0, int(cx - 1.8 * r)), min(Ww, int(cx + 1.8 * r))
        sub = crown[y0:y1, x0:x1]
        leaf = _lowfreq(rng, y1 - y0, x1 - x0, max(2, (y1 - y0) // 4), max(2, (x1 - x0) // 4))
        tex = green[None, None, :] * (0.6 + 0.8 * leaf[..., None]) + fine[y0:y1, x0:x1]
        img[y0:y1, x0:x1][sub] = tex[sub]
        lab[y0:y1, x0:x1][sub] = VEGETATION
    # hedges
    x = rng.uniform(0, 200 * sc)
    while x < Ww:
        hw = rng.uniform(40, 160) * sc
        if rng.random() < 0.5:
            hh = rng.uniform(8, 20) * sc
            y1 = int(ground + rng.uniform(0, 4) * sc)
            y0 = int(y1 - hh)
            x0, x1 = int(x), int(min(Ww, x + hw))
            leaf = _lowfreq(rng, y1 - y0, x1 - x0, 3, max(2, (x1 - x0) // 6))
            green = np.asarray([rng.uniform(40, 80), rng.uniform(100, 150), rng.uniform(30, 60)], np.float32)
            img[y0:y1, x0:x1] = green * (0.6 + 0.8 * leaf[..., None]) + fine[y0:y1, x0:x1]
            lab[y0:y1, x0:x1] = VEGETATION
        x += hw + rng.uniform(30, 250) * sc

    return World(img, lab, horizon, ground, road_top, sc)


# --------------------------------------------------------------------------- objects

@dataclasses.dataclass
class Sprite:
    rgb: np.ndarray   # [h, w, 3] float32
    mask: np.ndarray  # [h, w] bool
    cls: int


def _car_sprite(rng, sc) -> Sprite:
    w = int(rng.uniform(80, 130) * sc)
    h = int(w * rng.uniform(0.42, 0.55))
    rgb = np.zeros((h, w, 3), np.float32)
    mask = np.zeros((h, w), bool)
    body = np.asarray(rng.choice([
        [rng.uniform(150, 230), rng.uniform(10, 50), rng.uniform(10, 50)],
        [rng.uniform(10, 60), rng.uniform(40, 90), rng.uniform(130, 220)],
        [rng.uniform(200, 245)] * 3,
        [rng.uniform(15, 50)] * 3,
        [rng.uniform(120, 170)] * 3,
        [rng.uniform(180, 230), rng.uniform(170, 210), rng.uniform(20, 60)],
    ]), np.float32)
    wheel_r = h * 0.2
    lower_top = int(h * 0.42)
    mask[lower_top:int(h - wheel_r * 0.6), :] = True
    cab_x0, cab_x1 = int(w * rng.uniform(0.15, 0.3)), int(w * rng.uniform(0.7, 0.85))
    yy, xx = np.mgrid[0:h, 0:w]
    cab = (yy >= int(h * 0.05)) & (yy < lower_top + 1) & (xx >= cab_x0 + (lower_top - yy) * 0.5) & (xx <= cab_x1 - (lower_top - yy) * 0.4)
    mask |= cab
    rgb[mask] = body
    shade = (yy / h)[..., None] * 30.0
    rgb = rgb - shade
    win = cab & (yy > int(h * 0.12)) & (xx > cab_x0 + 4 * sc + (lower_top - yy) * 0.5) & (xx < cab_x1 - 4 * sc - (lower_top - yy) * 0.4)
    rgb[win] = np.asarray([60, 80, 100], np.float32) + rng.uniform(-20, 20)
    for cx in (w * 0.2, w * 0.8):
        wm = ((yy - (h - wheel_r)) ** 2 + (xx - cx) ** 2) <= wheel_r ** 2
        mask |= wm
        rgb[wm] = 20.0
    # lights
    rgb[int(h * 0.5):int(h * 0.6), : max(2, int(3 * sc))] = np.asarray([250, 230, 150], np.float32)
    rgb[int(h * 0.5):int(h * 0.6), w - max(2, int(3 * sc)):] = np.asarray([200, 20, 20], np.float32)
    if rng.random() < 0.5:  # facing the other way
        rgb, mask = rgb[:, ::-1].copy(), mask[:, ::-1].copy()
    return Sprite(rgb, mask, CAR)


def _person_sprites(rng, sc) -> List[Sprite]:
    """Two walking poses of one person."""
    h = int(rng.uniform(44, 80) * sc)
    w = max(6, int(h * 0.42))
    skin = np.asarray(rng.choice([[230, 190, 160], [190, 140, 100], [120, 80, 55]]), np.float32)
    shirt = rng.uniform(20, 240, 3).astype(np.float32)
    pants = rng.uniform(10, 120, 3).astype(np.float32)
    out = []
    for pose in range(2):
        rgb = np.zeros((h, w, 3), np.float32)
        mask = np.zeros((h, w), bool)
        yy, xx = np.mgrid[0:h, 0:w]
        hr = h * 0.09
        head = ((yy - hr * 1.1) ** 2 + (xx - w / 2) ** 2) <= hr ** 2
        torso = (yy >= hr * 2.0) & (yy < h * 0.55) & (np.abs(xx - w / 2) <= w * 0.28)
        arms = (yy >= hr * 2.2) & (yy < h * 0.5) & (np.abs(xx - w / 2) <= w * 0.45) & ~torso
        legs = np.zeros_like(mask)
        spread = (0.05 if pose == 0 else 0.22) * w
        for s in (-1, 1):
            lx = w / 2 + s * spread * ((yy - h * 0.55) / (h * 0.45))
            legs |= (yy >= h * 0.55) & (np.abs(xx - lx - s * w * 0.1) <= w * 0.11)
        for m, c in ((legs, pants), (arms, shirt * 0.85), (torso, shirt), (head, skin)):
            mask |= m
            rgb[m] = c
        out.append(Sprite(rgb, mask, PERSON))
    return out


@dataclasses.dataclass
class Mover:
    sprites: List[Sprite]
    x: float          # world x of the bottom-centre
    y: float          # world y of the bottom (ground contact)
    vx: float
    vy: float
    step: int         # frames per walking pose


def _persp(world: World, y: float) -> float:
    Hw = world.label.shape[0]
    return float(np.clip(0.45 + 0.75 * (y - world.horizon) / max(1.0, Hw - world.horizon), 0.4, 1.25))


def make_movers(rng, world: World) -> List[Mover]:
    sc = world.scale
    Hw, Ww = world.label.shape
    movers = []
    for _ in range(int(rng.integers(7, 14))):   # cars on the road
        y = rng.uniform(world.road_top + 25 * sc, Hw - 5 * sc)
        speed = rng.uniform(1.5, 7.0) * sc * rng.choice([-1, 1])
        movers.append(Mover([_car_sprite(rng, sc)], rng.uniform(0, Ww), y, speed, rng.uniform(-0.15, 0.15) * sc, 1))
    for _ in range(int(rng.integers(8, 16))):   # persons: mostly sidewalk, some crossing
        crossing = rng.random() < 0.25
        if crossing:
            y = rng.uniform(world.road_top, Hw - 20 * sc)
            vx, vy = rng.uniform(-0.8, 0.8) * sc, rng.uniform(0.6, 2.0) * sc * rng.choice([-1, 1])
        else:
            y = rng.uniform(world.ground + 4 * sc, world.road_top + 6 * sc)
            vx, vy = rng.uniform(0.6, 2.6) * sc * rng.choice([-1, 1]), rng.uniform(-0.1, 0.1) * sc
        movers.append(Mover(_person_sprites(rng, sc), rng.uniform(0, Ww), y, vx, vy, int(rng.integers(3, 6))))
    return movers


# --------------------------------------------------------------------------- camera + rendering

@dataclasses.dataclass
class Camera:
    cx: np.ndarray   # [T] world x at the image centre
    cy: np.ndarray   # [T]
    zoom: np.ndarray  # [T] pixels per world unit


def make_camera(rng, world: World, H, W, T) -> Camera:
    sc = world.scale
    Hw, Ww = world.label.shape
    t = np.arange(T, dtype=np.float64)
    mode = rng.choice(["pan", "zoom", "both"], p=[0.35, 0.25, 0.4])
    pan = rng.uniform(1.0, 5.5) * sc * rng.choice([-1, 1]) if mode != "zoom" else rng.uniform(-1.0, 1.0) * sc
    wobble = rng.uniform(0.0, 2.0) * sc
    vx = pan + wobble * np.sin(2 * np.pi * t / rng.uniform(20, 60) + rng.uniform(0, 6.3))
    vy = rng.uniform(0.0, 0.8) * sc * np.sin(2 * np.pi * t / rng.uniform(15, 40) + rng.uniform(0, 6.3))
    zr = rng.uniform(0.006, 0.016) if mode != "pan" else rng.uniform(0.0, 0.003)
    zoom = np.exp(zr * t)
    # world units move less when zoomed in
    cx = np.concatenate([[0.0], np.cumsum(vx[:-1] / zoom[:-1])])
    cy = np.concatenate([[0.0], np.cumsum(vy[:-1] / zoom[:-1])])
    # start so that the whole path stays inside the world
    half_w, half_h = W / 2.0, H / 2.0
    lo_x = half_w - cx.min()
    hi_x = Ww - half_w - cx.max()
    cx0 = rng.uniform(lo_x, hi_x) if hi_x > lo_x else (lo_x + hi_x) / 2
    cy0 = world.horizon + rng.uniform(0.05, 0.2) * H
    cy0 = float(np.clip(cy0, half_h - cy.min() + 1, Hw - half_h - cy.max() - 1))
    return Camera(cx0 + cx, cy0 + cy, zoom)


def _screen_to_world(cam: Camera, t: int, H: int, W: int):
    xs = cam.cx[t] + (np.arange(W, dtype=np.float64) + 0.5 - W / 2.0) / cam.zoom[t]
    ys = cam.cy[t] + (np.arange(H, dtype=np.float64) + 0.5 - H / 2.0) / cam.zoom[t]
    return xs, ys


def _world_to_screen(cam: Camera, t: int, H: int, W: int, x, y):
    return (x - cam.cx[t]) * cam.zoom[t] + W / 2.0 - 0.5, (y - cam.cy[t]) * cam.zoom[t] + H / 2.0 - 0.5


def _sample_background(world: World, cam: Camera, t: int, H: int, W: int):
    Hw, Ww = world.label.shape
    xs, ys = _screen_to_world(cam, t, H, W)
    xs, ys = xs - 0.5, ys - 0.5  # pixel centres
    xs = np.clip(xs, 0, Ww - 1.001)
    ys = np.clip(ys, 0, Hw - 1.001)
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    fx = (xs - x0).astype(np.float32)[None, :, None]
    fy = (ys - y0).astype(np.float32)[:, None, None]
    im = world.image
    top = im[y0][:, x0] * (1 - fx) + im[y0][:, x0 + 1] * fx
    bot = im[y0 + 1][:, x0] * (1 - fx) + im[y0 + 1][:, x0 + 1] * fx
    img = top * (1 - fy) + bot * fy
    xn = np.clip(np.rint(xs).astype(np.int64), 0, Ww - 1)
    yn = np.clip(np.rint(ys).astype(np.int64), 0, Hw - 1)
    lab = world.label[yn][:, xn]
    return img, lab


@dataclasses.dataclass
class Clip:
    seed: int
    images: np.ndarray   # [T,H,W,3] uint8
    labels: np.ndarray   # [T,H,W] uint8
    flow: np.ndarray     # [T-1,H,W,2] float32: forward displacement (dx,dy) of each pixel of frame t into frame t+1
    extra: dict = dataclasses.field(default_factory=dict)  # (t, s) -> displacement of frame t's pixels into frame s


def _mover_state(m: Mover, world: World, t: int):
    x = m.x + m.vx * t
    y = m.y + m.vy * t
    return x, y, _persp(world, y)


def render_clip(seed: int, height: int = 256, width: int = 512, frames: int = 40, with_flow: bool = True,
                pairs=None) -> Clip:
    """Render one clip. `pairs` [(t, s), ...] also returns the true displacement of frame t's pixels into frame s."""
    rng = np.random.default_rng(seed)
    H, W, T = height, width, frames
    world = make_world(rng, H, W)
    movers = make_movers(rng, world)
    cam = make_camera(rng, world, H, W, T)
    gain_amp = rng.uniform(0.05, 0.3)
    gain_per = rng.uniform(15, 60)
    gain_ph = rng.uniform(0, 2 * np.pi)
    cast = rng.uniform(0.9, 1.1, 3).astype(np.float32)
    flicker = rng.random() < 0.3  # occasional sudden exposure jumps
    noise_rng = np.random.default_rng(seed + 7_777_777)

    images = np.zeros((T, H, W, 3), np.uint8)
    labels = np.zeros((T, H, W), np.uint8)
    inst = np.zeros((T, H, W), np.int16)
    anchors = np.zeros((T, len(movers), 3), np.float64)  # screen x, y, scale
    for t in range(T):
        img, lab = _sample_background(world, cam, t, H, W)
        ins = np.zeros((H, W), np.int16)
        states = [(_mover_state(m, world, t), i) for i, m in enumerate(movers)]
        for (wx, wy, ps), i in sorted(states, key=lambda s: s[0][1]):  # far (small y) first
            m = movers[i]
            sp = m.sprites[(t // m.step) % len(m.sprites)]
            s = ps * cam.zoom[t]
            sx, sy = _world_to_screen(cam, t, H, W, wx, wy)
            anchors[t, i] = (sx, sy, s)
            hh, ww = sp.mask.shape
            oh, ow = max(1, int(round(hh * s))), max(1, int(round(ww * s)))
            x0 = int(round(sx - ow / 2.0))
            y0 = int(round(sy - oh))
            if x0 >= W or y0 >= H or x0 + ow <= 0 or y0 + oh <= 0:
                continue
            # pixel-exact mask via nearest resize; rgb bilinear
            mk = np.asarray(Image.fromarray(sp.mask.astype(np.uint8) * 255).resize((ow, oh), Image.NEAREST)) > 127
            rgb = np.stack([np.asarray(Image.fromarray(sp.rgb[..., c].astype(np.float32), mode="F").resize((ow, oh), Image.BILINEAR))
                            for c in range(3)], -1)
            ys0, xs0 = max(0, -y0), max(0, -x0)
            ys1, xs1 = min(oh, H - y0), min(ow, W - x0)
            sub_m = mk[ys0:ys1, xs0:xs1]
            region = (slice(y0 + ys0, y0 + ys1), slice(x0 + xs0, x0 + xs1))
            img[region][sub_m] = rgb[ys0:ys1, xs0:xs1][sub_m]
            lab[region][sub_m] = sp.cls
            ins[region][sub_m] = i + 1
        g = 1.0 + gain_amp * np.sin(2 * np.pi * t / gain_per + gain_ph)
        if flicker and (t // 7) % 2 == 1:
            g *= 1.15
        img = img * (g * cast)[None, None, :] + noise_rng.normal(0, 3.0, img.shape).astype(np.float32)
        images[t] = np.clip(img, 0, 255).astype(np.uint8)
        labels[t] = lab
        inst[t] = ins

    px = np.arange(W, dtype=np.float64)[None, :]
    py = np.arange(H, dtype=np.float64)[:, None]

    def disp(t: int, s: int) -> np.ndarray:
        """Displacement [H,W,2] (dx, dy) of every pixel of frame t to its position in frame s."""
        r = cam.zoom[s] / cam.zoom[t]
        bx = (px + 0.5 - W / 2.0) * r + (cam.cx[t] - cam.cx[s]) * cam.zoom[s] + W / 2.0 - 0.5 - px
        by = (py + 0.5 - H / 2.0) * r + (cam.cy[t] - cam.cy[s]) * cam.zoom[s] + H / 2.0 - 0.5 - py
        fx = np.broadcast_to(bx, (H, W)).copy()
        fy = np.broadcast_to(by, (H, W)).copy()
        ins = inst[t]
        for i in np.unique(ins):
            if i == 0:
                continue
            ax, ay, s0 = anchors[t, i - 1]
            wx, wy, ps = _mover_state(movers[i - 1], world, s)
            bx1, by1 = _world_to_screen(cam, s, H, W, wx, wy)
            s1 = ps * cam.zoom[s]
            yy, xx = np.nonzero(ins == i)
            fx[yy, xx] = bx1 + (xx - ax) * (s1 / s0) - xx
            fy[yy, xx] = by1 + (yy - ay) * (s1 / s0) - yy
        return np.stack([fx, fy], -1).astype(np.float32)

    flow = np.zeros((max(0, T - 1), H, W, 2), np.float32) if with_flow else np.zeros((0, H, W, 2), np.float32)
    if with_flow:
        for t in range(T - 1):
            flow[t] = disp(t, t + 1)
    extra = {(t, s): disp(t, s) for (t, s) in (pairs or [])}
    return Clip(seed, images, labels, flow, extra)


def motion_stats(flows: List[np.ndarray]) -> Dict[str, float]:
    """Mean and 95th percentile of per-pixel displacement magnitude between consecutive frames."""
    mags = np.concatenate([np.sqrt((f.astype(np.float64) ** 2).sum(-1)).ravel() for f in flows if len(f)])
    return {"mean_px": float(mags.mean()), "p95_px": float(np.percentile(mags, 95)), "pixels": int(mags.size)}


def colorize(label: np.ndarray) -> np.ndarray:
    pal = np.zeros((256, 3), np.uint8)
    for i, (_, c) in enumerate(CLASSES):
        pal[i] = c
    return pal[label]
