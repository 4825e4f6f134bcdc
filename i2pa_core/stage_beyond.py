"""Glue for the ``beyond`` stage (beyond the paper, simulated data): retrains over the T x sigma
grid of the PDIP rule, the random vs the user-disjoint split, and the three losses.

Every run gets the same budget and starts from scratch; only its pairs or its loss differ.

* **Grid cell (T, sigma)**: the PDIPs of the cell's rule (:func:`~.pairs.generate_pdips`). A
  pair is kept for training only if neither post is in the default validation or test PDIPs,
  and every cell is tested on the same seeded sample of the default test PDIPs, so cells compare
  pair by pair (exact McNemar against the reference run). Eq. 6 reads ``P >= T`` as
  ``S_A - S_B >= sqrt(2) sigma Phi^-1(T)``: the pairs depend on T and sigma only through that
  gap (:func:`gap`), so two cells with one gap are the same pairs.
* **Split**: the default PDIPs re-split (``pairs.rules.split``), each run tested on a sample of
  its own test split; the oracle on those pairs says how hard each test set is.
* **Loss**: the default pairs and test sample, the ``train`` section's loss replaced.

A run trains on a seeded sample of ``epochs x max_train_pairs`` of its training PDIPs (what it
can use at the budget), so only those images are needed: the ones the ``render`` stage did not
draw are rendered into a scratch folder (:func:`render_missing`).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri
from tqdm.auto import tqdm

from .config import ConfigError, from_mapping
from .i2pa_list import paired_post_ids
from .losses import LOSSES
from .metrics import mcnemar_test, pair_outcomes
from .pairs import PDIPConfig, generate_pdips
from .pairs_precision import label_precision
from .pairs_split import split_pairs
from .render import render_images
from .stage_ablate import BUDGET_KEYS, Budget, sample_test_pairs
from .stage_render import pair_posts
from .stage_train import split_scores, test_metrics
from .train import train_model
from .train_config import TrainConfig, train_config

SPLITS = ("random", "user")


@dataclass(frozen=True)
class BeyondStage:
    """The ``beyond`` section: one budget for every run, the grid, the splits and the losses."""

    budget: Budget = field(default_factory=lambda: Budget(1, 2048, 500, 1000))
    thresholds: tuple[float, ...] = (0.8, 0.95, 0.99)
    sigmas: tuple[float, ...] = (0.2, 0.3, 0.5)
    splits: tuple[str, ...] = SPLITS
    losses: tuple[str, ...] = tuple(LOSSES)
    repeats: int = 2  # the reference retrained with this many other seeds: the training noise

    def __post_init__(self):
        if self.repeats < 0:
            raise ValueError(f"repeats: must be >= 0, got {self.repeats}")
        for t in self.thresholds:
            if not 0.5 < t < 1.0:
                raise ValueError(f"thresholds: {t} is not in (0.5, 1)")
        for s in self.sigmas:
            if not (s > 0 and math.isfinite(s)):
                raise ValueError(f"sigmas: {s} is not a positive number")
        for name, chosen, allowed in (("splits", self.splits, SPLITS),
                                      ("losses", self.losses, tuple(LOSSES))):
            bad = [c for c in chosen if c not in allowed]
            if bad:
                raise ValueError(f"{name}: {bad[0]!r} is not one of {', '.join(allowed)}")


@dataclass(frozen=True)
class RunPairs:
    """A run's pairs at the budget, and how many training PDIPs it had before the sample."""

    pairs: pd.DataFrame
    available: int


@dataclass(frozen=True)
class BeyondRun:
    """One retrain: its PDIP rule (T, sigma, split), its loss and the studies that show it."""

    name: str
    threshold: float
    sigma: float
    split: str
    loss: str
    studies: tuple[str, ...]
    seed_offset: int = 0  # training seed = base seed + offset (the pairs do not change)


def beyond_stage(section) -> BeyondStage:
    """Parse the ``beyond`` section (unknown keys and bad values are named errors)."""
    return from_mapping(BeyondStage, section, "beyond")


def gap(threshold: float, sigma: float) -> float:
    """Smallest log-likes gap of a PDIP: ``P >= T  <=>  S_A - S_B >= sqrt(2) sigma Phi^-1(T)``."""
    return float(math.sqrt(2.0) * sigma * ndtri(threshold))


