#!/usr/bin/python3
"""Train the MPVSS reference model on CPU: stage 1 segmentor per frame, stage 2 flow module (segmentor frozen).

Resumable: rerun the same command and it continues from <out>/seg_last.pt / flow_last.pt.
Deterministic data: batch i of a stage is drawn from numpy's generator seeded by (seed, stage, i).

    /usr/bin/python3 model-ops/scripts/train.py --preset bundle --out model-ops/.cache/run
"""
import argparse
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mpvss_ref import data, synth  # noqa: E402
from mpvss_ref.evaluation import evaluate_clips  # noqa: E402
from mpvss_ref.losses import labels_at_stride4, semantic_ce, set_criterion  # noqa: E402
from mpvss_ref.model import Mpvss, backward_warp, normalize_image, preset, upsample_flow, warp_masks  # noqa: E402


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


def load_segmentor(model, state):
    """Load only the segmentor's weights from a whole-model state dict (stage 1's seg_last.pt).

    The flow module keeps its fresh initialisation (same seed, so the same as in --stage all), and may be
    configured differently from the one saved alongside the segmentor (e.g. --override motion_dim=16)."""
    p = "segmentor."
    model.segmentor.load_state_dict({k[len(p):]: v for k, v in state.items() if k.startswith(p)})


def sample_seg_batch(r, clips, batch, crop):
    ch, cw = crop
    imgs, labs = [], []
    for _ in range(batch):
        c = clips[r.integers(len(clips))]
        t = r.integers(len(c.images))
        H, W = c.labels.shape[1:]
        y, x = r.integers(0, H - ch + 1), r.integers(0, W - cw + 1)
        im = c.images[t, y:y + ch, x:x + cw]
        lb = c.labels[t, y:y + ch, x:x + cw]
        if r.random() < 0.5:
            im, lb = im[:, ::-1], lb[:, ::-1]
        im = np.clip(im.astype(np.float32) * r.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
        imgs.append(im)
        labs.append(lb)
    return np.stack(imgs), np.stack(labs)


def train_segmentor(args, model, clips, out):
    K = model.cfg.num_classes
    seg = model.segmentor
    opt = torch.optim.AdamW(seg.parameters(), lr=args.lr, weight_decay=1e-4)
    start = 0
    ck = os.path.join(out, "seg_last.pt")
    if os.path.exists(ck):
        st = torch.load(ck, map_location=args.device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        log(out, f"resumed segmentor at step {start}")
    t0 = time.time()
    seg.train()
    bar = tqdm(range(start, args.seg_steps), desc="segmentor", initial=start, total=args.seg_steps, dynamic_ncols=True)
    run = None
    for step in bar:
        r = np.random.default_rng([args.seed, 1, step])
        imgs, labs = sample_seg_batch(r, clips, args.batch, args.crop)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.seg_steps, args.lr)
        x = normalize_image(torch.from_numpy(imgs).to(args.device))
        lab = torch.from_numpy(labs).long().to(args.device)
        _, cls, masks, preds = seg(x, aux=True)
        lab4 = labels_at_stride4(lab)
        l_set = sum(set_criterion(c, m, lab4, K) for c, m in preds) / len(preds)
        l_sem = semantic_ce(cls, masks, lab)
        loss = l_set + 2.0 * l_sem
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(seg.parameters(), 1.0)
        opt.step()
        run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
        bar.set_postfix(loss=f"{run:.3f}", sem=f"{l_sem.item():.3f}")
        if (step + 1) % args.ckpt_every == 0 or step + 1 == args.seg_steps:
            save(ck, model=model.state_dict(), opt=opt.state_dict(), step=step + 1, config=model.cfg.to_dict())
            log(out, f"seg step {step + 1} loss {run:.4f} sem {l_sem.item():.4f} ({time.time() - t0:.0f}s this session)")
    return time.time() - t0


@torch.no_grad()
def key_cache(model, clips, out, device="cpu"):
    """Frozen segmentor outputs of every training frame (keys are drawn from them)."""
    path = os.path.join(out, f"keycache_{len(clips)}.pt")
    if os.path.exists(path):
        return torch.load(path, map_location=device)
    model.eval()
    cache = []
    for c in tqdm(clips, desc="key cache", dynamic_ncols=True):
        qs, cs, ms = [], [], []
        for i in range(0, len(c.images), 8):
            q, cl, m, _ = model.segment(torch.from_numpy(c.images[i:i + 8]).to(device))
            qs.append(q)
            cs.append(cl)
            ms.append(m.half())
        cache.append((torch.cat(qs), torch.cat(cs), torch.cat(ms)))
    torch.save(cache, path + ".tmp")
    os.replace(path + ".tmp", path)
    return cache


def photometric(cur, key, pix):
    """Self-supervised auxiliary: key image at H/4 warped by the pixel flow vs the current image (means removed)."""
    c4, k4 = F.avg_pool2d(cur, 4), F.avg_pool2d(key, 4)
    w = backward_warp(k4, upsample_flow(pix, *c4.shape[-2:]))
    w = w - w.mean((2, 3), keepdim=True)
    c4 = c4 - c4.mean((2, 3), keepdim=True)
    return (w - c4).abs().mean()


def train_flow(args, model, clips, out):
    cache = key_cache(model, clips, out, args.device)
    flow = model.flow
    model.segmentor.eval()
    for p in model.segmentor.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(flow.parameters(), lr=args.flow_lr, weight_decay=1e-4)
    ck = os.path.join(out, "flow_last.pt")
    start = 0
    if os.path.exists(ck):
        st = torch.load(ck, map_location=args.device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        start = st["step"]
        log(out, f"resumed flow at step {start}")
    t0 = time.time()
    flow.train()
    bar = tqdm(range(start, args.flow_steps), desc="flow", initial=start, total=args.flow_steps, dynamic_ncols=True)
    run = None
    for step in bar:
        r = np.random.default_rng([args.seed, 2, step])
        # curriculum: maximum key distance grows from 3 to max_gap over the first 40% of the steps
        gmax = int(round(3 + (args.max_gap - 3) * min(1.0, step / (0.4 * args.flow_steps))))
        ci, ts, ks = [], [], []
        for _ in range(args.flow_batch):
            c = int(r.integers(len(clips)))
            T = len(clips[c].images)
            t = int(r.integers(1, T))
            k = t - int(r.integers(1, min(gmax, t) + 1))
            ci.append(c), ts.append(t), ks.append(k)
        cur_u8 = torch.from_numpy(np.stack([clips[c].images[t] for c, t in zip(ci, ts)])).to(args.device)
        key_u8 = torch.from_numpy(np.stack([clips[c].images[k] for c, k in zip(ci, ks)])).to(args.device)
        lab = torch.from_numpy(np.stack([clips[c].labels[t] for c, t in zip(ci, ts)])).long().to(args.device)
        kq = torch.stack([cache[c][0][k] for c, k in zip(ci, ks)])
        kc = torch.stack([cache[c][1][k] for c, k in zip(ci, ks)])
        km = torch.stack([cache[c][2][k] for c, k in zip(ci, ks)]).float()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.flow_steps, args.flow_lr)
        cur, key = normalize_image(cur_u8), normalize_image(key_u8)
        fl, pix = flow(cur, key, kq)
        warped = warp_masks(km, fl)
        st = args.flow_loss_stride
        l_sem = semantic_ce(kc, warped, lab[:, st // 2::st, st // 2::st] if st > 1 else lab)
        l_ph = photometric(cur, key, pix) if args.photo_weight > 0 else torch.zeros(())
        loss = l_sem + args.photo_weight * l_ph
        if args.flow_set_weight > 0:  # Mask2Former set criterion on the warped masks (the paper's loss)
            loss = loss + args.flow_set_weight * set_criterion(kc, warped, labels_at_stride4(lab), model.cfg.num_classes)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(flow.parameters(), 1.0)
        opt.step()
        run = loss.item() if run is None else 0.98 * run + 0.02 * loss.item()
        bar.set_postfix(loss=f"{run:.3f}", sem=f"{l_sem.item():.3f}", photo=f"{l_ph.item():.3f}", gap=gmax)
        if (step + 1) % args.ckpt_every == 0 or step + 1 == args.flow_steps:
            save(ck, model=model.state_dict(), opt=opt.state_dict(), step=step + 1, config=model.cfg.to_dict())
            log(out, f"flow step {step + 1} loss {run:.4f} sem {l_sem.item():.4f} photo {l_ph.item():.4f} ({time.time() - t0:.0f}s this session)")
    return time.time() - t0


def quick_val(args, model, out, stage):
    cfg = model.cfg
    model.eval()
    seeds = synth.split_seeds("val", args.val_clips)
    clips = ((c.images, c.labels) for c in (data.cached_clip(s, cfg.height, cfg.width, args.frames, args.cache) for s in seeds))
    Ks = [1] if stage == "seg" else [1, 5]
    res = evaluate_clips(model, clips, Ks, cfg.num_classes, frames=20)
    log(out, f"val after {stage}: mpvss {res['mpvss']} zero-flow {res['zero']}")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bundle")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), ".cache", "run"))
    ap.add_argument("--cache", default=data.DEFAULT_CACHE, help="clip cache dir")
    ap.add_argument("--stage", choices=["seg", "flow", "all"], default="all")
    ap.add_argument("--train-clips", type=int, default=48)
    ap.add_argument("--flow-clips", type=int, default=32)
    ap.add_argument("--val-clips", type=int, default=3)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--seg-steps", type=int, default=3000)
    ap.add_argument("--flow-steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--flow-batch", type=int, default=8)
    ap.add_argument("--crop", type=int, nargs=2, default=[128, 256])
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--flow-lr", type=float, default=2e-3)
    ap.add_argument("--max-gap", type=int, default=10)
    ap.add_argument("--flow-loss-stride", type=int, default=2, help="flow-stage CE on labels subsampled by this stride")
    ap.add_argument("--flow-set-weight", type=float, default=1.0, help="weight of the set criterion on warped masks")
    ap.add_argument("--override", nargs="*", default=[], help="config overrides key=value (ints)")
    ap.add_argument("--photo-weight", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu (the recipe) or cuda (quick experiments)")
    ap.add_argument("--ckpt-every", type=int, default=100)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    cfg = preset(args.preset, **{kv.split('=')[0]: int(kv.split('=')[1]) for kv in args.override})
    model = Mpvss(cfg).to(args.device)
    log(args.out, f"args {vars(args)}")
    meta_path = os.path.join(args.out, "meta.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}

    t0 = time.time()
    seeds = synth.split_seeds("train", args.train_clips)
    clips = [data.cached_clip(s, cfg.height, cfg.width, args.frames, args.cache) for s in tqdm(seeds, desc="train clips", dynamic_ncols=True)]
    meta["data_s"] = meta.get("data_s", 0) + time.time() - t0

    if args.stage in ("seg", "all"):
        meta["seg_s"] = meta.get("seg_s", 0) + train_segmentor(args, model, clips, args.out)
        meta["val_seg"] = quick_val(args, model, args.out, "seg")["mpvss"]
    else:
        load_segmentor(model, torch.load(os.path.join(args.out, "seg_last.pt"), map_location=args.device)["model"])
    json.dump(meta, open(meta_path, "w"), indent=1)
    if args.stage in ("flow", "all"):
        t1 = time.time()
        meta["flow_s"] = meta.get("flow_s", 0) + train_flow(args, model, clips[: args.flow_clips], args.out)
        meta["flow_total_s"] = meta.get("flow_total_s", 0) + time.time() - t1
        v = quick_val(args, model, args.out, "flow")
        meta["val_flow"] = {"mpvss": v["mpvss"], "zero": v["zero"]}
        save(os.path.join(args.out, "checkpoint.pt"), config=cfg.to_dict(), model={k: v.cpu() for k, v in model.state_dict().items()},
             meta={k: v for k, v in meta.items()}, args=vars(args))
    json.dump(meta, open(meta_path, "w"), indent=1, default=str)
    log(args.out, f"done: {json.dumps(meta, default=str)}")


if __name__ == "__main__":
    main()
