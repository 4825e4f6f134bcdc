"""Generalisation to other platforms (paper Sec. 4.3: Reddit and Flickr).

The paper tests its Instagram-trained model on Reddit pairs (58.9 %) and on Flickr pairs built from
normalised views (63.3 %). Here the other platforms are small synthetic platforms of the other
*variants* of :mod:`i2pa_core.simulate.content` (a different taste of the intrinsic score q), each
from its own child seed, and three pair sets are built on each (:data:`CONSTRUCTIONS`):

* ``pdip``: our PDIP sampler with the project's rules
  (:func:`i2pa_core.pdip.sampler.generate_pdips`), every pair used for testing (the model never
  saw these posts);
* ``flickr``: the paper's Flickr construction (:func:`i2pa_core.evaluate.flickr_pairs.flickr_pairs`),
  kept for the comparison with the paper's number. Its label is mostly post age and the users'
  hidden engagement, not q, so its oracle is no ceiling and a scorer may beat it
  (:mod:`i2pa_core.evaluate.flickr_pairs` has the numbers);
* ``flickr_user``: the same top-vs-bottom pairing across users with a user-relative popularity
  (:func:`i2pa_core.evaluate.flickr_pairs.flickr_user_pairs`), whose label is intrinsic.

A fresh small ``instagram`` platform gives the in-domain control. Every row gives the oracle (the
platform's own hidden q) on the same pairs, with a bootstrap interval over pairs, and the
model's accuracy as the mean over the training runs given (:func:`generalisation_table`: t
interval over runs, their range). :func:`label_cues` says how well non-intrinsic single traits
(age, audience, the user's likes per follower, the colour cast) order each pair set. Images are
rendered only for posts that are in a pair set (images are a pure function of the truth table,
so they equal those of a full render).
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from i2pa_core.evaluate.flickr_pairs import flickr_pairs, flickr_user_pairs
from i2pa_core.io.files import write_json, write_parquet
from i2pa_core.metrics import pair_outcomes, pairwise_accuracy, runs_summary, seeded_subset
from i2pa_core.model.inference import score_images
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.simulate.content import VARIANTS
from i2pa_core.simulate.platform import Platform, SimulateConfig, simulate_platform
from i2pa_core.simulate.render import render_images

CONSTRUCTIONS = ("pdip", "flickr", "flickr_user")
RESULT_COLUMNS = ("variant", "construction", "n", "runs", "accuracy", "ci_low", "ci_high",
                  "min", "max", "run_accuracies", "oracle_accuracy", "oracle_ci_low",
                  "oracle_ci_high")
_SEED_TAG = zlib.crc32(b"generalise")


@dataclass(frozen=True)
class GeneraliseConfig:
    """The ``evaluate.generalise`` settings. Defaults: ~47 k posts per variant, 3.8-5.7 k PDIPs
    and 4 k pairs of each Flickr construction (N = 4000 is ~12 % of the ~33 k eligible single
    images on each side); ~15 s per variant to simulate, pair and render ~14-17 k images, plus
    scoring, on two idle CPU cores.

    Attributes:
        variants: platform variants to simulate (:data:`i2pa_core.simulate.content.VARIANTS`).
        n_users: users of each small platform (the rest of the simulate settings is inherited).
        days: posting span of each small platform.
        flickr_n: N of both Flickr constructions: N most vs N least popular posts, N pairs.
        max_pdips: at most this many PDIPs per platform (a random subset); null: all.
    """

    variants: tuple[str, ...] = ("instagram", "flickr", "reddit")
    n_users: int = 300
    days: float = 180.0
    flickr_n: int = 4000
    max_pdips: int | None = None

    def __post_init__(self):
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown or not self.variants:
            raise ValueError(f"variants must be a non-empty list of {', '.join(VARIANTS)}; "
                             f"got {list(self.variants)!r}")
        for name in ("n_users", "days", "flickr_n"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.max_pdips is not None and self.max_pdips < 1:
            raise ValueError(f"max_pdips must be >= 1 or null, got {self.max_pdips}")


def variant_seed(seed: int, variant: str) -> int:
    """The child seed of one variant's platform: a SeedSequence of (seed, tag, crc32(variant)),
    so it depends on the project seed and the variant's name only (not on the variant list)."""
    sequence = np.random.SeedSequence([seed, _SEED_TAG, zlib.crc32(variant.encode())])
    return int(sequence.generate_state(1, np.uint32)[0])


