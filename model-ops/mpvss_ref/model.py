"""MPVSS reference model in plain PyTorch (no detectron2/mmcv).

* `Segmentor`  - Mask2Former-style: conv backbone (strides 4..32), FPN pixel
  decoder, transformer decoder with masked cross-attention over N learned
  queries, class head (K+1 logits, last = no-object) and mask head (H/4).
* `FlowModule` - MPVSS query-based flow: [current, key] RGB at x0.5 into a
  FlowNetS-style encoder (strides 4..128 of the input image), a query decoder
  with joint self-attention between the key frame's queries and the s32/s64/
  s128 tokens, a FlowNetS-style deconv refinement to a pixel flow and a
  per-pixel motion map at stride 8, and one flow map per query from an MLP on
  the queries against the motion map.
* `warp_masks` - per-query backward warp of the key mask logits.
* `semantic_inference` - Mask2Former semantic inference at input resolution, in the formulation of
  `MpvssConfig.semantic` (`SEMANTIC_FORMULATIONS`).

Attention is written from plain ops (no nn.MultiheadAttention), so export does
not depend on autograd state. Flow is in pixels of the H/8 grid, (dx, dy),
pointing from a pixel of the current frame to where it was in the key frame.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


@dataclasses.dataclass
class MpvssConfig:
    height: int = 256
    width: int = 512
    num_classes: int = 7
    # segmentor
    num_queries: int = 16
    hidden_dim: int = 64                      # C: query dim
    stem_channels: int = 16
    backbone_channels: Tuple[int, ...] = (32, 48, 96, 128)   # strides 4, 8, 16, 32
    backbone_depths: Tuple[int, ...] = (1, 1, 2, 1)          # residual blocks per stage
    pixel_dim: int = 64                       # pixel decoder / mask embedding dim
    dec_layers: int = 3
    heads: int = 4
    ffn_dim: int = 128
    # flow module
    flow_channels: Tuple[int, ...] = (16, 32, 48, 64, 64, 64)  # strides 4, 8, 16, 32, 64, 128 of the full image
    flow_extra: Tuple[int, ...] = (0, 0, 1, 1, 0, 0)            # extra 3x3 convs per encoder stage (FlowNetS convX_1)
    flow_kernels: Tuple[int, ...] = (5, 5, 3, 3, 3, 3)
    flow_dim: int = 64
    flow_layers: int = 2
    flow_heads: int = 4
    flow_ffn: int = 128
    refine_channels: Tuple[int, ...] = (48, 32, 24, 16)  # deconv outputs at s64, s32, s16, s8
    motion_dim: int = 8
    # semantic inference formulation in both graphs (SEMANTIC_FORMULATIONS; "full" = Mask2Former's, as trained)
    semantic: str = "full"
    # how the propagator makes the flow module's x0.5 input: "normalize-pool" (normalise both full-resolution
    # images, then 2x2 average; as trained) or "pool-normalize" (average the raw pixels, then normalise a quarter
    # of them: the same values, since normalisation is a per-channel affine map, up to float rounding)
    flow_input: str = "normalize-pool"

    @property
    def out_classes(self) -> int:
        return self.num_classes + 1

    def validate(self):
        """Raises ValueError naming the field when the config cannot build a model (asserts vanish under -O)."""
        problems = []
        if self.height % 128 or self.width % 128:
            problems.append(f"height and width must be multiples of 128 (the flow encoder's stride), "
                            f"found {self.height}x{self.width}")
        if self.hidden_dim % self.heads:
            problems.append(f"hidden_dim {self.hidden_dim} must be divisible by heads {self.heads}")
        if self.flow_dim % self.flow_heads:
            problems.append(f"flow_dim {self.flow_dim} must be divisible by flow_heads {self.flow_heads}")
        if len(self.flow_channels) != 6:
            problems.append(f"flow_channels needs 6 entries (strides 4..128), found {len(self.flow_channels)}")
        if len(self.backbone_channels) != 4:
            problems.append(f"backbone_channels needs 4 entries, found {len(self.backbone_channels)}")
        if self.flow_input not in FLOW_INPUTS:
            problems.append(f"flow_input must be normalize-pool or pool-normalize, found {self.flow_input!r}")
        if self.semantic not in SEMANTIC_FORMULATIONS:
            problems.append(f"semantic must be one of {sorted(SEMANTIC_FORMULATIONS)}, found {self.semantic!r}")
        if problems:
            raise ValueError("MpvssConfig: " + "; ".join(problems))
        return self

    def to_dict(self) -> Dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(d: Dict) -> "MpvssConfig":
        fields = {f.name for f in dataclasses.fields(MpvssConfig)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in fields}
        return MpvssConfig(**kw).validate()


def preset(name: str, **overrides) -> MpvssConfig:
    if name == "tiny":
        cfg = MpvssConfig(height=128, width=256, num_queries=8, hidden_dim=32, stem_channels=8,
                          backbone_channels=(16, 24, 32, 48), backbone_depths=(1, 1, 1, 1), pixel_dim=32,
                          dec_layers=2, heads=2, ffn_dim=64, flow_channels=(8, 16, 24, 32, 32, 32),
                          flow_extra=(0, 0, 0, 0, 0, 0), flow_dim=32, flow_layers=1, flow_heads=2, flow_ffn=64,
                          refine_channels=(24, 16, 16, 8), motion_dim=4)
    elif name == "bundle":
        cfg = MpvssConfig()
    elif name == "paper":
        # Mask2Former-size queries (N=100, C=256, 9 decoder layers) and a FlowNetS-size flow module (~40M params).
        cfg = MpvssConfig(height=512, width=1024, num_classes=19, num_queries=100, hidden_dim=256,
                          stem_channels=64, backbone_channels=(64, 128, 256, 512), backbone_depths=(2, 2, 2, 2),  # ResNet-18-like
                          pixel_dim=256, dec_layers=9, heads=8, ffn_dim=2048,
                          flow_channels=(64, 128, 256, 512, 512, 1024), flow_extra=(0, 0, 1, 1, 1, 1),
                          flow_kernels=(7, 5, 5, 3, 3, 3), flow_dim=256, flow_layers=9, flow_heads=8,
                          flow_ffn=1024, refine_channels=(512, 256, 128, 64), motion_dim=32)
    else:
        raise ValueError(f"unknown preset {name!r} (tiny, bundle, paper)")
    return dataclasses.replace(cfg, **overrides).validate()


# --------------------------------------------------------------------------- building blocks

def _hw(t: torch.Tensor) -> Tuple[int, int]:
    """Spatial size as Python ints: H and W are static per bundle, so the exported graph gets constants."""
    return int(t.shape[-2]), int(t.shape[-1])


def resize(x: torch.Tensor, size: Tuple[int, int], mode: str) -> torch.Tensor:
    """F.interpolate to `size` expressed as a constant scale factor (exact for our power-of-two sizes), so the
    ONNX Resize gets constant scales and static shapes (align_corners=False for bilinear)."""
    h, w = _hw(x)
    if (h, w) == tuple(size):
        return x
    fh, fw = size[0] / h, size[1] / w
    assert round(h * fh) == size[0] and round(w * fw) == size[1]
    if mode == "nearest":
        return F.interpolate(x, scale_factor=(fh, fw), mode="nearest")
    return F.interpolate(x, scale_factor=(fh, fw), mode=mode, align_corners=False)


def conv_bn(cin, cout, k=3, s=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1 = conv_bn(c, c)
        self.c2 = conv_bn(c, c, act=False)

    def forward(self, x):
        return F.relu(x + self.c2(self.c1(x)))


class Attention(nn.Module):
    """Multi-head attention from plain ops; `bias` is added to the logits ([B, heads or 1, Lq, Lk])."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.dim = heads, dim
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, q, k, v, bias: Optional[torch.Tensor] = None):
        b = q.shape[0]
        h, d = self.heads, self.dim // self.heads
        Q = self.q(q).reshape(b, -1, h, d).transpose(1, 2)
        K = self.k(k).reshape(b, -1, h, d).transpose(1, 2)
        V = self.v(v).reshape(b, -1, h, d).transpose(1, 2)
        att = torch.matmul(Q, K.transpose(2, 3)) * (1.0 / math.sqrt(d))
        if bias is not None:
            att = att + bias
        att = att.softmax(-1)
        out = torch.matmul(att, V).transpose(1, 2).reshape(b, -1, self.dim)
        return self.o(out)


