"""Repeated training runs of one setting: the seed of each repeat, one run trained and tested
(:func:`train_and_test`, what :func:`i2pa_core.train.pool.map_runs` calls), the training pairs a
run will touch, and a fingerprint of the test pairs that lets a table say "same test pairs" only
where it is true.

Repeat k of a setting trains with :func:`repeat_seed` (base seed, k): the initial weights, the
order and sample of the training pairs, the flipped labels of Table 2 and the augmentation all
change with it; the test pairs do not (they are drawn with the base seed), so two settings' runs
k share everything but the setting, and their difference is paired.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from i2pa_core.train.budget import sample_test_pairs
from i2pa_core.train.config import TrainConfig
from i2pa_core.train.data import PairBatchSampler
from i2pa_core.train.loop import train_model
from i2pa_core.metrics import runs_summary
from i2pa_core.train.results import split_scores, test_metrics

RUNS_DIR = "runs"   # under the train stage's out_dir: r<k>/best.pt of the main model's repeat k


def repeat_seed(base_seed: int, repeat: int) -> int:
    """Training seed of repeat ``repeat``: the base seed itself for repeat 0 (a single run is
    the run of before), then a hash of (base seed, repeat), so that the repeats of base seed 0
    and those of base seed 1 never coincide (``base + k`` would)."""
    if repeat < 0:
        raise ValueError(f"repeat must be >= 0, got {repeat}")
    if repeat == 0:
        return int(base_seed)
    return int(np.random.SeedSequence([int(base_seed), repeat, 0x5EED]).generate_state(1)[0])


def pairs_digest(test: pd.DataFrame) -> str:
    """16 hex digits of SHA-256 over the test pairs' ``a_post_id,b_post_id`` lines, in order:
    two runs were tested on the same pairs exactly when their digests agree."""
    text = "\n".join(f"{a},{b}" for a, b in zip(test["a_post_id"], test["b_post_id"]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunTask:
    """One run: its id and repeat, the full config, the pairs it trains, validates and is
    tested on (``split`` column), its training seed, and the test subset (size, base seed)."""

    run_id: str
    repeat: int
    cfg: TrainConfig
    pairs: pd.DataFrame
    seed: int
    test_pairs: int | None
    test_seed: int


def tasks_for(run_id: str, cfg: TrainConfig, pairs: pd.DataFrame, base_seed: int,
              repeats: int, test_pairs: int | None) -> list[RunTask]:
    """The ``repeats`` runs of one setting, ``<run_id>/<k>``, seeds by :func:`repeat_seed`."""
    return [RunTask(f"{run_id}/{k}", k, cfg, pairs, repeat_seed(base_seed, k), test_pairs,
                    base_seed) for k in range(repeats)]


def train_and_test(task: RunTask, posts: pd.DataFrame, truth: pd.DataFrame | None,
                   image_root: str | os.PathLike) -> dict:
    """Train one run (checkpoints in a temporary folder) and score its test pairs.

    Returns:
        ``run_id, repeat, seed``, the test accuracy with its n and 95 % bootstrap interval over
        the test pairs (and the oracle on simulated data; :func:`test_metrics`), the best epoch
        (1-based) with its validation accuracy (%), and ``test_digest``.
    """
    with tempfile.TemporaryDirectory(prefix="i2pa-run-") as out_dir:
        result = train_model(task.cfg, task.pairs, posts, image_root, out_dir, task.seed,
                             progress=False, live=False)
    test = sample_test_pairs(task.pairs, task.test_pairs, task.test_seed)
    scores = split_scores(result.model, test, posts, image_root, task.cfg.preset, "test")
    return {"run_id": task.run_id, "repeat": task.repeat, "seed": task.seed,
            **test_metrics(test, scores, truth), "best_epoch": result.best_epoch + 1,
            "best_val_accuracy": 100 * result.best_val_accuracy,
            "test_digest": pairs_digest(test)}


def used_training_pairs(pairs: pd.DataFrame, cfg: TrainConfig, seed: int) -> pd.DataFrame:
    """The training rows of ``pairs`` that :func:`train_model` with ``cfg`` and ``seed`` will
    read over its epochs (a budget of ``max_train_pairs`` per epoch reads a seeded part), by
    the batch sampler that training itself uses: the images that must exist, no more."""
    train = pairs[pairs["split"] == "train"]
    sampler = PairBatchSampler(len(train), cfg.batch_pairs, seed, cfg.swap_pairs,
                               cfg.max_train_pairs)
    used: set[int] = set()
    for epoch in range(cfg.epochs):
        sampler.set_epoch(epoch)
        for _, _, index, _ in sampler:
            used.update(int(k) for k in index)
    return train.iloc[sorted(used)]


def run_checkpoint(out_dir: str | os.PathLike, repeat: int) -> Path:
    """Best checkpoint of the main model's repeat ``repeat`` (0: ``out_dir/best.pt`` itself)."""
    out_dir = Path(out_dir)
    return out_dir / "best.pt" if repeat == 0 else out_dir / RUNS_DIR / f"r{repeat}" / "best.pt"


