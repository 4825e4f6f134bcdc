"""Glue for the ``train`` stage: score the test images with the best model, measure accuracy
against the PDIP labels and the oracle, and record the 0-100 reference (the validation scores'
quantiles) in the checkpoint."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from i2pa_core.io.checkpoint import load_checkpoint, save_checkpoint
from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.metrics import pair_outcomes, pairwise_accuracy
from i2pa_core.io.posts import image_paths
from i2pa_core.model.inference import score_images


def split_scores(model, pairs: pd.DataFrame, posts: pd.DataFrame, image_root: str | os.PathLike,
                 preset: str, split: str) -> pd.DataFrame:
    """Score every image of one split's pairs once: frame ``post_id, score``."""
    ids = paired_post_ids(pairs[pairs["split"] == split])
    paths = image_paths(posts, image_root, ids)
    return pd.DataFrame({"post_id": ids, "score": score_images(model, paths, preset)})


def test_metrics(pairs: pd.DataFrame, scores: pd.DataFrame, truth: pd.DataFrame | None) -> dict:
    """Test accuracy (n, 95 % bootstrap CI over the test pairs) and, on simulated data, the
    oracle (the hidden intrinsic score on the same pairs). Accuracies in percent."""
    test = pairs[pairs["split"] == "test"]
    lookup = scores.set_index("post_id")["score"]
    ours = pairwise_accuracy(lookup.loc[test["a_post_id"]].to_numpy(),
                             lookup.loc[test["b_post_id"]].to_numpy())
    out = {"test_accuracy": 100 * ours["accuracy"], "test_ci_low": 100 * ours["ci_low"],
           "test_ci_high": 100 * ours["ci_high"], "test_n": int(ours["n"]),
           "test_interval": "95 % bootstrap over test pairs"}
    if truth is not None:
        q = truth.set_index("post_id")["q"]
        oracle = 100 * float(np.mean(pair_outcomes(q.loc[test["a_post_id"]].to_numpy(),
                                                   q.loc[test["b_post_id"]].to_numpy())))
        out["oracle_accuracy"] = oracle
    return out


REFERENCE_QUANTILES = 1001  # levels 0, 0.001, ..., 1 of the reference scores


def score_reference(scores, source: str, levels: int = REFERENCE_QUANTILES) -> dict:
    """The 0-100 reference of a checkpoint from reference scores: ``quantiles`` (numpy's
    linear quantiles at ``linspace(0, 1, levels)``, what
    :class:`i2pa_core.evaluate.score_scale.ScoreReference` interpolates for the empirical
    percentile), ``n``, and the Gaussian fit ``mean`` / ``std`` (ddof = 0) that older readers
    use. Non-finite scores are left out."""
    values = np.asarray(scores, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) < 2:
        raise ValueError(f"need at least 2 finite reference scores, got {len(values)}")
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, levels))
    return {"mean": float(values.mean()), "std": float(values.std()), "source": source,
            "scale": "empirical percentile", "n": int(len(values)),
            "quantiles": [float(v) for v in np.maximum.accumulate(quantiles)]}


def add_score_reference(checkpoint: str | os.PathLike, scores: pd.DataFrame, source: str,
                        input_size: tuple[int, int] | None = None,
                        data_source: str | None = None) -> dict:
    """Store the reference of ``scores["score"]`` (:func:`score_reference`: its 1001 quantiles
    for the empirical 0-100 percentile, and the Gaussian fit) in the checkpoint's meta
    (atomically), ``input_size`` (H, W) of the images the model was trained on, which scoring
    other photos with the ``synthetic`` preset resizes to, and the ``data_source`` it was
    trained on (:class:`i2pa_core.io.source.DataSource` label).

    Returns:
        the stored reference without its quantiles (for ``metrics.json``), with the median.
    """
    state = load_checkpoint(checkpoint)
    if data_source is not None:
        state["meta"]["data_source"] = data_source
    reference = score_reference(scores["score"], source)
    state["meta"]["score_reference"] = reference
    if input_size is not None:
        state["meta"]["input_size"] = [int(input_size[0]), int(input_size[1])]
    save_checkpoint(checkpoint, state)
    summary = {k: v for k, v in reference.items() if k != "quantiles"}
    quantiles = reference["quantiles"]
    return {**summary, "median": quantiles[len(quantiles) // 2]}


def train_metrics(pairs: pd.DataFrame, test_scores: pd.DataFrame, truth: pd.DataFrame | None,
                  result, reference: dict) -> dict:
    """``results/train/metrics.json``: test accuracy (:func:`test_metrics`), the best epoch
    (1-based) with its validation accuracy (%), and the 0-100 reference stored in the
    checkpoint."""
    return {**test_metrics(pairs, test_scores, truth), "best_epoch": result.best_epoch + 1,
            "best_val_accuracy": 100 * result.best_val_accuracy, "score_reference": reference}


def training_input_size(pairs: pd.DataFrame, posts: pd.DataFrame,
                        image_root: str | os.PathLike, preset: str = "synthetic"
                        ) -> tuple[int, int] | None:
    """(H, W) of the first training image, the size the ``synthetic`` preset trains at (None
    for the other presets, which fix their own size)."""
    from PIL import Image

    if preset != "synthetic":
        return None
    first = pairs.loc[pairs["split"] == "train", "a_post_id"].iloc[0]
    with Image.open(image_paths(posts, image_root, [first])[0]) as image:
        return image.size[1], image.size[0]