def variant_config(variant: str, cfg: GeneraliseConfig,
                   base: SimulateConfig = SimulateConfig()) -> SimulateConfig:
    """``base`` (the pipeline's simulate settings) as a small platform of ``variant``."""
    return replace(base, variant=variant, n_users=cfg.n_users, days=cfg.days)


def variant_pdips(posts: pd.DataFrame, rules: PDIPConfig, seed: int,
               max_pairs: int | None = None) -> pd.DataFrame:
    """PDIPs of a platform by the project's rules, all in split ``test`` (at most ``max_pairs``,
    a random subset drawn from ``seed``)."""
    pairs = generate_pdips(posts, replace(rules, val_size=0, test_size=0), seed).pairs
    if max_pairs is not None and len(pairs) > max_pairs:
        pairs = seeded_subset(pairs, max_pairs, np.random.default_rng([seed, 1]))
        pairs = pairs.reset_index(drop=True)
    return pairs.assign(split=pd.array(["test"] * len(pairs), dtype="str"))


def pair_sets(posts: pd.DataFrame, cfg: GeneraliseConfig, rules: PDIPConfig,
              seed: int) -> dict[str, pd.DataFrame]:
    """Every construction on one platform, ``{name: pairs}`` in :data:`CONSTRUCTIONS` order;
    ``flickr_user`` takes the age rule and the window of the PDIP ``rules``."""
    return {"pdip": variant_pdips(posts, rules, seed, cfg.max_pdips),
            "flickr": flickr_pairs(posts, cfg.flickr_n, np.random.default_rng([seed, 2])),
            "flickr_user": flickr_user_pairs(posts, cfg.flickr_n, np.random.default_rng([seed, 3]),
                                             rules.min_age_days, rules.window_days)}


def pair_post_ids(sets: Mapping[str, pd.DataFrame]) -> np.ndarray:
    """Distinct post ids of several pairs tables, sorted."""
    ids = [frame[c].to_numpy(dtype=object) for frame in sets.values()
           for c in ("a_post_id", "b_post_id")]
    return np.unique(np.concatenate(ids).astype(str)) if ids else np.zeros(0, dtype=str)


@dataclass(frozen=True)
class VariantData:
    """One simulated platform of the experiment: posts (``image`` "" where no file was
    rendered), truth, both pair sets, the image root and the seconds its simulation took."""

    variant: str
    posts: pd.DataFrame
    truth: pd.DataFrame
    pairs: dict[str, pd.DataFrame]
    image_root: Path
    seconds: float


def simulate_variant(out_dir: str | os.PathLike, variant: str, cfg: GeneraliseConfig,
                     seed: int, base: SimulateConfig = SimulateConfig(),
                     rules: PDIPConfig = PDIPConfig()) -> VariantData:
    """Simulate a small ``variant`` platform from the project ``seed`` into ``out_dir``.

    Writes ``posts.parquet``, ``truth.parquet``, ``pairs_<construction>.parquet`` (each of
    :data:`CONSTRUCTIONS`), ``platform.json`` and ``images/`` (paired posts only).
    """
    start, out_dir = time.perf_counter(), Path(out_dir)
    child = variant_seed(seed, variant)
    sim_cfg = variant_config(variant, cfg, base)
    platform = simulate_platform(sim_cfg, child)
    sets = pair_sets(platform.posts, cfg, rules, child)
    posts = _only_paired_images(platform, pair_post_ids(sets))
    for name, frame in (("posts", posts), ("truth", platform.truth),
                        *((f"pairs_{c}", sets[c]) for c in CONSTRUCTIONS)):
        write_parquet(out_dir / f"{name}.parquet", frame)
    write_json(out_dir / "platform.json", {"variant": variant, "seed": seed, "child_seed": child,
                                           "n_posts": len(posts), "n_users": sim_cfg.n_users,
                                           "simulated": True, "images": "paired posts only"})
    root = render_images(posts, platform.truth, out_dir, sim_cfg.image_size,
                         sim_cfg.cast_strength, progress=False)
    return VariantData(variant, posts, platform.truth, sets, root,
                       time.perf_counter() - start)


