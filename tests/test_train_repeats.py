"""Repeated runs: the seed of each repeat, the test-pair digest, the training pairs a budget
reads (checked by training with every other training image missing), the run pool's order and
thread count, and results that do not depend on the number of workers."""

import hashlib

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from i2pa_core.train.config import train_config
from i2pa_core.train.pool import map_runs
from i2pa_core.train.repeats import (RunTask, repeat_seed, tasks_for, pairs_digest,
                                     train_and_test, used_training_pairs)


def test_repeat_zero_is_the_base_seed_and_repeats_never_collide_across_bases():
    assert [repeat_seed(b, 0) for b in (0, 1, 7)] == [0, 1, 7]
    seeds = {(b, k): repeat_seed(b, k) for b in range(4) for k in range(4)}
    assert len(set(seeds.values())) == 16          # base + k would give 1 for (0, 1) and (1, 0)
    assert repeat_seed(0, 1) == repeat_seed(0, 1)  # deterministic
    expected = int(np.random.SeedSequence([3, 2, 0x5EED]).generate_state(1)[0])
    assert repeat_seed(3, 2) == expected
    with pytest.raises(ValueError):
        repeat_seed(0, -1)


def test_pairs_digest_is_sha256_of_the_pair_lines_in_order():
    test = pd.DataFrame({"a_post_id": ["x", "y"], "b_post_id": ["u", "v"]})
    assert pairs_digest(test) == hashlib.sha256(b"x,u\ny,v").hexdigest()[:16]
    assert pairs_digest(test.iloc[::-1]) != pairs_digest(test)
    assert pairs_digest(test.assign(split="test")) == pairs_digest(test)


def _post(name):
    return f"p{name}"


def _platform(tmp_path, n_train=60, n_val=8, n_test=10):
    """A pairs table whose A image is brighter than its B image (a learnable toy), posts with
    image paths; no image written yet."""
    n = n_train + n_val + n_test
    pairs = pd.DataFrame({"a_post_id": [_post(f"a{k}") for k in range(n)],
                          "b_post_id": [_post(f"b{k}") for k in range(n)],
                          "split": ["train"] * n_train + ["val"] * n_val + ["test"] * n_test})
    ids = [*pairs["a_post_id"], *pairs["b_post_id"]]
    posts = pd.DataFrame({"post_id": ids, "image": [f"{i}.png" for i in ids]})
    truth = pd.DataFrame({"post_id": ids, "q": [1.0 if i.startswith("pa") else 0.0
                                                for i in ids]})
    return pairs, posts, truth