def train_and_keep(task: RunTask, posts: pd.DataFrame, image_root: str | os.PathLike,
                   out_dir: str | os.PathLike) -> pd.DataFrame:
    """Train one repeat of the main model, keep its best checkpoint at
    :func:`run_checkpoint` and return its test scores (``post_id, score``)."""
    run_dir = run_checkpoint(out_dir, task.repeat).parent
    result = train_model(task.cfg, task.pairs, posts, image_root, run_dir, task.seed,
                         progress=False, live=False)
    return split_scores(result.model, task.pairs, posts, image_root, task.cfg.preset, "test")


def main_repeats(cfg: TrainConfig, pairs: pd.DataFrame, posts: pd.DataFrame,
                 image_root: str | os.PathLike, out_dir: str | os.PathLike, base_seed: int,
                 progress: bool = True) -> list[pd.DataFrame]:
    """Repeats 1 to ``cfg.repeats - 1`` of the main model (run 0 is the stage's own run), all
    on every training pair at ``cfg``'s budget, ``cfg.repeat_workers`` at a time with one
    thread each; every repeat keeps its best checkpoint (no ``last.pt``).

    Returns:
        the test scores of each repeat, in order (``post_id, score``).
    """
    run_cfg = dataclasses.replace(cfg, save_last=False, threads=1)
    tasks = tasks_for("train", run_cfg, pairs, base_seed, cfg.repeats, None)[1:]
    from i2pa_core.train.pool import map_runs
    return map_runs(train_and_keep, tasks, dict(posts=posts, image_root=str(image_root),
                                               out_dir=str(out_dir)),
                    workers=cfg.repeat_workers, progress=progress, desc="repeats")


def runs_metrics(pairs: pd.DataFrame, run_scores: list[pd.DataFrame],
                 truth: pd.DataFrame | None) -> dict:
    """``runs`` of ``results/train/metrics.json``: the test accuracy (%) of every training run
    of the main model (run 0 first) on the same test pairs, summarised over runs
    (:func:`i2pa_core.metrics.runs_summary`: mean, t interval, sd, range), with n test pairs
    per run and what the interval covers."""
    per_run = [test_metrics(pairs, scores, truth) for scores in run_scores]
    summary = runs_summary([m["test_accuracy"] for m in per_run])
    return {**summary, "n": per_run[0]["test_n"],
            "interval": "t over training runs" if summary["runs"] > 1 else "none (one run)"}


def runs_table(run_scores: list[pd.DataFrame]) -> pd.DataFrame:
    """The test scores of every run side by side: ``post_id, r0, r1, ...`` (``paths.RUN_SCORES``)."""
    table = run_scores[0][["post_id"]].copy()
    for k, scores in enumerate(run_scores):
        table[f"r{k}"] = scores.set_index("post_id")["score"].loc[table["post_id"]].to_numpy()
    return table


def run_columns(table: pd.DataFrame) -> list[str]:
    """The run columns of :func:`runs_table`, in order."""
    return [c for c in table.columns if c.startswith("r") and c[1:].isdigit()]
