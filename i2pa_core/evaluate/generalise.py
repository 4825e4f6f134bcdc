"""Generalisation to other platforms (paper Sec. 4.3: Reddit and Flickr).

The paper tests its Instagram-trained model on Reddit pairs (58.9 %) and on Flickr pairs built from
normalised views (63.3 %). Here the other platforms are small synthetic platforms of the other
*variants* of :mod:`i2pa_core.simulate.content` (a different taste of the intrinsic score q), each
from
its own child seed, and two pair sets are built on each:

* ``pdip``: our PDIP sampler with the project's rules
(:func:`i2pa_core.pdip.sampler.generate_pdips`), every
  pair used for testing (the model never saw these posts);
* ``flickr``: the paper's Flickr construction (:func:`flickr_pairs`): the N most and the N
  least popular single-image posts by normalised popularity (:func:`normalised_popularity`),
  paired at random; the more popular post wins.

A fresh small ``instagram`` platform gives the in-domain control of both constructions. The
oracle (the hidden truth q) on the same pairs measures how often a label is right at all, the
ceiling of any image-only scorer. Images are rendered only for posts that are in a pair set
(images are a pure function of the truth table, so they equal those of a full render).
"""

from __future__ import annotations

import os
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import torch

from i2pa_core.io.pair_list import PAIR_COLUMNS
from i2pa_core.io.files import write_json, write_parquet
from i2pa_core.metrics import pairwise_accuracy
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.simulate.render import render_images
from i2pa_core.simulate.content import VARIANTS
from i2pa_core.simulate.platform import Platform, SimulateConfig, simulate_platform
from i2pa_core.model.inference import score_images
from i2pa_core.metrics import seeded_subset

CONSTRUCTIONS = ("pdip", "flickr")
RESULT_COLUMNS = ("variant", "construction", "n", "accuracy", "ci_low", "ci_high",
                  "oracle_accuracy", "oracle_ci_low", "oracle_ci_high")
_SEED_TAG = zlib.crc32(b"generalise")