def _only_paired_images(platform: Platform, ids: np.ndarray) -> pd.DataFrame:
    paired = platform.posts["post_id"].isin(ids).to_numpy()
    return platform.posts.assign(image=np.where(paired, platform.posts["image"], ""))


def score_posts(model: torch.nn.Module, data: VariantData, preset: str, batch: int = 256,
                device: str = "cpu") -> pd.Series:
    """Scores of every paired post of ``data`` (indexed by post_id) by the trained scorer."""
    ids = pair_post_ids(data.pairs)
    relative = data.posts.set_index("post_id").loc[ids, "image"].to_numpy()
    paths = [os.path.join(data.image_root.parent, r) for r in relative]
    scores = score_images(model, paths, preset, batch=batch, device=device)
    return pd.Series(scores, index=pd.Index(ids, name="post_id"))


def as_runs(models: torch.nn.Module | Sequence[torch.nn.Module]) -> list[torch.nn.Module]:
    """One trained model or the models of several training runs, as a non-empty list."""
    runs = [models] if isinstance(models, torch.nn.Module) else list(models)
    if not runs:
        raise ValueError("generalisation needs at least one trained model")
    return runs


def generalisation_table(pairs: Mapping[tuple[str, str], pd.DataFrame],
                         scores: Mapping[str, pd.Series | Sequence[pd.Series]],
                         oracle: Mapping[str, pd.Series], confidence: float = 0.95,
                         rng: np.random.Generator | int | None = 0) -> pd.DataFrame:
    """Accuracy of the training runs and of the oracle on each (variant, construction) set.

    Args:
        pairs: ``{(variant, construction): pairs table}`` (``a_post_id`` the more popular).
        scores: ``{variant: one Series per training run}`` (a lone Series is one run), each
            indexed by post_id.
        oracle: ``{variant: the truth q indexed by post_id}``.
    Returns:
        One row per pair set, :data:`RESULT_COLUMNS`, in the mapping's order: ``n`` test pairs
        (every run scores the same pairs), ``runs``, ``accuracy`` the mean over runs with
        the t interval of that mean (``ci_low``/``ci_high``, training noise only; NaN for one
        run) and ``min``/``max`` over runs, ``run_accuracies`` (a tuple, run order); the oracle
        with a bootstrap interval over the pairs
        (:func:`i2pa_core.metrics.pairwise_accuracy`). Ties count half.
    Raises:
        KeyError: a post of a pair without a score or an oracle value.
    """
    rows = []
    for (variant, construction), frame in pairs.items():
        runs = [scores[variant]] if isinstance(scores[variant], pd.Series) else scores[variant]
        summary = runs_summary([_outcomes(frame, run).mean() for run in runs], confidence)
        truth = pairwise_accuracy(*_pair_values(frame, oracle[variant]), confidence, rng=rng)
        rows.append({"variant": variant, "construction": construction, "n": len(frame),
                     **{k: summary[k] for k in ("runs", "mean", "ci_low", "ci_high", "min",
                                                "max")},
                     "run_accuracies": tuple(summary["values"]),
                     **{f"oracle_{k}": truth[k] for k in ("accuracy", "ci_low", "ci_high")}})
    return pd.DataFrame(rows).rename(columns={"mean": "accuracy"})[list(RESULT_COLUMNS)]


