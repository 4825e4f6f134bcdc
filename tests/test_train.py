"""Training: pair orientation and noise, batching, checkpoints, resume, Ctrl-C, config."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from i2pa_core.model.inference import score_images
from PIL import Image

from i2pa_core.train import loop as train_module
from i2pa_core.io.checkpoint import load_checkpoint
from i2pa_core.config import ConfigError
from i2pa_core.model.scorer import load_scorer
from i2pa_core.model.presets import make_transform
from i2pa_core.train.loop import train_model
from i2pa_core.train.config import TrainConfig, train_config
from i2pa_core.train.data import (PairBatchSampler, PairBatches, PairSet, epoch_order,
                                  first_pairs, noise_flips, pair_set)

TINY = TrainConfig(backbone="tinycnn", epochs=3, batch_pairs=8, lr=1e-2, device="cpu",
                   threads=1, eval_batch=64)


def make_tiny_data(root, n_posts=48, size=16, seed=0):
    """Grey images whose brightness is the score; pairs (brighter, darker) in three splits."""
    rng = np.random.default_rng(seed)
    level = rng.permutation(np.linspace(20, 235, n_posts).astype(int))
    rows = []
    for i, value in enumerate(level):
        name = f"images/p{i:03d}.png"
        (root / "images").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (size, size), (int(value),) * 3).save(root / name)
        rows.append({"post_id": f"p{i:03d}", "image": name})
    posts = pd.DataFrame(rows)
    ids = posts["post_id"].to_numpy()
    a, b = ids[0::2], ids[1::2]
    brighter = level[0::2] > level[1::2]
    pairs = pd.DataFrame({"a_post_id": np.where(brighter, a, b),
                          "b_post_id": np.where(brighter, b, a)})
    pairs["split"] = ["train"] * 16 + ["val"] * 4 + ["test"] * (len(pairs) - 20)
    return pairs, posts


def test_first_pairs_keep_only_the_files_they_read():
    pairs = PairSet(("p0", "p1", "p2", "p3", "p4"), np.array([4, 0, 2]), np.array([1, 3, 0]))
    head = first_pairs(pairs, 2)  # pairs (p4, p1) and (p0, p3); p2 is read by pair 3 only
    assert head.paths == ("p0", "p1", "p3", "p4")
    assert [(head.paths[a], head.paths[b]) for a, b in zip(head.a_index, head.b_index)] == \
        [("p4", "p1"), ("p0", "p3")]
    assert first_pairs(pairs, 10).paths == pairs.paths


def test_noise_flips_exact_share_and_seeded():
    flips = noise_flips(1000, 0.2, seed=3)
    assert flips.sum() == 200 and np.array_equal(flips, noise_flips(1000, 0.2, seed=3))
    assert noise_flips(10, 0.0, seed=3).sum() == 0


def test_epoch_order_swaps_about_half_and_changes_per_epoch():
    order, swapped = epoch_order(10_000, seed=0, epoch=0, swap=True)
    assert sorted(order) == list(range(10_000)) and 0.47 < swapped.mean() < 0.53
    assert not np.array_equal(order, epoch_order(10_000, seed=0, epoch=1, swap=True)[0])
    assert not epoch_order(100, 0, 0, swap=False)[1].any()


def test_batch_labels_follow_orientation_and_noise(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    ps = pair_set(pairs, posts, tmp_path, "train")
    flips = np.zeros(len(ps), dtype=bool)
    flips[1] = True
    ds = PairBatches(ps, make_transform("official", False), 0, flips)
    batch = ds[(0, 0, np.array([0, 1, 2]), np.array([False, False, True]))]
    # pair 0 as (A, B): 1; pair 1 as (A, B) but its label flipped: 0; pair 2 as (B, A): 0
    assert batch["target"].tolist() == [1.0, 0.0, 0.0]
    brightness = batch["images"].float().mean(dim=(1, 2, 3))
    first, second = brightness[batch["first"]], brightness[batch["second"]]
    assert (first > second).tolist() == [True, True, False]


def test_images_shared_by_pairs_are_decoded_once(tmp_path):
    _, posts = make_tiny_data(tmp_path)
    shared = pd.DataFrame({"a_post_id": ["p000", "p000", "p002"],
                           "b_post_id": ["p001", "p002", "p001"], "split": "train"})
    ds = PairBatches(pair_set(shared, posts, tmp_path), make_transform("official", False), 0)
    batch = ds[(0, 0, np.arange(3), np.zeros(3, dtype=bool))]
    assert batch["images"].shape[0] == 3  # 3 distinct images for 6 slots
    # images in order of first appearance in (a..., b...): p000, p002, p001
    assert batch["first"].tolist() == [0, 0, 1] and batch["second"].tolist() == [2, 1, 2]


def test_sampler_shares_make_up_the_single_process_batch():
    single = list(PairBatchSampler(21, 8, seed=1))
    shares = [list(PairBatchSampler(21, 8, seed=1, rank=r, world=2)) for r in range(2)]
    assert len(single) == len(shares[0]) == len(shares[1]) == 3
    for k, (_, _, index, swapped) in enumerate(single):
        union = np.concatenate([shares[0][k][2], shares[1][k][2]])
        assert sorted(union) == sorted(index)
    assert PairBatchSampler(17, 8, seed=1, world=2).pairs_per_epoch() == 16  # tail of 1 dropped


def test_training_learns_and_checkpoints_load_weights_only(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    result = train_model(TINY, pairs, posts, tmp_path, tmp_path / "out", seed=0, progress=False,
                         live=True)
    assert list(result.history["epoch"]) == [0, 1, 2]
    state = torch.load(result.last_checkpoint_path, weights_only=True)
    assert state["epoch"] == 2 and set(state["rng"]) == {"torch_cpu", "seed"}
    model, meta = load_scorer(result.best_checkpoint_path)
    assert meta["backbone"] == "tinycnn"
    assert result.best_epoch == int(result.history["val_accuracy"].idxmax())
    assert (tmp_path / "out" / "dvclive" / "metrics.json").is_file()
    # It learns: the loss falls, and the best weights order the held-out test pairs (brighter
    # first) far above chance. Before training, the same network is near chance.
    losses = result.history["train_loss"].to_numpy()
    assert losses[-1] < losses[0]
    test = pairs[pairs["split"] == "test"]
    paths = {pid: tmp_path / img for pid, img in zip(posts["post_id"], posts["image"])}
    def accuracy(net):
        a = score_images(net, [paths[p] for p in test["a_post_id"]], TINY.preset)
        b = score_images(net, [paths[p] for p in test["b_post_id"]], TINY.preset)
        return float(np.mean(a > b))
    assert accuracy(model) >= 0.9 > accuracy(train_module.initial_model(TINY, 0)) + 0.2


def _weights(path):
    return load_checkpoint(path)["model"]


def test_resume_after_interruption_gives_the_same_weights(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    full = train_model(TINY, pairs, posts, tmp_path, tmp_path / "full", 0, False, live=False)
    short = TrainConfig(**{**TINY.__dict__, "epochs": 1})
    train_model(short, pairs, posts, tmp_path, tmp_path / "part", 0, False, live=False)
    resumed = train_model(TINY, pairs, posts, tmp_path, tmp_path / "part", 0, False, resume=True,
                          live=False)
    a, b = _weights(full.last_checkpoint_path), _weights(resumed.last_checkpoint_path)
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)
    assert resumed.history["val_accuracy"].tolist() == full.history["val_accuracy"].tolist()


def test_ctrl_c_leaves_usable_checkpoints(tmp_path, monkeypatch):
    pairs, posts = make_tiny_data(tmp_path)
    real_step, calls = train_module.train_step, []

    def step(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # second epoch (2 batches per epoch)
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_step", step)
    with pytest.raises(KeyboardInterrupt):
        train_model(TINY, pairs, posts, tmp_path, tmp_path / "out", 0, False, live=False)
    assert load_checkpoint(tmp_path / "out" / "last.pt")["epoch"] == 0
    model, meta = load_scorer(tmp_path / "out" / "interrupted.pt")
    assert meta["interrupted"] and model(torch.rand(2, 3, 16, 16)).shape == (2,)


def test_without_save_last_only_the_best_checkpoint_is_written(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    cfg = dataclasses.replace(TINY, save_last=False)
    result = train_model(cfg, pairs, posts, tmp_path, tmp_path / "out", 0, False, live=False)
    assert not (tmp_path / "out" / "last.pt").exists()
    assert (tmp_path / "out" / "best.pt").is_file() and result.model is not None


def test_train_config_parses_and_fails_loudly():
    cfg = train_config({"epochs": 3, "lr": 1})
    assert cfg.epochs == 3 and cfg.lr == 1.0 and cfg.backbone == "smallcnn"
    paper = train_config({}, profile="paper")
    assert (paper.backbone, paper.pretrained, paper.preset, paper.lr, paper.lr_head) == \
        ("resnet50", True, "paper", 1e-5, 1e-4)
    with pytest.raises(ConfigError, match="unknown key"):
        train_config({"epoch": 3})
    with pytest.raises(ConfigError, match="backbone"):
        train_config({"backbone": "resnet9000"})
    with pytest.raises(ConfigError, match="cache_mib"):
        train_config({"cache_mib": -1})


def test_two_learning_rates_and_decay():
    cfg = TrainConfig(backbone="tinycnn", lr=1e-5, lr_head=1e-4, lr_decay=0.95)
    model = train_module.initial_model(cfg, 0)
    optimizer, scheduler = train_module.make_optimizer(model, cfg)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-5, 1e-4]
    assert optimizer.param_groups[0]["weight_decay"] == 1e-4
    optimizer.step()
    scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.95e-5, 0.95e-4])


@pytest.mark.gpu
def test_cuda_bf16_step(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    pairs, posts = make_tiny_data(tmp_path)
    cfg = TrainConfig(**{**TINY.__dict__, "device": "cuda", "epochs": 1})
    result = train_model(cfg, pairs, posts, tmp_path, tmp_path / "out", 0, False, live=False)
    assert np.isfinite(result.history["train_loss"]).all()


def test_decoded_image_cache_keeps_batches_identical_within_its_budget(tmp_path):
    pairs, posts = make_tiny_data(tmp_path)
    ps = pair_set(pairs, posts, tmp_path, "train")
    transform = make_transform("synthetic", train=True)
    budget = 5 * 16 * 16 * 3  # five 16x16 RGB images
    plain, cached = PairBatches(ps, transform, 0), PairBatches(ps, transform, 0, cache_bytes=budget)
    for epoch in range(2):  # epoch 0 fills the cache, epoch 1 reads from it
        sampler = PairBatchSampler(len(ps), 8, seed=0)
        sampler.set_epoch(epoch)
        for item in sampler:
            expected, got = plain[item], cached[item]
            assert all(torch.equal(expected[key], got[key]) for key in expected)
    assert cached.cached_bytes == budget and len(cached._cache) == 5  # full, never beyond
    assert plain.cached_bytes == 0 and not plain._cache  # off by default