@dataclass(frozen=True)
class GeneraliseConfig:
    """The ``evaluate.generalise`` settings. Defaults: ~47 k posts per variant, 3.8-5.7 k PDIPs
    and 4 k Flickr pairs (N = 4000 is ~12 % of the ~33 k eligible single images on each side);
    ~15 s per variant to simulate, pair and render ~14-17 k images, plus scoring, on two
    idle CPU cores.

    Attributes:
        variants: platform variants to simulate (:data:`i2pa_core.simulate.content.VARIANTS`).
        n_users: users of each small platform (the rest of the simulate settings is inherited).
        days: posting span of each small platform.
        flickr_n: N of the Flickr construction: N most vs N least popular posts, N pairs.
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


def normalised_popularity(posts: pd.DataFrame) -> np.ndarray:
    """Normalised popularity r of each post, the stand-in for Flickr's normalised views.

    Khosla14 and the SMP data normalise views by the days since posting,
    ``log2(1 + views / days)``. Our posts table has no views, so likes take their place and are
    also divided by the audience (followers at crawl time):

        r = log2(1 + likes / (followers * d)),   d = (download_time - upload_time) in days

    Only the order of r matters (it is monotone in likes / (followers * d)). Caveat: likes here
    saturate a few days after posting (:mod:`i2pa_core.simulate.posts`), so dividing by d favours
    young posts, as it favours young photos on Flickr where views keep growing.

    Raises:
        ValueError: a post with no followers or an age of zero (r undefined).
    """
    age_days = (posts["download_time"] - posts["upload_time"]).dt.total_seconds().to_numpy() \
        / 86400.0
    followers = posts["followers"].to_numpy(dtype=np.float64)
    if (followers <= 0).any() or (age_days <= 0).any():
        raise ValueError("normalised popularity needs followers > 0 and download_time > "
                         "upload_time for every post; filter such posts first")
    return np.log2(1.0 + posts["likes"].to_numpy(dtype=np.float64) / (followers * age_days))


def flickr_pairs(posts: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """The paper's Flickr construction: N most vs N least popular images, paired at random.

    Eligible posts are single images (``media_type == "image"``, Flickr hosts photos) with
    followers > 0 and a positive age. They are ranked by :func:`normalised_popularity` (ties by
    ``post_id``); the top N are paired one-to-one with a random permutation of the bottom N.

    Returns:
        A pairs table (:data:`i2pa_core.io.pair_list.PAIR_COLUMNS`): ``a_post_id`` the top (more
        popular) post, ``b_post_id`` the bottom one, ``s_a``/``s_b`` their r, ``p`` nan and
        ``user_id`` "" (pairs cross users), ``interval_days`` the upload gap, ``split`` "test";
        sorted by the two ids.

    Raises:
        ValueError: fewer than 2N eligible posts (top and bottom must not overlap).
    """
    eligible = posts[(posts["media_type"] == "image") & (posts["followers"] > 0)
                     & (posts["download_time"] > posts["upload_time"])]
    if n < 1 or 2 * n > len(eligible):
        raise ValueError(f"flickr_n = {n} needs 2 * N <= {len(eligible)} eligible single-image "
                         f"posts; lower flickr_n or simulate more users")
    ranked = eligible.assign(r=normalised_popularity(eligible)) \
        .sort_values(["r", "post_id"], ascending=[False, True], kind="stable")
    top, bottom = ranked.iloc[:n], ranked.iloc[len(ranked) - n:]
    bottom = bottom.iloc[rng.permutation(n)]
    gap = (top["upload_time"].to_numpy() - bottom["upload_time"].to_numpy())
    frame = pd.DataFrame({
        "a_post_id": pd.array(top["post_id"].to_numpy(), dtype="str"),
        "b_post_id": pd.array(bottom["post_id"].to_numpy(), dtype="str"),
        "user_id": pd.array([""] * n, dtype="str"), "p": np.full(n, np.nan),
        "s_a": top["r"].to_numpy(), "s_b": bottom["r"].to_numpy(),
        "interval_days": np.abs(gap / np.timedelta64(1, "D")).astype(np.float64),
        "split": pd.array(["test"] * n, dtype="str")})
    return frame.sort_values(["a_post_id", "b_post_id"], kind="stable") \
        .reset_index(drop=True)[list(PAIR_COLUMNS)]


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
    """Both constructions on one platform: ``{"pdip": ..., "flickr": ...}``."""
    return {"pdip": variant_pdips(posts, rules, seed, cfg.max_pdips),
            "flickr": flickr_pairs(posts, cfg.flickr_n, np.random.default_rng([seed, 2]))}


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

    Writes ``posts.parquet``, ``truth.parquet``, ``pairs_pdip.parquet``,
    ``pairs_flickr.parquet``, ``platform.json`` and ``images/`` (paired posts only).
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


def generalisation_table(pairs: Mapping[tuple[str, str], pd.DataFrame],
                         scores: Mapping[str, pd.Series], oracle: Mapping[str, pd.Series],
                         confidence: float = 0.95,
                         rng: np.random.Generator | int | None = 0) -> pd.DataFrame:
    """Pairwise accuracy of a scorer and of the oracle on each (variant, construction) set.

    Args:
        pairs: ``{(variant, construction): pairs table}`` (``a_post_id`` the more popular).
        scores, oracle: ``{variant: scores indexed by post_id}``: the scorer's and the truth q.
    Returns:
        One row per pair set, :data:`RESULT_COLUMNS`, in the mapping's order; accuracy with n
        and a bootstrap interval (:func:`i2pa_core.metrics.pairwise_accuracy`, ties count half).
    Raises:
        KeyError: a post of a pair without a score or an oracle value.
    """
    rows = []
    for (variant, construction), frame in pairs.items():
        model = _accuracy(frame, scores[variant], confidence, rng)
        truth = _accuracy(frame, oracle[variant], confidence, rng)
        rows.append({"variant": variant, "construction": construction, "n": model["n"],
                     **{k: model[k] for k in ("accuracy", "ci_low", "ci_high")},
                     **{f"oracle_{k}": truth[k] for k in ("accuracy", "ci_low", "ci_high")}})
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def _accuracy(frame: pd.DataFrame, values: pd.Series, confidence, rng) -> dict:
    score_a = values.loc[frame["a_post_id"]].to_numpy(dtype=np.float64)
    score_b = values.loc[frame["b_post_id"]].to_numpy(dtype=np.float64)
    return pairwise_accuracy(score_a, score_b, confidence, rng=rng)


def run_generalisation(model: torch.nn.Module, preset: str, out_root: str | os.PathLike,
                       cfg: GeneraliseConfig, seed: int, base: SimulateConfig = SimulateConfig(),
                       rules: PDIPConfig = PDIPConfig(), device: str = "cpu") -> pd.DataFrame:
    """The whole experiment: simulate each variant under ``out_root/<variant>``, score its
    paired posts with ``model`` (preprocessing ``preset``), evaluate both constructions.

    Returns:
        :func:`generalisation_table` plus ``simulate_s`` and ``score_s`` (seconds per variant).
    """
    pairs, scores, oracle, seconds = {}, {}, {}, {}
    for variant in cfg.variants:
        data = simulate_variant(Path(out_root) / variant, variant, cfg, seed, base, rules)
        start = time.perf_counter()
        scores[variant] = score_posts(model, data, preset, device=device)
        seconds[variant] = (data.seconds, time.perf_counter() - start)
        oracle[variant] = data.truth.set_index("post_id")["q"]
        pairs.update({(variant, c): data.pairs[c] for c in CONSTRUCTIONS})
    table = generalisation_table(pairs, scores, oracle, rng=seed)
    table["simulate_s"] = table["variant"].map(lambda v: seconds[v][0])
    table["score_s"] = table["variant"].map(lambda v: seconds[v][1])
    return table