class FFN(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.l1, self.l2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.l2(F.relu(self.l1(x)))


class MLP(nn.Module):
    def __init__(self, din, dhid, dout, layers=3):
        super().__init__()
        dims = [din] + [dhid] * (layers - 1) + [dout]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = l(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


def sine_pos(h: int, w: int, dim: int, device=None) -> torch.Tensor:
    """2D sinusoidal position encoding [h*w, dim] (constant for static h, w)."""
    npf = dim // 2
    y = (torch.arange(h, dtype=torch.float32, device=device) + 0.5) / h * 2 * math.pi
    x = (torch.arange(w, dtype=torch.float32, device=device) + 0.5) / w * 2 * math.pi
    t = 10000 ** (2 * (torch.arange(npf, dtype=torch.float32, device=device) // 2) / npf)
    py = y[:, None] / t
    px = x[:, None] / t
    py = torch.stack([py[:, 0::2].sin(), py[:, 1::2].cos()], 2).flatten(1)
    px = torch.stack([px[:, 0::2].sin(), px[:, 1::2].cos()], 2).flatten(1)
    pos = torch.cat([py[:, None, :].expand(h, w, npf), px[None, :, :].expand(h, w, npf)], -1)
    return pos.reshape(h * w, dim)


def normalize_image(image_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [B,H,W,3] RGB -> float [B,3,H,W] normalised."""
    x = image_u8.permute(0, 3, 1, 2).to(torch.float32)
    mean = torch.tensor(MEAN, dtype=torch.float32, device=x.device).reshape(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32, device=x.device).reshape(1, 3, 1, 1)
    return (x - mean) / std


def half_normalized(image_u8: torch.Tensor) -> torch.Tensor:
    """uint8 [B,H,W,3] -> float [B,3,H/2,W/2] = F.avg_pool2d(normalize_image(image_u8), 2), normalising a quarter
    of the pixels (the normalisation is per-channel affine, so it commutes with averaging)."""
    x = F.avg_pool2d(image_u8.permute(0, 3, 1, 2).to(torch.float32), 2)
    mean = torch.tensor(MEAN, dtype=torch.float32, device=x.device).reshape(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32, device=x.device).reshape(1, 3, 1, 1)
    return (x - mean) / std


# --------------------------------------------------------------------------- segmentor

class Backbone(nn.Module):
    def __init__(self, cfg: MpvssConfig):
        super().__init__()
        c = cfg.backbone_channels
        self.stem = conv_bn(3, cfg.stem_channels, 3, 2)
        stages, cin = [], cfg.stem_channels
        for co, depth in zip(c, cfg.backbone_depths):
            stages.append(nn.Sequential(conv_bn(cin, co, 3, 2), *[ResBlock(co) for _ in range(depth)]))
            cin = co
        self.stages = nn.ModuleList(stages)

    def forward(self, x) -> List[torch.Tensor]:
        x = self.stem(x)
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return feats  # s4, s8, s16, s32


class PixelDecoder(nn.Module):
    """FPN: returns mask features at s4 and [s32, s16, s8] features of width hidden_dim."""

    def __init__(self, cfg: MpvssConfig):
        super().__init__()
        P = cfg.pixel_dim
        self.lateral = nn.ModuleList(nn.Conv2d(c, P, 1) for c in cfg.backbone_channels)
        self.out = nn.ModuleList(conv_bn(P, P) for _ in cfg.backbone_channels)
        self.mask_proj = nn.Conv2d(P, P, 1)
        self.ms_proj = nn.ModuleList(nn.Conv2d(P, cfg.hidden_dim, 1) for _ in range(3))

    def forward(self, feats):
        y = None
        outs = [None] * 4
        for i in (3, 2, 1, 0):
            lat = self.lateral[i](feats[i])
            if y is not None:
                lat = lat + resize(y, _hw(lat), "nearest")
            y = self.out[i](lat)
            outs[i] = y
        mask_features = self.mask_proj(outs[0])
        ms = [self.ms_proj[0](outs[3]), self.ms_proj[1](outs[2]), self.ms_proj[2](outs[1])]
        return mask_features, ms


class DecoderLayer(nn.Module):
    """Mask2Former layer: masked cross-attention, self-attention, FFN (post-norm)."""

    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.cross = Attention(dim, heads)
        self.self_attn = Attention(dim, heads)
        self.ffn = FFN(dim, ffn)
        self.n1, self.n2, self.n3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, q, qpos, mem, mpos, bias):
        q = self.n1(q + self.cross(q + qpos, mem + mpos, mem, bias))
        qq = q + qpos
        q = self.n2(q + self.self_attn(qq, qq, q))
        return self.n3(q + self.ffn(q))


class Segmentor(nn.Module):
    def __init__(self, cfg: MpvssConfig):
        super().__init__()
        self.cfg = cfg
        C = cfg.hidden_dim
        self.backbone = Backbone(cfg)
        self.pixel_decoder = PixelDecoder(cfg)
        self.query_feat = nn.Parameter(torch.randn(cfg.num_queries, C) * 0.1)
        self.query_pos = nn.Parameter(torch.randn(cfg.num_queries, C) * 0.1)
        self.level_embed = nn.Parameter(torch.zeros(3, C))
        self.layers = nn.ModuleList(DecoderLayer(C, cfg.heads, cfg.ffn_dim) for _ in range(cfg.dec_layers))
        self.norm = nn.LayerNorm(C)
        self.class_head = nn.Linear(C, cfg.out_classes)
        self.mask_head = MLP(C, C, cfg.pixel_dim, 3)

    def predict(self, q, mask_features):
        qn = self.norm(q)
        cls = self.class_head(qn)
        emb = self.mask_head(qn)
        masks = torch.einsum("bqc,bchw->bqhw", emb, mask_features)
        return qn, cls, masks

    def forward(self, x: torch.Tensor, aux: bool = False):
        """x: normalised float [B,3,H,W]. Returns queries, class_logits, mask_logits (and aux predictions)."""
        feats = self.backbone(x)
        mask_features, ms = self.pixel_decoder(feats)
        b = x.shape[0]
        mems, poss, sizes = [], [], []
        for i, f in enumerate(ms):
            h, w = _hw(f)
            mems.append(f.flatten(2).transpose(1, 2))
            poss.append((sine_pos(h, w, self.cfg.hidden_dim, x.device) + self.level_embed[i])[None])
            sizes.append((h, w))
        q = self.query_feat[None].expand(b, -1, -1)
        qpos = self.query_pos[None].expand(b, -1, -1)
        qn, cls, masks = self.predict(q, mask_features)
        preds = [(cls, masks)]
        for li, layer in enumerate(self.layers):
            lvl = li % 3
            m = resize(masks.detach(), sizes[lvl], "bilinear")
            # masked attention: attend only where the previous prediction says "inside" (logit >= 0);
            # an all-masked row gets a uniform -1e4 offset, i.e. plain attention (Mask2Former's fallback)
            bias = (m.flatten(2) < 0).to(torch.float32) * -1e4
            q = layer(q, qpos, mems[lvl], poss[lvl], bias[:, None])
            qn, cls, masks = self.predict(q, mask_features)
            preds.append((cls, masks))
        if aux:
            return qn, cls, masks, preds
        return qn, cls, masks


# --------------------------------------------------------------------------- flow module

class FlowEncoderLayer(nn.Module):
    def __init__(self, dim, heads, ffn):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.ffn = FFN(dim, ffn)
        self.n1, self.n2 = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x, pos):
        xp = x + pos
        x = self.n1(x + self.attn(xp, xp, x))
        return self.n2(x + self.ffn(x))


def deconv(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True))


def conv_lrelu(cin, cout, k=3, s=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1, inplace=True))


class FlowModule(nn.Module):
    def __init__(self, cfg: MpvssConfig):
        super().__init__()
        self.cfg = cfg
        ch, D = cfg.flow_channels, cfg.flow_dim
        enc, cin = [], 6
        for co, ex, k in zip(ch, cfg.flow_extra, cfg.flow_kernels):
            enc.append(nn.Sequential(conv_lrelu(cin, co, k, 2), *[conv_lrelu(co, co) for _ in range(ex)]))
            cin = co
        self.encoder = nn.ModuleList(enc)
        self.tok_proj = nn.ModuleList(nn.Conv2d(ch[i], D, 1) for i in (3, 4, 5))   # s32, s64, s128
        self.level_embed = nn.Parameter(torch.zeros(3, D))
        self.query_proj = nn.Linear(cfg.hidden_dim, D)
        self.query_type = nn.Parameter(torch.zeros(1, 1, D))
        self.layers = nn.ModuleList(FlowEncoderLayer(D, cfg.flow_heads, cfg.flow_ffn) for _ in range(cfg.flow_layers))
        r = cfg.refine_channels
        self.up64 = deconv(D, r[0])
        self.up32 = deconv(r[0] + D, r[1])
        self.up16 = deconv(r[1] + D, r[2])
        self.up8 = deconv(r[2] + ch[2], r[3])
        self.fuse8 = conv_lrelu(r[3] + ch[1], r[3])
        self.pixel_flow = nn.Conv2d(r[3], 2, 3, 1, 1)
        self.motion = nn.Conv2d(r[3], cfg.motion_dim, 3, 1, 1)
        self.query_mlp = MLP(D, D, 2 * cfg.motion_dim, 3)
        # start at zero flow (the copy-the-key baseline) and learn from there
        for m in (self.pixel_flow, self.query_mlp.layers[-1]):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, cur: torch.Tensor, key: torch.Tensor, key_queries: torch.Tensor, halved: bool = False):
        """cur, key: normalised float [B,3,H,W] (or already at x0.5 when `halved`, see half_normalized);
        key_queries [B,N,C]. Returns per-query flow [B,N,2,H/8,W/8] and pixel flow [B,2,H/8,W/8] (H/8-grid pixels)."""
        x = torch.cat([cur, key], 1)
        if not halved:
            x = F.avg_pool2d(x, 2)                 # x0.5 input
        feats = []
        for e in self.encoder:
            x = e(x)
            feats.append(x)                        # s4, s8, s16, s32, s64, s128
        b = cur.shape[0]
        toks, poss, sizes = [], [], []
        for j, i in enumerate((3, 4, 5)):
            t = self.tok_proj[j](feats[i])
            h, w = _hw(t)
            toks.append(t.flatten(2).transpose(1, 2))
            poss.append(sine_pos(h, w, self.cfg.flow_dim, cur.device) + self.level_embed[j])
            sizes.append((h, w))
        q = self.query_proj(key_queries)
        nq = q.shape[1]
        seq = torch.cat([q] + toks, 1)
        pos = torch.cat([self.query_type.expand(b, nq, -1)] + [p[None].expand(b, -1, -1) for p in poss], 1)
        for layer in self.layers:
            seq = layer(seq, pos)
        qo = seq[:, :nq]
        maps, off = [], nq
        for (h, w) in sizes:
            maps.append(seq[:, off:off + h * w].transpose(1, 2).reshape(b, -1, h, w))
            off = off + h * w  # not +=: under tracing `off` is a tensor aliasing nq
        m32, m64, m128 = maps
        y = self.up64(m128)
        y = self.up32(torch.cat([y, m64], 1))
        y = self.up16(torch.cat([y, m32], 1))
        y = self.up8(torch.cat([y, feats[2]], 1))
        y = self.fuse8(torch.cat([y, feats[1]], 1))
        pix = self.pixel_flow(y)                    # [B,2,h8,w8]
        motion = self.motion(y)                     # [B,M,h8,w8]
        wq = self.query_mlp(qo).reshape(b, nq, 2, self.cfg.motion_dim)
        flow = pix[:, None] + torch.einsum("bqdm,bmhw->bqdhw", wq, motion)
        return flow, pix


# --------------------------------------------------------------------------- warp + semantic inference

def upsample_flow(flow8: torch.Tensor, h4: int, w4: int) -> torch.Tensor:
    """[M,2,h8,w8] flow in H/8 pixels -> [M,2,h4,w4] in H/4 pixels (bilinear x2, values x2)."""
    return resize(flow8, (h4, w4), "bilinear") * 2.0


def backward_warp(src: torch.Tensor, flow4: torch.Tensor) -> torch.Tensor:
    """src [M,C,h,w], flow4 [M,2,h,w] (pixels, dx, dy): out(p) = src(p + flow(p)), bilinear, border, align_corners=True."""
    h, w = _hw(src)
    ys = torch.arange(h, dtype=torch.float32, device=src.device).reshape(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32, device=src.device).reshape(1, 1, w)
    gx = (xs + flow4[:, 0]) * (2.0 / (w - 1)) - 1.0
    gy = (ys + flow4[:, 1]) * (2.0 / (h - 1)) - 1.0
    grid = torch.stack([gx, gy], -1)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)


def warp_masks(mask_logits: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """mask_logits [B,N,h4,w4], flow [B,N,2,h8,w8] -> warped [B,N,h4,w4], each query with its own flow."""
    h4, w4 = _hw(mask_logits)
    h8, w8 = _hw(flow)
    f4 = upsample_flow(flow.reshape(-1, 2, h8, w8), h4, w4)
    out = backward_warp(mask_logits.reshape(-1, 1, h4, w4), f4)
    return out.reshape(mask_logits.shape)


# Semantic inference formulations (MpvssConfig.semantic). All give per-class scores whose argmax over classes
# is the label map at input resolution; they differ in where the N query masks become K class scores and in the
# memory layout the exported graph computes in (ONNX Runtime's ArgMax over a non-last axis and the NCHW
# Einsum are slow; a channels-last MatMul + ArgMax over the last axis is not). Name -> (scale, space, layout):
#   full       Mask2Former's: N mask logits bilinear to HxW, sigmoid, einsum with the class probabilities
#              (no-object dropped), argmax over classes. NCHW. Versions <= 1.1.0 of the bundle.
#   full-nhwc  the same arithmetic channels-last: mask logits transposed to [B,h,w,N] at H/4, bilinear to HxW,
#              sigmoid, MatMul with the [N,K] class probabilities, argmax over the last axis. Differs from `full`
#              only by float summation order (near-ties may flip).
#   s2-prob    class scores at H/2 (N mask logits bilinear to H/2, sigmoid, MatMul), the K score maps bilinear
#              to HxW, argmax (channels-last).
#   s4-prob    the same at H/4 (no N-channel resize at all).
#   s2-logit   as s2-prob, but the K score maps are upsampled in logit space (log s - log(1-s), s clamped to
#   s4-logit   [1e-6, 1-1e-6]); for a class held by one confident query this is upsampling that query's mask logit.
# how the propagator may make the flow module's x0.5 input (MpvssConfig.flow_input)
FLOW_INPUTS = ("normalize-pool", "pool-normalize")

SEMANTIC_FORMULATIONS = {
    "full": (1, "prob", "nchw"),
    "full-nhwc": (1, "prob", "nhwc"),
    "s2-prob": (2, "prob", "nhwc"),
    "s4-prob": (4, "prob", "nhwc"),
    "s2-logit": (2, "logit", "nhwc"),
    "s4-logit": (4, "logit", "nhwc"),
}
LOGIT_EPS = 1e-6


class _ResizeNHWC(torch.autograd.Function):
    """Bilinear (align_corners=False) resize of a channels-last [B,h,w,C] tensor by constant factors; exported as
    one ONNX Resize with scales [1, fh, fw, 1] (ONNX Runtime resizes channels-last natively, no transposes)."""

    @staticmethod
    def forward(ctx, x, fh: float, fw: float):
        y = F.interpolate(x.permute(0, 3, 1, 2), scale_factor=(fh, fw), mode="bilinear", align_corners=False)
        return y.permute(0, 2, 3, 1).contiguous()

    @staticmethod
    def symbolic(g, x, fh, fw):
        roi = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
        scales = g.op("Constant", value_t=torch.tensor([1.0, fh, fw, 1.0], dtype=torch.float32))
        return g.op("Resize", x, roi, scales, coordinate_transformation_mode_s="pytorch_half_pixel",
                    cubic_coeff_a_f=-0.75, mode_s="linear", nearest_mode_s="floor")


def resize_nhwc(x: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    h, w = int(x.shape[1]), int(x.shape[2])
    if (h, w) == tuple(size):
        return x
    fh, fw = size[0] / h, size[1] / w
    assert round(h * fh) == size[0] and round(w * fw) == size[1]
    return _ResizeNHWC.apply(x, fh, fw)


def _scores_nhwc(class_logits: torch.Tensor, mask_logits: torch.Tensor, size: Tuple[int, int], formulation: str):
    """Channels-last formulations: class scores [B,H,W,K] at `size` (input resolution)."""
    scale, space, _ = SEMANTIC_FORMULATIONS[formulation]
    probs = class_logits.softmax(-1)[..., :-1]                        # [B,N,K]
    m = mask_logits.permute(0, 2, 3, 1)                               # [B,h4,w4,N]
    at = (size[0] // scale, size[1] // scale)
    m = resize_nhwc(m, at)
    s = torch.matmul(m.sigmoid(), probs[:, None])                     # [B,h,w,N] @ [B,1,N,K] -> [B,h,w,K]
    if space == "logit":
        s = s.clamp(LOGIT_EPS, 1.0 - LOGIT_EPS)
        s = torch.log(s) - torch.log(1.0 - s)
    return resize_nhwc(s, size)


def semantic_scores(class_logits: torch.Tensor, mask_logits: torch.Tensor, size: Optional[Tuple[int, int]] = None,
                    formulation: str = "full"):
    """Semantic inference scores [B,K,h,w] (no-object dropped) whose argmax over dim 1 is the label map of
    `formulation` (see SEMANTIC_FORMULATIONS). `size=None` (only for "full"): at the masks' own resolution.
    Training uses "full" (Mask2Former's probabilities)."""
    if formulation == "full" or size is None:
        if formulation != "full":
            raise ValueError(f"semantic_scores: size is required for formulation {formulation!r} (only 'full' works without)")
        probs = class_logits.softmax(-1)[..., :-1]
        if size is not None:
            mask_logits = resize(mask_logits, size, "bilinear")
        return torch.einsum("bqc,bqhw->bchw", probs, mask_logits.sigmoid())
    return _scores_nhwc(class_logits, mask_logits, size, formulation).permute(0, 3, 1, 2)


def semantic_inference(class_logits, mask_logits, size: Tuple[int, int], formulation: str = "full") -> torch.Tensor:
    """Label map uint8 [B,H,W] at `size` by `formulation`."""
    if formulation == "full":
        return semantic_scores(class_logits, mask_logits, size).argmax(1).to(torch.uint8)
    return _scores_nhwc(class_logits, mask_logits, size, formulation).argmax(-1).to(torch.uint8)


# --------------------------------------------------------------------------- the whole model

class Mpvss(nn.Module):
    def __init__(self, cfg: MpvssConfig):
        super().__init__()
        self.cfg = cfg.validate()
        self.segmentor = Segmentor(cfg)
        self.flow = FlowModule(cfg)

    def segment(self, image_u8: torch.Tensor):
        """Key frame: uint8 [B,H,W,3] -> queries, class_logits, mask_logits, semantic."""
        q, cls, masks = self.segmentor(normalize_image(image_u8))
        sem = semantic_inference(cls, masks, (int(image_u8.shape[1]), int(image_u8.shape[2])), self.cfg.semantic)
        return q, cls, masks, sem

    def propagate(self, key_image_u8, image_u8, key_queries, key_class_logits, key_mask_logits, zero_flow: bool = False):
        """Non-key frame: returns semantic, warped mask_logits, flow."""
        if zero_flow:
            b, n = key_mask_logits.shape[:2]
            h, w = _hw(key_mask_logits)
            flow = key_mask_logits.new_zeros(b, n, 2, h // 2, w // 2)
        elif self.cfg.flow_input == "pool-normalize":
            flow, _ = self.flow(half_normalized(image_u8), half_normalized(key_image_u8), key_queries, halved=True)
        else:
            flow, _ = self.flow(normalize_image(image_u8), normalize_image(key_image_u8), key_queries)
        warped = warp_masks(key_mask_logits, flow)
        sem = semantic_inference(key_class_logits, warped, (int(image_u8.shape[1]), int(image_u8.shape[2])),
                                 self.cfg.semantic)
        return sem, warped, flow


class SegmentorGraph(nn.Module):
    """Export wrapper: exactly the `segmentor.onnx` contract."""

    def __init__(self, model: Mpvss):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.segment(image)


class PropagatorGraph(nn.Module):
    """Export wrapper: exactly the `propagator.onnx` contract."""

    def __init__(self, model: Mpvss):
        super().__init__()
        self.model = model

    def forward(self, key_image, image, key_queries, key_class_logits, key_mask_logits):
        return self.model.propagate(key_image, image, key_queries, key_class_logits, key_mask_logits)


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def build(cfg: MpvssConfig) -> Mpvss:
    return Mpvss(cfg)


def load_checkpoint(path: str, map_location="cpu", **overrides) -> Tuple[Mpvss, Dict]:
    """Model + checkpoint dict; `overrides` replace config fields (e.g. semantic="full-nhwc"); None values are ignored.
    A bundle's checkpoint.pt holds the weights and the config they were trained with; the formulation a bundle's
    graphs were exported with is in its manifest (see `load_bundle`)."""
    ck = torch.load(path, map_location=map_location)
    cfg = MpvssConfig.from_dict(ck["config"])
    over = {k: v for k, v in overrides.items() if v is not None}
    if over:
        cfg = dataclasses.replace(cfg, **over).validate()
    model = Mpvss(cfg)
    model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in ck["model"].items()})
    model.eval()
    return model, ck


def load_bundle(bundle_dir: str, checkpoint: Optional[str] = None, **overrides) -> Tuple[Mpvss, Dict]:
    """The model a bundle's graphs were exported from: its checkpoint.pt with the manifest's semantic formulation
    and flow input (bundles before 1.2.0 have neither in the manifest: "full", "normalize-pool")."""
    import json
    import os
    with open(os.path.join(bundle_dir, "manifest.json")) as f:
        manifest = json.load(f)
    cfg = manifest.get("config", {})
    over = {"semantic": cfg.get("semantic", "full"), "flow_input": cfg.get("flow_input", "normalize-pool")}
    over.update({k: v for k, v in overrides.items() if v is not None})
    return load_checkpoint(checkpoint or os.path.join(bundle_dir, "checkpoint.pt"), **over)
