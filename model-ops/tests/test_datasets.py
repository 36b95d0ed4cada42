"""Data set readers (folder, Cityscapes video, VSPW) on tiny files written here in each exact layout, the sparse-label
pairing of the flow stage, sparse evaluation, and train (+ resume, + fine-tune to another class count) -> evaluate ->
export on them."""
import json
import os
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mpvss_ref import classdefs, datasets
from mpvss_ref.datasets import DatasetError
from mpvss_scripts import convert_dataset, evaluate, export, train
from mpvss_scripts import synth as synth_script

SIZE = (128, 256)   # the tiny preset's input




def _png(path, arr):
    """Writes arr (uint8 [h,w] grey or [h,w,3] RGB) as PNG, or JPEG by the file name."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(arr).save(path)


def _palette_png(path, ids, palette):
    """A palette-mode PNG whose stored indices are `ids` (like VSPW's masks)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.frombytes("P", (ids.shape[1], ids.shape[0]), np.ascontiguousarray(ids).tobytes())
    im.putpalette(palette)
    im.save(path)


def _frame(rng, h=32, w=64):
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------- Cityscapes video

CS_LABEL_IDS = np.array([[7, 7, 26, 26], [0, 9, 11, 23]], np.uint8)   # road, car, unlabeled, parking, building, sky


def cs_label(h=32, w=64):
    return np.kron(CS_LABEL_IDS, np.ones((h // 2, w // 4), np.uint8))


def write_cityscapes(root, split="train", snippets=(("aachen", "000000", 19), ("aachen", "000000", 294)),
                     train_ids_for=(), seed=0):
    """leftImg8bit_sequence/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png for frames F-19..F+10 of each snippet,
    gtFine/<split>/<city>/<city>_<seq>_<F>_gtFine_labelIds.png (and labelTrainIds for the snippets in train_ids_for)."""
    rng = np.random.default_rng(seed)
    for city, seq, f in snippets:
        for n in range(f - 19, f + 11):
            _png(os.path.join(root, "leftImg8bit_sequence", split, city, f"{city}_{seq}_{n:06d}_leftImg8bit.png"), _frame(rng))
        gt = os.path.join(root, "gtFine", split, city)
        _png(os.path.join(gt, f"{city}_{seq}_{f:06d}_gtFine_labelIds.png"), cs_label())
        if f in train_ids_for:
            _png(os.path.join(gt, f"{city}_{seq}_{f:06d}_gtFine_labelTrainIds.png"), np.full((32, 64), 5, np.uint8))
    return root


def test_cityscapes_classes_and_mapping_are_the_official_table():
    classes = classdefs.cityscapes_classes()
    assert [c["name"] for c in classes] == [
        "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation",
        "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"]
    assert classes[13]["color"] == [0, 0, 142] and classes[0]["color"] == [128, 64, 128]
    lut = classdefs.cityscapes_label_lut()
    mapped = {i: int(lut[i]) for i in range(256) if lut[i] != 255}
    assert sorted(mapped.values()) == list(range(19))
    assert mapped[7] == 0 and mapped[26] == 13 and mapped[33] == 18 and mapped[24] == 11
    for ignored in (0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 16, 18, 29, 30, 34, 255):
        assert lut[ignored] == 255, ignored


def test_cityscapes_snippets_sparse_labels_and_label_mapping(tmp_path):
    root = write_cityscapes(str(tmp_path), train_ids_for=(294,))
    ds = datasets.open_dataset("cityscapes", root, "train", SIZE)
    assert len(ds) == 2 and ds.num_classes == 19
    ids = [c.id for c in ds.clips]
    assert ids == ["aachen_000000_000019", "aachen_000000_000294"]
    for c in range(2):
        assert ds.clip_length(c) == 30 and ds.labelled(c) == [19]
        assert ds.label(c, 0) is None
    assert ds.clips[1].frames[0].endswith("aachen_000000_000275_leftImg8bit.png")
    assert ds.clips[1].frames[19].endswith("aachen_000000_000294_leftImg8bit.png")
    assert ds.image(0, 5).shape == SIZE + (3,) and ds.image(0, 5).dtype == np.uint8
    lab = ds.label(0, 19)
    assert lab.shape == SIZE
    # quadrants of the labelIds map -> trainIds, resized by nearest neighbour
    assert lab[10, 10] == 0 and lab[10, 200] == 13          # road, car
    assert lab[100, 10] == 255 and lab[100, 100] == 255     # unlabeled, parking -> ignore
    assert lab[100, 150] == 2 and lab[100, 250] == 10       # building, sky
    assert set(np.unique(lab)) == {0, 2, 10, 13, 255}
    # labelTrainIds is preferred where present
    assert np.all(ds.label(1, 19) == 5)


def test_cityscapes_errors_name_the_path(tmp_path):
    with pytest.raises(DatasetError, match="gtFine"):
        datasets.open_dataset("cityscapes", str(tmp_path), "train", SIZE)
    root = write_cityscapes(str(tmp_path / "cs"))
    os.remove(os.path.join(root, "leftImg8bit_sequence", "train", "aachen", "aachen_000000_000294_leftImg8bit.png"))
    with pytest.raises(DatasetError, match="aachen_000000_000294_leftImg8bit.png"):
        datasets.open_dataset("cityscapes", root, "train", SIZE)
    with pytest.raises(DatasetError, match="needs --data-root"):
        datasets.open_dataset("cityscapes", None, "train", SIZE)


def test_cityscapes_without_sequences_gives_one_frame_clips_and_no_flow_pairs(tmp_path):
    root = str(tmp_path)
    rng = np.random.default_rng(0)
    _png(os.path.join(root, "leftImg8bit", "val", "lindau", "lindau_000001_000019_leftImg8bit.png"), _frame(rng))
    _png(os.path.join(root, "gtFine", "val", "lindau", "lindau_000001_000019_gtFine_labelIds.png"), cs_label())
    ds = datasets.open_dataset("cityscapes", root, "val", SIZE)
    assert len(ds) == 1 and ds.clip_length(0) == 1 and ds.labelled(0) == [0]
    assert "leftImg8bit_sequence" in ds.note
    assert train.flow_candidates(ds) == {}


def test_flow_pairs_on_sparse_labels_take_the_labelled_frame_as_current(tmp_path):
    ds = datasets.open_dataset("cityscapes", write_cityscapes(str(tmp_path)), "train", SIZE)
    cands = train.flow_candidates(ds)
    assert cands == {0: [19], 1: [19]}
    dists = set()
    for i in range(200):
        for c, t, k in train.sample_flow_pairs(np.random.default_rng([0, 2, i]), cands, 4, gmax=10):
            assert t == 19 and 1 <= t - k <= 10 and ds.label(c, t) is not None
            dists.add(t - k)
    assert dists == set(range(1, 11))
    # and the segmentor stage only ever samples labelled frames
    imgs, labs = train.sample_seg_batch(np.random.default_rng(1), ds, train.seg_clips(ds), 3, (64, 128))
    assert imgs.shape == (3, 64, 128, 3) and labs.shape == (3, 64, 128)


# --------------------------------------------------------------------------- VSPW

def write_vspw(root, videos=("v1", "v2"), frames=3, names=None, palette=True):
    rng = np.random.default_rng(0)
    pal = [0, 0, 0] + sum(([i, 255 - i, (7 * i) % 256] for i in range(1, 256)), [])
    mask = np.kron(np.array([[0, 1], [124, 255]], np.uint8), np.ones((16, 32), np.uint8))
    for v in videos:
        for i in range(frames):
            _png(os.path.join(root, "data", v, "origin", f"{i + 1:08d}.jpg"), _frame(rng))
            p = os.path.join(root, "data", v, "mask", f"{i + 1:08d}.png")
            if palette:
                _palette_png(p, mask, pal)
            else:
                _png(p, mask)
    with open(os.path.join(root, "train.txt"), "w") as f:
        f.write("\n".join(videos[:-1]) + "\n")
    with open(os.path.join(root, "val.txt"), "w") as f:
        f.write(videos[-1] + "\n")
    if names is not None:
        with open(os.path.join(root, "label_num_dic_final.json"), "w") as f:
            json.dump(names, f)
    return root


def test_vspw_reads_splits_maps_others_and_void_to_ignore_and_names_classes(tmp_path):
    root = write_vspw(str(tmp_path), names={"others": 0, "wall": 1, "ceiling": 2})
    ds = datasets.open_dataset("vspw", root, "train", SIZE)
    assert [c.id for c in ds.clips] == ["v1"] and ds.clip_length(0) == 3 and ds.labelled(0) == [0, 1, 2]
    assert ds.num_classes == 124
    assert ds.classes[0]["name"] == "wall" and ds.classes[1]["name"] == "ceiling"
    assert ds.classes[123]["name"] == "class_124"          # not in the json: fallback name
    assert ds.classes[0]["color"] == [1, 254, 7]            # the masks' palette at raw id 1
    assert "2 of 124 named" in ds.note
    lab = ds.label(0, 1)
    assert lab[10, 10] == 255      # raw 0 "others" -> ignore
    assert lab[10, 200] == 0       # raw 1 -> 0
    assert lab[100, 10] == 123     # raw 124 -> 123
    assert lab[100, 200] == 255    # raw 255 void -> ignore
    val = datasets.open_dataset("vspw", root, "val", SIZE)
    assert [c.id for c in val.clips] == ["v2"]


def test_vspw_without_names_file_or_palette_generates_them_and_says_so(tmp_path):
    root = write_vspw(str(tmp_path), palette=False)
    ds = datasets.open_dataset("vspw", root, "train", SIZE)
    assert [c["name"] for c in ds.classes[:2]] == ["class_1", "class_2"]
    assert "label_num_dic_final.json not found" in ds.note and "generated palette" in ds.note
    assert len({tuple(c["color"]) for c in ds.classes}) == 124
    with pytest.raises(DatasetError, match="test.txt"):
        datasets.open_dataset("vspw", root, "test", SIZE)
    with open(os.path.join(root, "val.txt"), "a") as f:
        f.write("missing_video\n")
    with pytest.raises(DatasetError, match="missing_video"):
        datasets.open_dataset("vspw", root, "val", SIZE)


# --------------------------------------------------------------------------- the project's folder layout

FOLDER_CLASSES = [{"id": 0, "name": "road", "color": [128, 64, 128]}, {"id": 1, "name": "lane", "color": [255, 255, 0]},
                  {"id": 2, "name": "other", "color": [10, 20, 30]}]


def write_folder(root, split="train", clips=2, frames=8, labelled=(0, 3, 6), classes=FOLDER_CLASSES, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "classes.json"), "w") as f:
        json.dump(classes, f)
    for c in range(clips):
        d = os.path.join(root, split, f"cam-{c}") if split else os.path.join(root, f"cam-{c}")
        for t in range(frames):
            _png(os.path.join(d, "frames", f"{t:06d}.png"), _frame(rng))
            if t in labelled:
                lab = np.zeros((32, 64), np.uint8)
                lab[:, 32:] = 1
                lab[:4] = 255
                lab[20:, :8] = 2
                _png(os.path.join(d, "labels", f"{t:06d}.png"), lab)
    return root


def test_folder_layout_sparse_labels_by_stem_and_splits(tmp_path):
    root = write_folder(str(tmp_path))
    write_folder(str(tmp_path), split="val", clips=1, labelled=range(8))
    ds = datasets.open_dataset("folder", root, "train", SIZE)
    assert len(ds) == 2 and ds.classes == FOLDER_CLASSES and ds.note == ""
    assert ds.labelled(0) == [0, 3, 6] and ds.label(0, 1) is None
    lab = ds.label(0, 3)
    assert lab[0, 0] == 255 and lab[60, 100] == 0 and lab[60, 200] == 1 and lab[120, 2] == 2
    images, labels, has = ds.clip_arrays(1)
    assert images.shape == (8,) + SIZE + (3,) and has.tolist() == [t in (0, 3, 6) for t in range(8)]
    assert np.all(labels[1] == 255)
    val = datasets.open_dataset("folder", root, "val", SIZE)
    assert len(val) == 1 and val.labelled(0) == list(range(8))


def test_folder_without_split_folders_uses_all_clips_and_says_so(tmp_path):
    root = write_folder(str(tmp_path), split=None)
    ds = datasets.open_dataset("folder", root, "val", SIZE)
    assert len(ds) == 2 and "no val/ folder" in ds.note


def test_folder_reads_the_demo_clips_and_synth_output(tmp_path, monkeypatch):
    from conftest import DEMO
    from mpvss_ref import synth
    names = ["road", "sidewalk", "building", "vegetation", "sky", "person", "car"]
    ds = datasets.open_dataset("folder", DEMO, "test", SIZE)
    assert [c["name"] for c in ds.classes] == names
    assert len(ds) == 3 and ds.labelled(0) == list(range(60))
    out = str(tmp_path / "synth")
    monkeypatch.setattr(sys, "argv", ["synth.py", "--split", "val", "--clips", "1", "--frames", "3", "--height", "128",
                                      "--width", "256", "--out", out])
    synth_script.main()
    ds = datasets.open_dataset("folder", out, "val", SIZE)
    assert [c["name"] for c in ds.classes] == names and json.load(open(os.path.join(out, "classes.json"))) == ds.classes
    clip = synth.render_clip(synth.split_seeds("val", 1)[0], 128, 256, 3, with_flow=False)
    assert np.array_equal(ds.label(0, 2), clip.labels[2]) and np.array_equal(ds.image(0, 1), clip.images[1])


@pytest.mark.parametrize("problem,match", [
    ("no_classes", "classes.json"),
    ("bad_class_id", "ids must be 0..K-1"),
    ("bad_color", "color must be"),
    ("label_out_of_range", "class id 7 but the data set has 3 classes"),
    ("orphan_label", "label without a frame"),
    ("rgb_label", "mode RGB"),
    ("no_clips", "no clips"),
])
def test_folder_errors_name_what_is_wrong_and_where(tmp_path, problem, match):
    root = write_folder(str(tmp_path), clips=1, frames=2, labelled=(0,))
    lab = os.path.join(root, "train", "cam-0", "labels", "000000.png")
    if problem == "no_classes":
        os.remove(os.path.join(root, "classes.json"))
    elif problem == "bad_class_id":
        json.dump([dict(FOLDER_CLASSES[0], id=1)], open(os.path.join(root, "classes.json"), "w"))
    elif problem == "bad_color":
        json.dump([dict(FOLDER_CLASSES[0], color=[1, 2])], open(os.path.join(root, "classes.json"), "w"))
    elif problem == "label_out_of_range":
        _png(lab, np.full((32, 64), 7, np.uint8))
    elif problem == "orphan_label":
        _png(os.path.join(root, "train", "cam-0", "labels", "000009.png"), np.zeros((32, 64), np.uint8))
    elif problem == "rgb_label":
        _png(lab, np.zeros((32, 64, 3), np.uint8))
    elif problem == "no_clips":
        import shutil
        shutil.rmtree(os.path.join(root, "train"))
    with pytest.raises(DatasetError, match=match) as e:
        ds = datasets.open_dataset("folder", root, "train", SIZE)
        ds.label(0, 0)
    if problem in ("label_out_of_range", "rgb_label"):
        assert lab in str(e.value)


# --------------------------------------------------------------------------- sparse evaluation

def test_sparse_evaluation_scores_the_labelled_frame_at_every_key_phase(tmp_path):
    from mpvss_ref.evaluation import evaluate_dataset
    from mpvss_ref.model import Mpvss, preset
    ds = datasets.open_dataset("cityscapes", write_cityscapes(str(tmp_path), snippets=(("ulm", "000003", 19),)), "train", SIZE)
    torch.manual_seed(0)
    model = Mpvss(preset("tiny", num_classes=19)).eval()
    res = evaluate_dataset(model, ds, [1, 3])
    valid = int((ds.label(0, 19) != 255).sum())
    conf = {k: np.asarray(v) for k, v in res["confusion"].items()}
    assert conf["mpvss_k1"].sum() == valid            # one phase: the labelled frame is a key frame
    assert conf["mpvss_k3"].sum() == 3 * valid        # key at distance 0, 1 and 2
    assert conf["zero_k3"].sum() == 3 * valid
    assert conf["mpvss_k1"].shape == (19, 19)


# --------------------------------------------------------------------------- train, resume, fine-tune, evaluate, export

TRAIN_FAST = ["--preset", "tiny", "--batch", "2", "--flow-batch", "2", "--crop", "64", "128", "--ckpt-every", "1",
              "--val-clips", "1", "--device", "cpu"]


def test_train_resume_finetune_with_other_classes_evaluate_and_export(tmp_path, monkeypatch, capsys):
    cs = write_cityscapes(str(tmp_path / "cs"))
    write_cityscapes(str(tmp_path / "cs"), split="val", snippets=(("lindau", "000000", 19),), seed=1)
    out = str(tmp_path / "run")
    base = ["--dataset", "cityscapes", "--data-root", cs, "--out", out] + TRAIN_FAST
    model, meta = train.main(base + ["--seg-steps", "1", "--flow-steps", "1"])
    assert model.cfg.num_classes == 19
    ck = torch.load(os.path.join(out, "checkpoint.pt"))
    assert [c["name"] for c in ck["classes"]][:2] == ["road", "sidewalk"] and ck["dataset"]["kind"] == "cityscapes"
    assert "val_flow" in ck["meta"] and ck["meta"]["val_flow"] is not None     # quick val ran on the val split

    # the same command again must not silently mix runs; --resume continues from the saved step
    with pytest.raises(SystemExit) as e:
        train.main(base + ["--seg-steps", "2", "--flow-steps", "2"])
    assert e.value.code == 2 and "--resume" in capsys.readouterr().err
    seg_before = torch.load(os.path.join(out, "seg_last.pt"))
    assert seg_before["step"] == 1 and "opt" in seg_before
    train.main(base + ["--seg-steps", "2", "--flow-steps", "2", "--resume", "--val-clips", "0"])
    log = open(os.path.join(out, "train.log")).read()
    assert "resumed segmentor at step 1" in log and "resumed flow at step 1" in log
    assert torch.load(os.path.join(out, "seg_last.pt"))["step"] == 2
    assert torch.load(os.path.join(out, "flow_last.pt"))["step"] == 2
    # --resume with another data set is refused, naming what differs
    folder = write_folder(str(tmp_path / "folder"))
    with pytest.raises(SystemExit):
        train.main(["--dataset", "folder", "--data-root", folder, "--out", out, "--resume"] + TRAIN_FAST)
    assert "dataset differs" in capsys.readouterr().err

    # fine-tune the 19-class checkpoint on a 3-class folder data set: class head re-initialised, the rest loaded
    init = torch.load(os.path.join(out, "checkpoint.pt"))
    ft_out = str(tmp_path / "ft")
    ft_argv = ["--dataset", "folder", "--data-root", folder, "--out", ft_out, "--init-from",
               os.path.join(out, "checkpoint.pt"), "--seg-steps", "1", "--flow-steps", "1"] + TRAIN_FAST[2:]
    ft_args = train.parse_args(ft_argv)
    cfg, ck0 = train.base_config(ft_args)
    from mpvss_ref.model import Mpvss
    import dataclasses
    fresh = Mpvss(dataclasses.replace(cfg, num_classes=3))
    msg, reinit = train.init_from_checkpoint(fresh, ck0, FOLDER_CLASSES)
    assert reinit and "class head re-initialised for 3 classes (checkpoint had 19" in msg
    sd = fresh.state_dict()
    assert sd["segmentor.class_head.weight"].shape == (4, cfg.hidden_dim)
    for k in ("segmentor.backbone.stem.0.weight", "flow.pixel_flow.weight", "segmentor.mask_head.layers.0.weight"):
        assert torch.equal(sd[k], init["model"][k]), k
    model, _ = train.main(ft_argv)
    assert model.cfg.num_classes == 3
    assert "class head re-initialised" in open(os.path.join(ft_out, "train.log")).read()
    with pytest.raises(SystemExit):
        train.main(ft_argv[:-4] + ["--preset", "tiny"] + ft_argv[-4:])   # --preset with --init-from: refused

    # evaluate and export the fine-tuned model; the manifest carries the folder data set's classes and colours
    monkeypatch.setattr(sys, "argv", ["evaluate.py", "--checkpoint", os.path.join(ft_out, "checkpoint.pt"), "--dataset",
                                      "folder", "--data-root", folder, "--split", "train", "--ks", "1", "3",
                                      "--out", str(tmp_path / "eval.json")])
    evaluate.main()
    ev = json.load(open(tmp_path / "eval.json"))
    assert set(ev["miou"]) == {"k1", "k3"} and set(ev["per_class_iou"]["mpvss_k1"]) == {"road", "lane", "other"}
    bundle = str(tmp_path / "bundle")
    monkeypatch.setattr(sys, "argv", ["export.py", "--checkpoint", os.path.join(ft_out, "checkpoint.pt"), "--out", bundle,
                                      "--metrics", str(tmp_path / "eval.json")])
    export.main()
    man = json.load(open(os.path.join(bundle, "manifest.json")))
    assert man["classes"] == FOLDER_CLASSES and man["name"] == "mpvss-folder"
    assert man["metrics"]["miou"] == ev["miou"]
    assert torch.load(os.path.join(bundle, "checkpoint.pt"))["classes"] == FOLDER_CLASSES
    # a class list that does not fit the model is refused
    monkeypatch.setattr(sys, "argv", ["export.py", "--checkpoint", os.path.join(ft_out, "checkpoint.pt"), "--out", bundle,
                                      "--dataset", "cityscapes"])
    with pytest.raises(SystemExit):
        export.main()
    assert "3 classes but the class list (--dataset cityscapes) has 19" in capsys.readouterr().err


def test_convert_cityscapes_to_the_folder_layout_round_trips(tmp_path):
    conv = convert_dataset
    cs = datasets.open_dataset("cityscapes", write_cityscapes(str(tmp_path / "cs")), "train", SIZE)
    out = str(tmp_path / "folder")
    conv.main(["--dataset", "cityscapes", "--data-root", str(tmp_path / "cs"), "--split", "train", "--out", out,
               "--height", "128", "--width", "256", "--context", "3", "--format", "png"])
    back = datasets.open_dataset("folder", out, "train", SIZE)
    assert back.classes == classdefs.cityscapes_classes()
    assert [c.id for c in back.clips] == [c.id for c in cs.clips]
    for c in range(len(cs)):
        assert back.clip_length(c) == 4 and back.labelled(c) == [3]
        assert np.array_equal(back.label(c, 3), cs.label(c, 19))
        assert np.array_equal(back.image(c, 0), cs.image(c, 16))
    with pytest.raises(SystemExit):
        conv.main(["--dataset", "cityscapes", "--data-root", str(tmp_path / "cs"), "--split", "train", "--out", out])


def test_train_cli_errors_name_what_is_wrong(tmp_path, capsys):
    missing = str(tmp_path / "nope")
    cases = [
        (["--dataset", "folder", "--data-root", missing], f"{missing}: folder data set root not found"),
        (["--dataset", "vspw"], "--dataset vspw needs --data-root DIR"),
        (["--init-from", missing], f"--init-from {missing}: no such checkpoint file"),
        (["--override", "widht=512"], "--override 'widht=512': expected key=int"),
    ]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda"], "--device cuda: torch sees no CUDA device"))
    for argv, msg in cases:
        with pytest.raises(SystemExit) as e:
            train.main(argv + ["--out", str(tmp_path / "run"), "--preset" if "--init-from" not in argv else "--seed",
                               "tiny" if "--init-from" not in argv else "0"])
        assert e.value.code == 2
        assert msg in capsys.readouterr().err, argv