def plan_runs(stage: BeyondStage, rules: PDIPConfig, loss: str) -> list[BeyondRun]:
    """The runs of the three studies, the reference (the default rule and loss) first; a run
    that two studies share (the reference is in all three) is trained once. The reference's
    repeats with other training seeds come last: how far apart two trainings of one setting
    land is the yardstick for the differences between settings."""
    wanted = [((rules.threshold, rules.sigma, rules.split, loss), "reference")]
    wanted += [((t, s, rules.split, loss), "grid") for t in stage.thresholds for s in stage.sigmas]
    wanted += [((rules.threshold, rules.sigma, split, loss), "split") for split in stage.splits]
    wanted += [((rules.threshold, rules.sigma, rules.split, name), "loss")
               for name in stage.losses]
    studies: dict[tuple, list[str]] = {}
    for key, study in wanted:
        studies.setdefault(key, [])
        if study not in studies[key]:
            studies[key].append(study)
    runs = []
    for (t, s, split, name), found in studies.items():
        label = ("reference" if "reference" in found else
                 f"T{t:g}_sigma{s:g}" if "grid" in found else
                 f"split_{split}" if "split" in found else f"loss_{name}")
        runs.append(BeyondRun(label, t, s, split, name, tuple(found)))
    reference = runs[0]
    runs += [replace(reference, name=f"reference_seed+{k}", seed_offset=k)
             for k in range(1, stage.repeats + 1)]
    return runs


def run_pairs(run: BeyondRun, pdips: pd.DataFrame, posts: pd.DataFrame, rules: PDIPConfig,
              seed: int) -> pd.DataFrame:
    """The pairs table (with ``split``) a run trains, validates and is tested on.

    With the default split, the training pairs are the run's PDIPs that share no post with the
    default validation and test PDIPs, which are kept as they are (the common test set). With
    another split, the run's PDIPs are re-split and tested on their own test split.
    """
    same_rule = (run.threshold, run.sigma) == (rules.threshold, rules.sigma)
    cfg = replace(rules, threshold=run.threshold, sigma=run.sigma, split=run.split)
    candidates = (pdips.drop(columns="split") if same_rule
                  else generate_pdips(posts, cfg, seed).pairs.drop(columns="split"))
    if run.split != rules.split:
        return split_pairs(candidates, cfg, np.random.default_rng(seed))
    held = pdips[pdips["split"] != "train"]
    held_ids = pd.Index(paired_post_ids(held))
    free = ~(candidates["a_post_id"].isin(held_ids) | candidates["b_post_id"].isin(held_ids))
    train = candidates[free.to_numpy()].assign(split="train")
    return pd.concat([train, held], ignore_index=True)


def budget_pairs(pairs: pd.DataFrame, budget: Budget, seed: int) -> pd.DataFrame:
    """What a run can use at the budget: a seeded sample of ``epochs x max_train_pairs``
    training pairs, the first ``max_val_pairs`` validation pairs (those the trainer reads) and
    :func:`~.stage_ablate.sample_test_pairs` of the test pairs."""
    train = pairs[pairs["split"] == "train"]
    if budget.max_train_pairs is not None and len(train) > budget.epochs * budget.max_train_pairs:
        rng = np.random.default_rng([seed, 0xBE70])
        keep = rng.choice(len(train), size=budget.epochs * budget.max_train_pairs, replace=False)
        train = train.iloc[np.sort(keep)]
    val = pairs[pairs["split"] == "val"].iloc[:budget.max_val_pairs]
    test = sample_test_pairs(pairs, budget.test_pairs, seed)
    return pd.concat([train, val, test], ignore_index=True)


def render_missing(posts: pd.DataFrame, truth: pd.DataFrame, tables, rendered_ids,
                   scratch: str | os.PathLike, image_size: int,
                   cast_strength: float) -> pd.DataFrame:
    """Render the images of the posts of ``tables`` that are not among ``rendered_ids`` into
    ``scratch`` and return ``posts`` with those rows' ``image`` made absolute (an absolute path
    ignores the image root it is joined with). ``posts`` and ``truth`` are row-aligned."""
    needed = pd.concat([t[["a_post_id", "b_post_id"]] for t in tables], ignore_index=True)
    chosen_posts, chosen_truth = pair_posts(posts, truth, needed)
    new = ~chosen_posts["post_id"].isin(pd.Index(rendered_ids)).to_numpy()
    if not new.any():
        return posts
    render_images(chosen_posts[new], chosen_truth[new], scratch, image_size, cast_strength,
                  progress=False)
    root = Path(scratch).resolve()
    moved = dict(zip(chosen_posts["post_id"][new], (str(root / p)
                                                     for p in chosen_posts["image"][new])))
    return posts.assign(image=posts["post_id"].map(moved).fillna(posts["image"]))