def _pair_values(frame: pd.DataFrame, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return (values.loc[frame["a_post_id"]].to_numpy(dtype=np.float64),
            values.loc[frame["b_post_id"]].to_numpy(dtype=np.float64))


def _outcomes(frame: pd.DataFrame, values: pd.Series) -> np.ndarray:
    return pair_outcomes(*_pair_values(frame, values))


def cue_values(posts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Non-intrinsic traits of each post, indexed by post_id, a higher value meaning "predicted
    more popular": ``younger`` (minus the days from upload to crawl), ``followers``,
    ``user_rate`` (the user's mean ln((1 + likes) / followers) over all their posts: how much
    the user's audience engages, whatever the image) and, where the truth table has it, the
    colour cast's ``cast_warmth`` (it travels with followers)."""
    by_id = posts.set_index("post_id")
    age = (by_id["download_time"] - by_id["upload_time"]).dt.total_seconds() / 86400.0
    followers = by_id["followers"].astype(np.float64)
    rate = np.log1p(by_id["likes"].astype(np.float64)) - np.log(followers.clip(lower=1.0))
    out = pd.DataFrame({"younger": -age, "followers": followers,
                        "user_rate": rate.groupby(by_id["user_id"]).transform("mean")})
    hidden = truth.set_index("post_id")
    if "warmth" in hidden.columns:
        out["cast_warmth"] = hidden["warmth"].reindex(out.index).astype(np.float64)
    return out


def label_cues(pairs: Mapping[tuple[str, str], pd.DataFrame],
               cues: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Accuracy of each non-intrinsic trait (:func:`cue_values`, ``{variant: frame}``) used as a
    scorer on each pair set: near 0.5 where a construction's label does not travel with it,
    near 1 where the label is that trait rather than the image. One row per pair set."""
    rows = []
    for (variant, construction), frame in pairs.items():
        values = cues[variant]
        rows.append({"variant": variant, "construction": construction,
                     **{c: _outcomes(frame, values[c]).mean() for c in values.columns}})
    return pd.DataFrame(rows)


def run_generalisation(models: torch.nn.Module | Sequence[torch.nn.Module], preset: str,
                       out_root: str | os.PathLike, cfg: GeneraliseConfig, seed: int,
                       base: SimulateConfig = SimulateConfig(), rules: PDIPConfig = PDIPConfig(),
                       device: str = "cpu") -> pd.DataFrame:
    """The whole experiment: simulate each variant under ``out_root/<variant>``, score its
    paired posts with every model (the training runs; preprocessing ``preset``), evaluate
    every construction.

    Returns:
        :func:`generalisation_table`, the columns of :func:`label_cues` prefixed ``cue_``, and
        ``simulate_s`` and ``score_s`` (seconds per variant, all runs).
    """
    runs = as_runs(models)
    pairs, scores, oracle, cues, seconds = {}, {}, {}, {}, {}
    for variant in cfg.variants:
        data = simulate_variant(Path(out_root) / variant, variant, cfg, seed, base, rules)
        start = time.perf_counter()
        scores[variant] = [score_posts(model, data, preset, device=device) for model in runs]
        seconds[variant] = (data.seconds, time.perf_counter() - start)
        oracle[variant] = data.truth.set_index("post_id")["q"]
        cues[variant] = cue_values(data.posts, data.truth)
        pairs.update({(variant, c): data.pairs[c] for c in CONSTRUCTIONS})
    table = generalisation_table(pairs, scores, oracle, rng=seed)
    cue_table = label_cues(pairs, cues).drop(columns=["variant", "construction"])
    table = pd.concat([table, cue_table.add_prefix("cue_")], axis=1)
    table["simulate_s"] = table["variant"].map(lambda v: seconds[v][0])
    table["score_s"] = table["variant"].map(lambda v: seconds[v][1])
    return table
