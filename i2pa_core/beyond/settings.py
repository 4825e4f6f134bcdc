"""Glue for the ``beyond`` stage (beyond the paper, simulated data): retrains over the T x sigma
grid of the PDIP rule, the random vs the user-disjoint split, and the three losses.

The **reference** setting (the default rule, split and loss) is not retrained here: its runs
are those of the ``ablate`` run ``beyond.reference`` (Table 2's 0 % runs, also Table 3's small
CNN row), read from ``results/ablate/<reference>/``. Every other setting is trained at that
run's budget, with its config (only the pairs or the loss replaced), as many times as it has
runs; repeat k uses the reference's seed of repeat k (initial weights, order and sample of the
training pairs, augmentation), so setting and reference are paired run by run.

* **Grid cell (T, sigma)**: the PDIPs of the cell's rule
  (:func:`~i2pa_core.pdip.sampler.generate_pdips`). A pair is kept for training only if
  neither post (with ``pairs.rules.split: user``, neither user) is in the default validation
  or test PDIPs, and every cell is tested on the reference's test pairs, so cells compare pair
  by pair. Eq. 6 reads ``P >= T`` as ``S_A - S_B >= sqrt(2) sigma Phi^-1(T)``: the pairs
  depend on T and sigma only through that gap (:func:`gap`), so two cells with one gap are
  the same pairs.
* **Split**: the default PDIPs re-split (``pairs.rules.split``), each setting tested on a sample
  of its own test split; the oracle on those pairs says how hard each test set is.
* **Loss**: the default pairs and test pairs, the reference's loss replaced.

A run reads only the training pairs that its budget reaches
(:func:`~i2pa_core.train.repeats.used_training_pairs`), so only those images are needed: the
ones the ``render`` stage did not draw are rendered into a scratch folder
(:func:`render_missing`). Training itself is in :mod:`i2pa_core.beyond.runs`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from i2pa_core.config import from_mapping
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.model.losses import LOSSES
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.pdip.precision import label_precision
from i2pa_core.pdip.split import split_pairs
from i2pa_core.simulate.pair_images import render_pair_images

SPLITS = ("random", "user")


@dataclass(frozen=True)
class BeyondStage:
    """The ``beyond`` section: the ``ablate`` run that is the reference (its budget, config
    and runs serve every setting), the grid, the splits and the losses."""

    reference: str = "noise_00"
    thresholds: tuple[float, ...] = (0.8, 0.95, 0.99)
    sigmas: tuple[float, ...] = (0.2, 0.3, 0.5)
    splits: tuple[str, ...] = SPLITS
    losses: tuple[str, ...] = tuple(LOSSES)
    repeats: int | None = None   # runs per setting: the reference's first k (None: all)
    workers: int = 2   # runs trained at once, one process and one thread each

    def __post_init__(self):
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.repeats is not None and self.repeats < 2:
            raise ValueError(f"repeats must be None (all of the reference's runs) or >= 2, "
                             f"got {self.repeats}")
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
    """A setting's pairs (``split`` column: its training PDIPs, validation and test pairs), how
    many training PDIPs it has and, on simulated data, their label precision
    (:func:`~i2pa_core.pdip.precision.label_precision`)."""

    pairs: pd.DataFrame
    available: int
    precision: dict | None = None


@dataclass(frozen=True)
class BeyondRun:
    """One run: its setting (name, PDIP rule T, sigma, split, loss, the studies that show it)
    and its repeat k (the reference's training seed of repeat k)."""

    name: str
    threshold: float
    sigma: float
    split: str
    loss: str
    studies: tuple[str, ...]
    repeat: int = 0

    @property
    def run_id(self) -> str:
        return f"{self.name}/{self.repeat}"


def repeats_for(stage: BeyondStage, reference_runs: int) -> int:
    """Runs per setting: ``stage.repeats`` of the reference's ``reference_runs`` (all when None).

    Raises:
        ValueError: more repeats than the reference has runs.
    """
    if stage.repeats is None:
        return reference_runs
    if stage.repeats > reference_runs:
        raise ValueError(f"beyond.repeats {stage.repeats} is more than the {reference_runs} runs "
                         f"of the reference; raise ablate.repeats or lower beyond.repeats")
    return stage.repeats


def reference_label(name: str, repeats: int, reference_runs: int) -> str:
    """The reference's ablate setting as a caption names it, with the share of its runs used."""
    return name if repeats == reference_runs else \
        f"{name} (its first {repeats} of {reference_runs} runs, so the reference row differs " \
        f"from Table 2's mean of all of them)"


def beyond_stage(section) -> BeyondStage:
    """Parse the ``beyond`` section (unknown keys and bad values are named errors)."""
    return from_mapping(BeyondStage, section, "beyond")


def gap(threshold: float, sigma: float) -> float:
    """Smallest log-likes gap of a PDIP: ``P >= T  <=>  S_A - S_B >= sqrt(2) sigma Phi^-1(T)``."""
    return float(math.sqrt(2.0) * sigma * ndtri(threshold))


def plan_runs(stage: BeyondStage, rules: PDIPConfig, loss: str,
              repeats: int) -> list[BeyondRun]:
    """Every setting of the three studies ``repeats`` times, the reference (the default rule,
    split and loss ``loss``) first; a setting two studies share (the reference is in all three)
    appears once per repeat."""
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
        runs += [BeyondRun(label, t, s, split, name, tuple(found), k)
                 for k in range(repeats)]
    return runs


def run_pairs(run: BeyondRun, pdips: pd.DataFrame, posts: pd.DataFrame, rules: PDIPConfig,
              seed: int) -> pd.DataFrame:
    """The pairs table (with ``split``) a run trains, validates and is tested on.

    With the default split, the training pairs are the run's PDIPs that share no post with the
    default validation and test PDIPs (nor a user, when the default split is by user), which
    are kept as they are (the common test set). With another split, the run's PDIPs are
    re-split and tested on their own test split.
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
    if rules.split == "user":  # keep the default split user-disjoint
        free &= ~candidates["user_id"].isin(pd.Index(held["user_id"]))
    train = candidates[free.to_numpy()].assign(split="train")
    return pd.concat([train, held], ignore_index=True)


def render_missing(posts: pd.DataFrame, truth: pd.DataFrame | None, tables, rendered_ids,
                   scratch: str | os.PathLike, image_size: int,
                   cast_strength: float) -> pd.DataFrame:
    """Render the images of the posts of ``tables`` that are not among ``rendered_ids`` into
    ``scratch`` and return ``posts`` with those rows' ``image`` made absolute (an absolute path
    ignores the image root it is joined with). ``posts`` and ``truth`` are row-aligned; without
    a truth table (real data, every image on disk already) ``posts`` is returned as it is."""
    if truth is None:
        return posts
    needed = pd.concat([t[["a_post_id", "b_post_id"]] for t in tables], ignore_index=True)
    new = pd.Index(paired_post_ids(needed)).difference(pd.Index(rendered_ids))
    if new.empty:
        return posts
    render_pair_images(posts, truth, needed, scratch, image_size, cast_strength,
                       exclude=rendered_ids)
    root = Path(scratch).resolve()
    image = posts.set_index("post_id")["image"]
    moved = {post_id: str(root / image[post_id]) for post_id in new}
    return posts.assign(image=posts["post_id"].map(moved).fillna(posts["image"]))


def run_tables(runs: list[BeyondRun], pdips: pd.DataFrame, posts: pd.DataFrame,
               truth: pd.DataFrame | None, rules: PDIPConfig,
               seed: int) -> dict[str, RunPairs]:
    """:func:`run_pairs` of every setting of ``runs`` (once each), by setting name, with the
    label precision of its training PDIPs on simulated data."""
    out: dict[str, RunPairs] = {}
    for run in runs:
        if run.name not in out:
            pairs = run_pairs(run, pdips, posts, rules, seed)
            train = pairs[pairs["split"] == "train"]
            out[run.name] = RunPairs(pairs, len(train), None if truth is None or train.empty
                                     else label_precision(train, truth))
    return out
