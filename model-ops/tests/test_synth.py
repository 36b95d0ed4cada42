import numpy as np

from mpvss_ref import data, synth


def test_generator_is_deterministic_by_seed():
    a = synth.render_clip(300005, 128, 256, 6)
    b = synth.render_clip(300005, 128, 256, 6)
    c = synth.render_clip(300006, 128, 256, 6)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert np.array_equal(a.flow, b.flow)
    assert not np.array_equal(a.images, c.images)


def test_labels_classes_and_shapes():
    clip = synth.render_clip(100000, 128, 256, 5)
    assert clip.images.shape == (5, 128, 256, 3) and clip.images.dtype == np.uint8
    assert clip.labels.shape == (5, 128, 256) and clip.labels.dtype == np.uint8
    assert synth.NUM_CLASSES >= 7
    assert clip.labels.max() < synth.NUM_CLASSES
    present = set(np.unique(clip.labels).tolist())
    assert {synth.ROAD, synth.SIDEWALK, synth.BUILDING, synth.SKY} <= present


def test_splits_are_disjoint():
    tr = set(synth.split_seeds("train", 1000))
    va = set(synth.split_seeds("val", 1000))
    te = set(synth.split_seeds("test", 1000))
    assert not (tr & va) and not (tr & te) and not (va & te)


def test_motion_is_known_and_nontrivial():
    clip = synth.render_clip(300001, 128, 256, 8, pairs=[(5, 0)])
    stats = synth.motion_stats([clip.flow])
    assert stats["mean_px"] > 0.5 and stats["p95_px"] >= stats["mean_px"]
    # displacement over 5 frames is larger than over one
    assert np.abs(clip.extra[(5, 0)]).mean() > np.abs(clip.flow[4]).mean()


def test_objects_move_on_their_own():
    """Object pixels move differently from the background (independent motion)."""
    clip = synth.render_clip(300002, 128, 256, 4)
    f = clip.flow[0]
    obj = np.isin(clip.labels[0], [synth.CAR, synth.PERSON])
    assert obj.any()
    bg_dx = np.median(f[~obj][:, 0])
    assert np.abs(f[obj][:, 0] - bg_dx).max() > 0.5


def test_folder_layout_roundtrip(tmp_path):
    clip = synth.render_clip(300003, 128, 256, 3)
    d = tmp_path / "test-300003"
    data.write_clip(clip, str(d), "png")
    assert sorted(p.name for p in (d / "frames").iterdir()) == ["000000.png", "000001.png", "000002.png"]
    images, labels = data.read_clip_dir(str(d))
    assert np.array_equal(images, clip.images) and np.array_equal(labels, clip.labels)
