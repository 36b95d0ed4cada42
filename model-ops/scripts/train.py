#!/usr/bin/python3
"""Train the MPVSS reference model: stage 1 segmentor per frame, stage 2 flow module (segmentor frozen).

On any data set (`--dataset synth|folder|cityscapes|vspw --data-root DIR`, see mpvss_ref/datasets.py), from a
preset (`--preset tiny|bundle|paper`) or fine-tuned from a checkpoint (`--init-from model-ops/bundle/checkpoint.pt`:
its architecture and weights; a different number of classes re-initialises the class head, and the log says so).

Resumable: a checkpoint with model, optimizer and step is written every --ckpt-every steps (<out>/seg_last.pt,
<out>/flow_last.pt); `--resume` continues from them (the data set, classes and model config must match
<out>/run.json). Deterministic data: batch i of a stage is drawn from numpy's generator seeded by (seed, stage, i),
so a resumed run draws the same batches as an uninterrupted one.

Sparse labels: the segmentor stage samples labelled frames only; the flow stage takes a labelled frame as the
current frame and a key frame 1..max-gap frames before it (keys need no label: the loss is on the current frame).

    /usr/bin/python3 model-ops/scripts/train.py --preset bundle --out model-ops/.cache/run          # the synthetic recipe
    /usr/bin/python3 model-ops/scripts/train.py --dataset cityscapes --data-root /data/cityscapes \\
        --init-from model-ops/bundle/checkpoint.pt --out runs/cs                                     # fine-tune
"""
import argparse
import collections
import dataclasses
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from mpvss_ref import data, datasets
from mpvss_ref.evaluation import evaluate_dataset
from mpvss_ref.losses import labels_at_stride4, semantic_ce, set_criterion
from mpvss_ref.model import Mpvss, MpvssConfig, backward_warp, normalize_image, preset, upsample_flow, warp_masks


class UsageError(Exception):
    """Bad arguments or run directory: printed as one line, exit status 2."""


def lr_at(step, total, base, warmup=100):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def log(out, msg):
    tqdm.write(msg)
    with open(os.path.join(out, "train.log"), "a") as f:
        f.write(time.strftime("%H:%M:%S ") + msg + "\n")


def save(path, **kw):
    tmp = path + ".tmp"
    torch.save(kw, tmp)
    os.replace(tmp, path)


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: torch sees no CUDA device (use --device cpu or auto)")
    return name


def load_segmentor(model, state):
    """Load only the segmentor's weights from a whole-model state dict (stage 1's seg_last.pt).

    The flow module keeps its fresh initialisation (same seed, so the same as in --stage all), and may be
    configured differently from the one saved alongside the segmentor (e.g. --override motion_dim=16)."""
    p = "segmentor."
    model.segmentor.load_state_dict({k[len(p):]: v for k, v in state.items() if k.startswith(p)})


# --------------------------------------------------------------------------- model: preset or fine-tune

def parse_overrides(items):
    fields = {f.name for f in dataclasses.fields(MpvssConfig)}
    out = {}
    for kv in items:
        k, sep, v = kv.partition("=")
        if not sep or k not in fields:
            raise UsageError(f"--override {kv!r}: expected key=int with key one of {', '.join(sorted(fields))}")
        try:
            out[k] = int(v)
        except ValueError:
            raise UsageError(f"--override {kv!r}: value must be an integer") from None
    return out


def base_config(args):
    """(config without the data set's class count, init checkpoint or None)."""
    over = parse_overrides(args.override)
    if args.init_from:
        if not os.path.isfile(args.init_from):
            raise UsageError(f"--init-from {args.init_from}: no such checkpoint file")
        ck = torch.load(args.init_from, map_location="cpu")
        if not isinstance(ck, dict) or "config" not in ck or "model" not in ck:
            raise UsageError(f"--init-from {args.init_from}: not an MPVSS checkpoint (needs 'config' and 'model')")
        cfg = MpvssConfig.from_dict(ck["config"])
        try:
            return dataclasses.replace(cfg, **over).validate(), ck
        except ValueError as e:
            raise UsageError(f"--override {args.override}: {e}") from None
    try:
        return preset(args.preset or "bundle", **over), None
    except ValueError as e:
        raise UsageError(f"--preset {args.preset}: {e}") from None