def _draw(root, post_ids):
    rng = np.random.default_rng(0)
    for post_id in post_ids:
        level = 200 if post_id.startswith("pa") else 60
        pixels = np.clip(rng.normal(level, 20, (12, 12, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"{post_id}.png")


TINY = {"backbone": "tinycnn", "batch_pairs": 8, "epochs": 2, "max_train_pairs": 16,
        "device": "cpu", "eval_batch": 32, "threads": 1, "save_last": False}


def test_used_training_pairs_are_exactly_what_training_reads(tmp_path):
    pairs, posts, truth = _platform(tmp_path)
    cfg = train_config(TINY)
    used = used_training_pairs(pairs, cfg, seed=5)
    assert 16 < len(used) <= 32 and set(used["split"]) == {"train"}
    assert used.index.is_monotonic_increasing
    held = pairs[pairs["split"] != "train"]
    _draw(tmp_path, [*used["a_post_id"], *used["b_post_id"], *held["a_post_id"],
                     *held["b_post_id"]])   # every other training image is missing
    task = RunTask("toy/0", 0, cfg, pairs, 5, None, 0)
    record = train_and_test(task, posts, truth, tmp_path)   # would fail on a missing image
    assert record["test_n"] == 10 and record["seed"] == 5 and record["oracle_accuracy"] == 100.0
    assert record["test_digest"] == pairs_digest(pairs[pairs["split"] == "test"])
    other = used_training_pairs(pairs, cfg, seed=6)
    assert set(other.index) != set(used.index)      # another seed reads another sample


def _threads_and_sum(task, offset):
    return torch.get_num_threads(), task + offset


def test_pool_keeps_the_order_gives_shared_inputs_and_one_thread():
    before = torch.get_num_threads()
    one = map_runs(_threads_and_sum, [3, 1, 2], {"offset": 10}, workers=1, progress=False)
    assert one == [(1, 13), (1, 11), (1, 12)] and torch.get_num_threads() == before
    with pytest.raises(ValueError, match="workers"):
        map_runs(_threads_and_sum, [1], {"offset": 0}, workers=0)


@pytest.mark.slow
def test_pool_in_two_processes_equals_one_and_training_does_not_depend_on_workers(tmp_path):
    assert map_runs(_threads_and_sum, [3, 1, 2], {"offset": 10}, workers=2,
                    progress=False) == [(1, 13), (1, 11), (1, 12)]
    pairs, posts, truth = _platform(tmp_path)
    _draw(tmp_path, posts["post_id"])
    tasks = tasks_for("toy", train_config(TINY), pairs, 0, 3, 6)
    assert [t.seed for t in tasks] == [0, repeat_seed(0, 1), repeat_seed(0, 2)]
    shared = {"posts": posts, "truth": truth, "image_root": tmp_path}
    one, two = (map_runs(train_and_test, tasks, shared, workers=w, progress=False)
                for w in (1, 2))
    assert one == two and [r["run_id"] for r in one] == ["toy/0", "toy/1", "toy/2"]
    assert len({r["test_digest"] for r in one}) == 1 and {r["test_n"] for r in one} == {6}


def test_main_repeats_keep_their_checkpoints_and_the_runs_table_lines_up(tmp_path):
    from i2pa_core.model.scorer import load_scorer
    from i2pa_core.train.repeats import main_repeats, run_checkpoint
    pairs, posts, truth = _platform(tmp_path)
    _draw(tmp_path, posts["post_id"])
    cfg = train_config({**TINY, "repeats": 3, "repeat_workers": 1})
    out = tmp_path / "models"
    scores = main_repeats(cfg, pairs, posts, tmp_path, out, 0, progress=False)
    assert len(scores) == 2                                   # runs 1 and 2; run 0 is the stage's
    for k in (1, 2):
        assert run_checkpoint(out, k) == out / "runs" / f"r{k}" / "best.pt"
        assert run_checkpoint(out, k).is_file()
        assert not (out / "runs" / f"r{k}" / "last.pt").exists()
        assert load_scorer(run_checkpoint(out, k))[1]["seed"] == repeat_seed(0, k)
    assert run_checkpoint(out, 0) == out / "best.pt"
    test_ids = sorted({*pairs.loc[pairs["split"] == "test", "a_post_id"],
                       *pairs.loc[pairs["split"] == "test", "b_post_id"]})
    assert sorted(scores[0]["post_id"]) == test_ids


def test_runs_table_and_metrics_by_hand():
    from i2pa_core.train.repeats import run_columns, runs_metrics, runs_table
    pairs = pd.DataFrame({"a_post_id": ["a1", "a2"], "b_post_id": ["b1", "b2"],
                          "split": ["test", "test"]})
    run0 = pd.DataFrame({"post_id": ["a1", "a2", "b1", "b2"], "score": [1.0, 1.0, 0.0, 0.0]})
    run1 = pd.DataFrame({"post_id": ["b2", "b1", "a2", "a1"], "score": [5.0, 0.0, 0.0, 1.0]})
    table = runs_table([run0, run1])
    assert list(table.columns) == ["post_id", "r0", "r1"] == ["post_id", *run_columns(table)]
    assert table["r1"].tolist() == [1.0, 0.0, 0.0, 5.0]        # aligned on run 0's post order
    out = runs_metrics(pairs, [run0, run1], None)
    # Run 0: both pairs right (100 %); run 1: a1 > b1 right, a2 < b2 wrong (50 %).
    # Mean 75, sd 35.355, t_0.975,1 = 12.706205: half-width 12.706205 * 35.355339 / sqrt(2) = 317.655.
    assert out["values"] == [100.0, 50.0] and out["mean"] == 75.0 and out["n"] == 2
    assert out["ci_high"] == pytest.approx(75 + 317.655, abs=1e-2)
    assert out["interval"] == "t over training runs" and out["runs"] == 2
