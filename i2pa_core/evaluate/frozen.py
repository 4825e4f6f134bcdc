"""The frozen-encoder baseline (issue 13): a linear Siamese head on cached ImageNet features.

The paper's Siamese model O_AB = f(A) - f(B) with BCE on sigmoid(O_AB) (Eq. 7-9), with f
linear on the frozen penultimate features phi of a pretrained encoder
(:mod:`i2pa_core.model.frozen`): f(x) = w . z(x), z the features standardised on the training
images. Then O_AB = w . (z_A - z_B), and BCE with the hard label "A is the more popular" is the
logistic loss on feature differences, which is exactly the Khosla14 pairwise ranker
(:func:`i2pa_core.evaluate.baselines.fit_pairwise`, L2 penalty, L-BFGS to convergence): it is
reused here, and so is its penalty choice on validation PDIPs
(:func:`~i2pa_core.evaluate.baselines.choose_alpha`), with the same scale (``alpha`` penalises
the summed, not the mean, loss).

The fit is convex, so its only randomness is which training pairs it sees: with
``max_train_pairs`` (and ``max_val_pairs``) below the split's size, a seed draws them, and
repeats over seeds show the head's training noise; with every pair the result does not depend
on the seed at all.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from i2pa_core.evaluate import baselines
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.io.posts import image_paths
from i2pa_core.metrics import pairwise_accuracy, runs_summary, seeded_subset
from i2pa_core.model.frozen import DEFAULT_ENCODER, extract_features

ENCODER_NAMES = {"efficientnet_lite0": "EfficientNet-Lite0"}


@dataclass(frozen=True)
class FrozenConfig:
    """The ``evaluate.frozen`` params section (and the beyond stage's frozen runs).

    Attributes:
        backbone: the pretrained encoder (a name of ``i2pa_core.model.scorer.BACKBONES``
            with ImageNet weights available offline).
        input_size: side (px) the images are resized to before the encoder.
        alphas: L2 penalties tried (on the summed loss); validation accuracy picks one.
        max_train_pairs: training PDIPs drawn by the seed; null: all (then the seed is moot).
        max_val_pairs: validation PDIPs drawn by the seed; null: all.
        loss: ``logistic`` (BCE of Eq. 7-9) or ``squared_hinge`` (RankSVM).
        batch: images per encoder forward pass.
        threads: torch threads while extracting; null: torch's setting.
    """

    backbone: str = DEFAULT_ENCODER
    input_size: int = 96
    alphas: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0, 10000.0)
    max_train_pairs: int | None = None
    max_val_pairs: int | None = None
    loss: Literal["logistic", "squared_hinge"] = "logistic"
    batch: int = 64
    threads: int | None = None

    def __post_init__(self):
        if self.input_size < 32:
            raise ValueError(f"input_size {self.input_size}: at least 32 px")
        if not self.alphas or any(a <= 0 for a in self.alphas):
            raise ValueError(f"alphas {self.alphas}: one or more positive penalties")
        for name in ("max_train_pairs", "max_val_pairs", "batch", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} {value}: at least 1 (or null)")


@dataclass(frozen=True)
class PostFeatures:
    """Frozen features by post: row i of ``matrix`` (N, D) for ``post_ids[i]``, NaN rows for
    posts whose image gave none (their reasons in ``problems``, by path)."""

    post_ids: pd.Index
    matrix: np.ndarray
    meta: dict
    problems: dict
    computed: int
    seconds: float


def post_features(posts: pd.DataFrame, pdips: pd.DataFrame, image_root: str | os.PathLike,
                  config: FrozenConfig, cache: str | os.PathLike | None = None,
                  progress: bool = True) -> PostFeatures:
    """Frozen features of every post in ``pdips`` (all splits), through the cache."""
    ids = paired_post_ids(pdips)
    files = pd.Series(image_paths(posts, image_root, ids), index=pd.Index(ids, name="post_id"))
    return features_of(files, config, cache, progress)


def features_of(image_files: pd.Series, config: FrozenConfig,
                cache: str | os.PathLike | None = None, progress: bool = True) -> PostFeatures:
    """Frozen features of posts given their image files (``post_id`` -> path), e.g. images
    rendered into a scratch folder by the beyond stage."""
    feats = extract_features(image_files.tolist(), config.input_size, config.backbone, cache,
                             config.batch, config.threads, progress)
    return PostFeatures(pd.Index(image_files.index, name="post_id"), feats.matrix, feats.meta,
                        feats.problems, feats.computed, feats.seconds)


@dataclass(frozen=True)
class HeadFit:
    """A fitted head: test scores by post, the penalty table, and what it was fitted on."""

    scores: pd.Series            # score per test post with features (index post_id)
    choices: pd.DataFrame        # alpha, val_accuracy
    alpha: float
    n_train: int                 # training pairs used (both images with features)
    n_val: int
    seconds: float               # fitting every alpha, then scoring
    scorer: baselines.LinearScorer  # the chosen head (weights on standardised features)


def fit_head(features: PostFeatures, pdips: pd.DataFrame, config: FrozenConfig,
             rng: np.random.Generator) -> HeadFit:
    """Fit the linear Siamese head on training PDIPs, choose its penalty on validation PDIPs,
    score the test posts. Pairs with an image without features are left out."""
    start = time.perf_counter()
    usable = _usable(pdips, features)
    train = _draw(usable, "train", config.max_train_pairs, rng)
    val = _draw(usable, "val", config.max_val_pairs, rng)
    if train.empty or val.empty:
        raise ValueError(f"frozen head: {len(train)} training and {len(val)} validation pairs "
                         "with features; it needs some of each")
    x = features.matrix.astype(np.float64)
    train_a, train_b = baselines.pair_rows(train, features.post_ids)
    val_a, val_b = baselines.pair_rows(val, features.post_ids)
    alpha, scorer, choices = baselines.choose_alpha(
        lambda a: baselines.fit_pairwise(x[train_a], x[train_b], a / len(train), config.loss),
        config.alphas, x[val_a], x[val_b])
    test_ids = paired_post_ids(pdips[pdips["split"] == "test"])
    rows = features.post_ids.get_indexer(test_ids)
    keep = (rows >= 0) & features_ok(features)[np.maximum(rows, 0)]
    scores = pd.Series(scorer.score(x[rows[keep]]),
                       index=pd.Index(test_ids[keep], name="post_id"))
    return HeadFit(scores, choices, float(alpha), len(train), len(val),
                   time.perf_counter() - start, scorer)


def features_ok(features: PostFeatures) -> np.ndarray:
    """(N,) bool: posts with features."""
    if features.matrix.shape[1] == 0:
        return np.zeros(len(features.post_ids), bool)
    return ~np.isnan(features.matrix).any(axis=1)


def _usable(pdips: pd.DataFrame, features: PostFeatures) -> pd.DataFrame:
    have = set(features.post_ids[features_ok(features)])
    both = pdips["a_post_id"].isin(have) & pdips["b_post_id"].isin(have)
    return pdips[both]


def _draw(pdips: pd.DataFrame, split: str, limit: int | None,
          rng: np.random.Generator) -> pd.DataFrame:
    chosen = pdips[pdips["split"] == split]
    if limit is not None and len(chosen) > limit:
        chosen = seeded_subset(chosen, limit, rng)
    return chosen.reset_index(drop=True)


def accuracy_on_test(scores: pd.Series, pdips: pd.DataFrame, seed: int = 0) -> dict:
    """Pairwise accuracy of ``scores`` on the test PDIPs both of whose posts are scored
    (95 % bootstrap interval over test pairs; :func:`i2pa_core.metrics.pairwise_accuracy`)."""
    test = pdips[pdips["split"] == "test"]
    a = test["a_post_id"].map(scores).to_numpy(np.float64)
    b = test["b_post_id"].map(scores).to_numpy(np.float64)
    both = ~(np.isnan(a) | np.isnan(b))
    return pairwise_accuracy(a[both], b[both], rng=seed)


def head_repeats(features: PostFeatures, pdips: pd.DataFrame, config: FrozenConfig,
                 seeds: Sequence[int]) -> tuple[pd.DataFrame, dict]:
    """One head per seed (its own draw of training/validation pairs): the table seed /
    alpha / n_train / test accuracy / fit seconds, and the test accuracy's
    :func:`~i2pa_core.metrics.runs_summary` over seeds (the head's training noise)."""
    rows = []
    for seed in seeds:
        fit = fit_head(features, pdips, config, np.random.default_rng([seed, 13]))
        result = accuracy_on_test(fit.scores, pdips)
        rows.append({"seed": seed, "alpha": fit.alpha, "n_train": fit.n_train,
                     "n_val": fit.n_val, "n_test": result["n"],
                     "accuracy": result["accuracy"], "ci_low": result["ci_low"],
                     "ci_high": result["ci_high"], "fit_seconds": fit.seconds})
    table = pd.DataFrame(rows)
    return table, runs_summary(table["accuracy"])


def label(config: FrozenConfig) -> str:
    """The Fig. 4 row name of the baseline with ``config``."""
    name = ENCODER_NAMES.get(config.backbone, config.backbone)
    return f"Frozen {name} (ImageNet, {config.input_size} px) + linear Siamese head"


def frozen_scores(posts: pd.DataFrame, pdips: pd.DataFrame, image_root: str | os.PathLike,
                  config: FrozenConfig, seed: int, cache: str | os.PathLike | None = None,
                  progress: bool = True) -> tuple[pd.Series, dict]:
    """The Fig. 4 row: test-post scores of the frozen baseline and a report (penalty chosen,
    pairs used, extraction and fitting time, images skipped)."""
    features = post_features(posts, pdips, image_root, config, cache, progress)
    fit = fit_head(features, pdips, config, np.random.default_rng([seed, 13]))
    report = {"label": label(config), "encoder": features.meta, "alpha": fit.alpha,
              "val_accuracy_by_alpha": fit.choices.to_dict("records"),
              "n_train_pairs": fit.n_train, "n_val_pairs": fit.n_val,
              "n_images": len(features.post_ids), "images_computed": features.computed,
              "images_skipped": len(features.problems), "extract_seconds": features.seconds,
              "fit_seconds": fit.seconds}
    return fit.scores, report