def init_from_checkpoint(model, ck, classes):
    """Load a checkpoint into `model`; a class head of another size is left freshly initialised.
    Returns (a message saying what was loaded and re-initialised, whether the class head was re-initialised)."""
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in ck["model"].items()}
    own = model.state_dict()
    head = [k for k in state if k.startswith("segmentor.class_head.")]
    reinit = any(state[k].shape != own[k].shape for k in head)
    if reinit:
        state = {k: v for k, v in state.items() if k not in head}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (reinit and k in head)]
    if missing or unexpected:
        raise UsageError(f"--init-from: checkpoint does not fit the model (missing {missing[:4]}, unexpected {unexpected[:4]})")
    old = ck.get("classes")
    old_n = len(old) if old else ck["config"].get("num_classes")
    if reinit:
        return (f"init from checkpoint: all weights except the class head; class head re-initialised for "
                f"{len(classes)} classes (checkpoint had {old_n}: {', '.join(c['name'] for c in old) if old else 'unnamed'})"), True
    if old and [c["name"] for c in old] != [c["name"] for c in classes]:
        return (f"init from checkpoint: all weights; same number of classes ({len(classes)}) but other names: "
                f"class i of the checkpoint is trained as class i of the data set"), False
    return "init from checkpoint: all weights (same classes)", False


# --------------------------------------------------------------------------- run directory (resume)

def run_info(args, ds, cfg):
    return {"dataset": args.dataset, "data_root": os.path.abspath(args.data_root) if args.data_root else None,
            "split": args.split, "classes": [c["name"] for c in ds.classes], "config": cfg.to_dict()}


def check_run_dir(args, info):
    """Refuse to mix runs: existing stage checkpoints need --resume, and --resume needs the same run."""
    stages = {"seg": ["seg_last.pt"], "flow": ["flow_last.pt"], "all": ["seg_last.pt", "flow_last.pt"]}[args.stage]
    found = [f for f in stages if os.path.exists(os.path.join(args.out, f))]
    path = os.path.join(args.out, "run.json")
    if found and not args.resume:
        raise UsageError(f"--out {args.out} already holds {', '.join(found)} from an earlier run: pass --resume to "
                         f"continue it, or choose another --out")
    if args.resume and os.path.exists(path):
        with open(path) as f:
            prev = json.load(f)
        for k in ("dataset", "data_root", "split", "classes", "config"):
            if k in prev and json.loads(json.dumps(prev[k])) != json.loads(json.dumps(info[k])):
                raise UsageError(f"--resume: {k} differs from the run in {path} (was {_short(prev[k])}, now {_short(info[k])})")
    with open(path, "w") as f:
        json.dump(info, f, indent=1)
    return found


def _short(v, n=120):
    s = json.dumps(v)
    return s if len(s) <= n else s[:n] + "..."


def load_resume(path, model, opt, device):
    st = torch.load(path, map_location=device)
    model.load_state_dict(st["model"])
    opt.load_state_dict(st["opt"])
    return st["step"]


# --------------------------------------------------------------------------- sampling

def seg_clips(ds):
    return [c for c in range(len(ds)) if ds.labelled(c)]