def run_tables(runs: list[BeyondRun], pdips: pd.DataFrame, posts: pd.DataFrame,
               rules: PDIPConfig, budget: Budget, seed: int) -> dict[str, RunPairs]:
    """:func:`run_pairs` then :func:`budget_pairs` of every run, by run name."""
    out = {}
    for run in runs:
        pairs = run_pairs(run, pdips, posts, rules, seed)
        out[run.name] = RunPairs(budget_pairs(pairs, budget, seed),
                                 int((pairs["split"] == "train").sum()))
    return out


def run_train_config(train_section, budget: Budget, run: BeyondRun) -> TrainConfig:
    """The ``train`` section with the stage's budget and the run's loss (never resumed)."""
    merged = {**(train_section or {}), **{k: getattr(budget, k) for k in BUDGET_KEYS},
              "loss": run.loss, "save_last": False}
    try:
        return train_config(merged)
    except ConfigError as exc:
        raise ConfigError(f"beyond ({run.name}: train section + budget + loss): {exc}") from None


def train_and_test(run: BeyondRun, data: RunPairs, posts: pd.DataFrame,
                   truth: pd.DataFrame | None, cfg: TrainConfig, image_root,
                   seed: int) -> tuple[dict, pd.DataFrame]:
    """Train one run and score its test pairs: (its record, the test pairs with ``correct``)."""
    pairs = data.pairs
    with tempfile.TemporaryDirectory(prefix=f"i2pa-beyond-{run.name}-") as out_dir:
        result = train_model(cfg, pairs, posts, image_root, out_dir, seed + run.seed_offset,
                             progress=False, live=False)
    test = pairs[pairs["split"] == "test"]
    scores = split_scores(result.model, test, posts, image_root, cfg.preset, "test")
    lookup = scores.set_index("post_id")["score"]
    outcome = pair_outcomes(lookup.loc[test["a_post_id"]].to_numpy(),
                            lookup.loc[test["b_post_id"]].to_numpy())
    train = pairs[pairs["split"] == "train"]
    record = {"run": run.name, "studies": list(run.studies), "threshold": run.threshold,
              "sigma": run.sigma, "gap": gap(run.threshold, run.sigma), "split": run.split,
              "loss": run.loss, "seed_offset": run.seed_offset,
              "train_pairs_available": data.available,
              "train_pool": int(len(train)), "epochs": cfg.epochs,
              "best_val_accuracy": 100 * result.best_val_accuracy,
              **test_metrics(pairs, scores, truth)}
    if truth is not None and len(train):
        record.update({f"pool_{k}": v for k, v in label_precision(train, truth).items()})
    return record, test[["a_post_id", "b_post_id"]].assign(correct=outcome == 1.0)


def run_all(runs: list[BeyondRun], data: dict[str, RunPairs], posts: pd.DataFrame,
            truth: pd.DataFrame | None, train_section, budget: Budget, image_root,
            seed: int, progress: bool = True) -> list[dict]:
    """Train and test every run (reference first), then :func:`compare_to_reference`."""
    records, outcomes = [], {}
    for run in tqdm(runs, desc="beyond runs", unit="run", disable=not progress):
        cfg = run_train_config(train_section, budget, run)
        record, outcomes[run.name] = train_and_test(run, data[run.name], posts, truth, cfg,
                                                    image_root, seed)
        records.append(record)
    return compare_to_reference(records, outcomes)


def compare_to_reference(records: list[dict], outcomes: dict[str, pd.DataFrame]) -> list[dict]:
    """Add the exact McNemar test against the reference (the first record) to every run tested
    on the same pairs (``mcnemar_b``: pairs only the run gets right, ``mcnemar_c``: only the
    reference; ``mcnemar_p_value``)."""
    ref = outcomes[records[0]["run"]][["a_post_id", "b_post_id"]].reset_index(drop=True)
    out = []
    for rec in records:
        mine = outcomes[rec["run"]].reset_index(drop=True)
        rec = dict(rec, common_test=bool(mine[["a_post_id", "b_post_id"]].equals(ref)))
        if rec["common_test"] and rec["run"] != records[0]["run"]:
            test = mcnemar_test(mine["correct"].to_numpy(),
                                outcomes[records[0]["run"]]["correct"].to_numpy())
            rec.update({f"mcnemar_{k}": v for k, v in test.items()})
        out.append(rec)
    return out