def sample_seg_batch(r, ds, clips, batch, crop):
    """Random crops of labelled frames (clip uniformly, then one of its labelled frames), flips, brightness."""
    ch, cw = crop
    imgs, labs = [], []
    for _ in range(batch):
        c = clips[r.integers(len(clips))]
        lab_t = ds.labelled(c)
        t = lab_t[r.integers(len(lab_t))]
        image, label = ds.image(c, t), ds.label(c, t)
        H, W = label.shape
        y, x = r.integers(0, H - ch + 1), r.integers(0, W - cw + 1)
        im = image[y:y + ch, x:x + cw]
        lb = label[y:y + ch, x:x + cw]
        if r.random() < 0.5:
            im, lb = im[:, ::-1], lb[:, ::-1]
        im = np.clip(im.astype(np.float32) * r.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
        imgs.append(im)
        labs.append(lb)
    return np.stack(imgs), np.stack(labs)


def flow_candidates(ds, n_clips=None):
    """{clip: labelled frames with at least one frame before them} over the first n_clips clips."""
    n = len(ds) if n_clips is None else min(n_clips, len(ds))
    cands = {c: [t for t in ds.labelled(c) if t >= 1] for c in range(n)}
    return {c: ts for c, ts in cands.items() if ts}


def sample_flow_pairs(r, cands, batch, gmax):
    """(clip, current t, key k) triples: t a labelled frame, k = t - d with d uniform in 1..min(gmax, t)."""
    clips = sorted(cands)
    out = []
    for _ in range(batch):
        c = clips[int(r.integers(len(clips)))]
        ts = cands[c]
        t = ts[int(r.integers(len(ts)))]
        k = t - int(r.integers(1, min(gmax, t) + 1))
        out.append((c, t, k))
    return out


class KeyCache:
    """Frozen segmentor outputs per (clip, frame), computed on first use; LRU under a byte budget."""

    def __init__(self, model, ds, device, max_mb):
        self.model, self.ds, self.device = model, ds, device
        self.max_bytes = max_mb * (1 << 20)
        self.bytes = 0
        self.store = collections.OrderedDict()

    @torch.no_grad()
    def get(self, keys):
        missing = [k for k in dict.fromkeys(keys) if k not in self.store]
        for i in range(0, len(missing), 8):
            part = missing[i:i + 8]
            imgs = torch.from_numpy(np.stack([self.ds.image(c, t) for c, t in part])).to(self.device)
            q, cl, m, _ = self.model.segment(imgs)
            for j, key in enumerate(part):
                v = (q[j], cl[j], m[j].half())
                self.store[key] = v
                self.bytes += sum(x.numel() * x.element_size() for x in v)
        out = [self.store[k] for k in keys]
        for k in keys:
            self.store.move_to_end(k)
        while self.bytes > self.max_bytes and len(self.store) > len(keys):
            _, v = self.store.popitem(last=False)
            self.bytes -= sum(x.numel() * x.element_size() for x in v)
        return (torch.stack([o[0] for o in out]), torch.stack([o[1] for o in out]), torch.stack([o[2] for o in out]).float())


# --------------------------------------------------------------------------- stages

class Stage:
    """What both training stages do around their losses: AdamW (weight decay 1e-4) on one module, resumed with
    --resume from out/<name>_last.pt, the learning-rate schedule (`lr_at`), a progress bar over the steps left, the
    optimizer step with gradients clipped to norm 1, a running loss, and a checkpoint every --ckpt-every steps and
    after the last."""

    def __init__(self, args, model, module, lr, steps, out, name, desc):
        self.args, self.model, self.module, self.lr, self.steps, self.out = args, model, module, lr, steps, out
        self.opt = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=1e-4)
        self.ck = os.path.join(out, f"{name}_last.pt")
        start = 0
        if args.resume and os.path.exists(self.ck):
            start = load_resume(self.ck, model, self.opt, args.device)
            log(out, f"resumed {desc} at step {start}")
        self.t0 = time.time()
        self.bar = tqdm(range(start, steps), desc=desc, initial=start, total=steps, dynamic_ncols=True)
        self.run = None

    def set_lr(self, step):
        for g in self.opt.param_groups:
            g["lr"] = lr_at(step, self.steps, self.lr)

    def update(self, loss):
        """One optimizer step on `loss`; returns the running loss."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), 1.0)
        self.opt.step()
        self.run = loss.item() if self.run is None else 0.98 * self.run + 0.02 * loss.item()
        return self.run

    def checkpoint_due(self, step):
        return (step + 1) % self.args.ckpt_every == 0 or step + 1 == self.steps

    def checkpoint(self, step, msg):
        """Saves model and optimizer after `step`, and logs `msg` with the seconds of this session."""
        save(self.ck, model=self.model.state_dict(), opt=self.opt.state_dict(), step=step + 1,
             config=self.model.cfg.to_dict())
        log(self.out, f"{msg} ({self.seconds():.0f}s this session)")

    def seconds(self):
        return time.time() - self.t0


def train_segmentor(args, model, ds, out):
    K = model.cfg.num_classes
    seg = model.segmentor
    clips = seg_clips(ds)
    if not clips:
        raise UsageError(f"{ds.summary()}: no labelled frames to train the segmentor on")
    H, W = ds.size
    if args.crop[0] > H or args.crop[1] > W:
        raise UsageError(f"--crop {args.crop[0]} {args.crop[1]} is larger than the model input {H}x{W}")
    seg.train()
    stage = Stage(args, model, seg, args.lr, args.seg_steps, out, "seg", "segmentor")
    for step in stage.bar:
        r = np.random.default_rng([args.seed, 1, step])
        imgs, labs = sample_seg_batch(r, ds, clips, args.batch, args.crop)
        stage.set_lr(step)
        x = normalize_image(torch.from_numpy(imgs).to(args.device))
        lab = torch.from_numpy(labs).long().to(args.device)
        _, cls, masks, preds = seg(x, aux=True)
        lab4 = labels_at_stride4(lab)
        l_set = sum(set_criterion(c, m, lab4, K) for c, m in preds) / len(preds)
        l_sem = semantic_ce(cls, masks, lab)
        loss = l_set + 2.0 * l_sem
        run = stage.update(loss)
        stage.bar.set_postfix(loss=f"{run:.3f}", sem=f"{l_sem.item():.3f}")
        if stage.checkpoint_due(step):
            stage.checkpoint(step, f"seg step {step + 1} loss {run:.4f} sem {l_sem.item():.4f}")
    return stage.seconds()


def photometric(cur, key, pix):
    """Self-supervised auxiliary: key image at H/4 warped by the pixel flow vs the current image (means removed)."""
    c4, k4 = F.avg_pool2d(cur, 4), F.avg_pool2d(key, 4)
    w = backward_warp(k4, upsample_flow(pix, *c4.shape[-2:]))
    w = w - w.mean((2, 3), keepdim=True)
    c4 = c4 - c4.mean((2, 3), keepdim=True)
    return (w - c4).abs().mean()


def train_flow(args, model, ds, out):
    cands = flow_candidates(ds, args.flow_clips)
    if not cands:
        raise UsageError(f"{ds.summary()}: no labelled frame has an earlier frame, so the flow stage has no "
                         f"(key, current) pairs (Cityscapes needs leftImg8bit_sequence/)")
    flow = model.flow
    model.segmentor.eval()
    for p in model.segmentor.parameters():
        p.requires_grad_(False)
    keys = KeyCache(model, ds, args.device, args.key_cache_mb)
    flow.train()
    stage = Stage(args, model, flow, args.flow_lr, args.flow_steps, out, "flow", "flow")
    for step in stage.bar:
        r = np.random.default_rng([args.seed, 2, step])
        # curriculum: maximum key distance grows from 3 to max_gap over the first 40% of the steps
        gmax = int(round(3 + (args.max_gap - 3) * min(1.0, step / (0.4 * args.flow_steps))))
        pairs = sample_flow_pairs(r, cands, args.flow_batch, gmax)
        cur_u8 = torch.from_numpy(np.stack([ds.image(c, t) for c, t, _ in pairs])).to(args.device)
        key_u8 = torch.from_numpy(np.stack([ds.image(c, k) for c, _, k in pairs])).to(args.device)
        lab = torch.from_numpy(np.stack([ds.label(c, t) for c, t, _ in pairs])).long().to(args.device)
        kq, kc, km = keys.get([(c, k) for c, _, k in pairs])
        stage.set_lr(step)
        cur, key = normalize_image(cur_u8), normalize_image(key_u8)
        fl, pix = flow(cur, key, kq)
        warped = warp_masks(km, fl)
        st = args.flow_loss_stride
        l_sem = semantic_ce(kc, warped, lab[:, st // 2::st, st // 2::st] if st > 1 else lab)
        l_ph = photometric(cur, key, pix) if args.photo_weight > 0 else torch.zeros(())
        loss = l_sem + args.photo_weight * l_ph
        if args.flow_set_weight > 0:  # Mask2Former set criterion on the warped masks (the paper's loss)
            loss = loss + args.flow_set_weight * set_criterion(kc, warped, labels_at_stride4(lab), model.cfg.num_classes)
        run = stage.update(loss)
        stage.bar.set_postfix(loss=f"{run:.3f}", sem=f"{l_sem.item():.3f}", photo=f"{l_ph.item():.3f}", gap=gmax)
        if stage.checkpoint_due(step):
            stage.checkpoint(step, f"flow step {step + 1} loss {run:.4f} sem {l_sem.item():.4f} photo {l_ph.item():.4f}")
    return stage.seconds()


def open_data(args, split, size, clips):
    return datasets.open_dataset(args.dataset, args.data_root, split, size, clips=clips, frames=args.frames,
                                 cache_dir=args.cache, synth_clips=48)


def quick_val(args, model, out, stage):
    if args.val_clips <= 0:
        return None
    cfg = model.cfg
    try:
        ds = open_data(args, args.val_split, (cfg.height, cfg.width), args.val_clips)
    except datasets.DatasetError as e:
        log(out, f"val after {stage} skipped: {e}")
        return None
    model.eval()
    Ks = [1] if stage == "seg" else [1, 5]
    res = evaluate_dataset(model, ds, Ks, frames=20)
    log(out, f"val after {stage} ({ds.summary()}; clips fully labelled: first 20 frames): mpvss {res['mpvss']} zero-flow {res['zero']}")
    return res


# --------------------------------------------------------------------------- main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=datasets.KINDS, default="synth", help="data set layout (default synth)")
    ap.add_argument("--data-root", help="data set directory (all but synth)")
    ap.add_argument("--split", default="train", help="training split (default train)")
    ap.add_argument("--val-split", default="val", help="split of the quick validation after each stage")
    ap.add_argument("--preset", choices=["tiny", "bundle", "paper"], help="model size (default bundle); not with --init-from")
    ap.add_argument("--init-from", help="fine-tune: start from this checkpoint (its architecture and weights)")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoints")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), ".cache", "run"))
    ap.add_argument("--cache", default=data.DEFAULT_CACHE, help="clip cache dir (synth)")
    ap.add_argument("--stage", choices=["seg", "flow", "all"], default="all")
    ap.add_argument("--train-clips", type=int, help="use the first N clips (default: synth 48, others all)")
    ap.add_argument("--flow-clips", type=int, help="flow stage on the first N training clips (default: synth 32, others all)")
    ap.add_argument("--val-clips", type=int, default=3, help="clips of the quick validation (0 = none)")
    ap.add_argument("--frames", type=int, default=40, help="synth: frames per clip")
    ap.add_argument("--seg-steps", type=int, default=3000)
    ap.add_argument("--flow-steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--flow-batch", type=int, default=8)
    ap.add_argument("--crop", type=int, nargs=2, default=[128, 256])
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--flow-lr", type=float, default=2e-3)
    ap.add_argument("--max-gap", type=int, default=10, help="largest key distance in the flow stage")
    ap.add_argument("--flow-loss-stride", type=int, default=2, help="flow-stage CE on labels subsampled by this stride")
    ap.add_argument("--flow-set-weight", type=float, default=1.0, help="weight of the set criterion on warped masks")
    ap.add_argument("--override", nargs="*", default=[], help="config overrides key=value (ints)")
    ap.add_argument("--photo-weight", type=float, default=1.0)
    ap.add_argument("--key-cache-mb", type=int, default=1024, help="memory for cached key-frame segmentor outputs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--ckpt-every", type=int, default=100)
    args = ap.parse_args(argv)
    if args.preset and args.init_from:
        ap.error("--preset and --init-from both given: with --init-from the architecture comes from the checkpoint")
    if args.dataset != "synth" and not args.data_root:
        ap.error(f"--dataset {args.dataset} needs --data-root DIR")
    if args.max_gap < 1:
        ap.error("--max-gap must be >= 1")
    return args


def run(args):
    args.device = pick_device(args.device)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg, init_ck = base_config(args)
    synth = args.dataset == "synth"
    ds = open_data(args, args.split, (cfg.height, cfg.width), args.train_clips if args.train_clips is not None else (48 if synth else None))
    if args.flow_clips is None:
        args.flow_clips = 32 if synth else None
    cfg = dataclasses.replace(cfg, num_classes=ds.num_classes).validate()
    info = run_info(args, ds, cfg)
    check_run_dir(args, info)
    log(args.out, f"args {vars(args)}")
    log(args.out, f"device {args.device}; data: {ds.summary()}")
    model = Mpvss(cfg)
    head_reinit = False
    if init_ck is not None:
        msg, head_reinit = init_from_checkpoint(model, init_ck, ds.classes)
        log(args.out, msg)
    model.to(args.device)
    meta_path = os.path.join(args.out, "meta.json")
    meta = json.load(open(meta_path)) if (args.resume and os.path.exists(meta_path)) else {}

    if args.stage in ("seg", "all"):
        meta["seg_s"] = meta.get("seg_s", 0) + train_segmentor(args, model, ds, args.out)
        v = quick_val(args, model, args.out, "seg")
        meta["val_seg"] = v["mpvss"] if v else None
    else:
        seg_ck = os.path.join(args.out, "seg_last.pt")
        if os.path.exists(seg_ck):
            load_segmentor(model, torch.load(seg_ck, map_location=args.device)["model"])
        elif init_ck is None or head_reinit:
            raise UsageError(f"--stage flow needs a trained segmentor: {seg_ck} (from --stage seg) or --init-from a "
                             f"checkpoint with the data set's {ds.num_classes} classes")
    json.dump(meta, open(meta_path, "w"), indent=1)
    if args.stage in ("flow", "all"):
        t1 = time.time()
        meta["flow_s"] = meta.get("flow_s", 0) + train_flow(args, model, ds, args.out)
        meta["flow_total_s"] = meta.get("flow_total_s", 0) + time.time() - t1
        v = quick_val(args, model, args.out, "flow")
        meta["val_flow"] = {"mpvss": v["mpvss"], "zero": v["zero"]} if v else None
        save(os.path.join(args.out, "checkpoint.pt"), config=cfg.to_dict(), model={k: v.cpu() for k, v in model.state_dict().items()},
             meta={k: v for k, v in meta.items()}, args=vars(args), classes=ds.classes, dataset=ds.describe())
    json.dump(meta, open(meta_path, "w"), indent=1, default=str)
    log(args.out, f"done: {json.dumps(meta, default=str)}")
    return model, meta


def main(argv=None):
    args = parse_args(argv)
    try:
        return run(args)
    except (UsageError, datasets.DatasetError) as e:
        print(f"train.py: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
