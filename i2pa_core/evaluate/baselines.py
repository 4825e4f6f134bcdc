"""Baselines of the comparison (paper Fig. 4), each a score per image.

- **Khosla14** (hand-crafted features, :func:`i2pa_core.evaluate.features.khosla_features`) with two
learners on
  standardised features: (a) ridge regression on absolute log-likes, closed form, as Khosla et
  al. trained on absolute popularity; (b) a linear pairwise ranker on feature differences of
  training PDIPs (RankSVM-style, as Cappallo et al. 2015), logistic or squared-hinge loss with an
  L2 penalty, fitted to convergence by L-BFGS.
- **Aesthetics proxy**, standing in for closed commercial tools (Virality Detection, LikelyAI):
  colourfulness, sharpness and exposure combined with fixed weights (:data:`AESTHETIC_WEIGHTS`),
  never fitted to likes.
- **Random** and **oracle** (the hidden intrinsic score q of the synthetic platform).

:func:`evaluate_scores` turns ``{method: scores per post_id}`` into the comparison table with
the bootstrap interval and exact McNemar test of :mod:`i2pa_core.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit

from i2pa_core.evaluate import features
from i2pa_core.metrics import mcnemar_test, pair_outcomes, pairwise_accuracy


@dataclass(frozen=True)
class LinearScorer:
    """score(x) = ((x - mean) / scale) . weights + bias, for a feature batch (B, D) -> (B,)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return z @ self.weights + self.bias


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and population sd of (N, D); a constant feature gets scale 1."""
    x = np.asarray(x, dtype=np.float64)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    return mean, np.where(sd > 0, sd, 1.0)


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> LinearScorer:
    """Ridge regression on standardised features, closed form (intercept not penalised).

    w = (Z'Z + alpha I)^-1 Z' (y - mean y) with Z the standardised x; bias = mean y.
    """
    mean, scale = standardiser(x)
    z = (np.asarray(x, dtype=np.float64) - mean) / scale
    y = np.asarray(y, dtype=np.float64)
    gram = z.T @ z + alpha * np.eye(z.shape[1])
    weights = np.linalg.solve(gram, z.T @ (y - y.mean()))
    return LinearScorer(mean, scale, weights, float(y.mean()))


def _logistic(margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair loss ln(1 + e^-m) and its derivative in m."""
    return np.logaddexp(0.0, -margin), -expit(-margin)


def _squared_hinge(margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair loss max(0, 1 - m)^2 (the L2-loss RankSVM) and its derivative in m."""
    slack = np.maximum(0.0, 1.0 - margin)
    return slack ** 2, -2.0 * slack


PAIR_LOSSES: dict[str, Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "logistic": _logistic, "squared_hinge": _squared_hinge}


def fit_pairwise(x_a: np.ndarray, x_b: np.ndarray, alpha: float = 1e-3,
                 loss: str = "logistic", max_iter: int = 500) -> LinearScorer:
    """Linear ranker on training pairs, A the more popular: minimise over w

        mean_i loss(w . (z_a,i - z_b,i)) + alpha / 2 |w|^2

    with z the features standardised on all images of the pairs (the bias cancels in a
    difference and stays 0). L-BFGS with the analytic gradient.
    """
    if loss not in PAIR_LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(PAIR_LOSSES)}")
    mean, scale = standardiser(np.concatenate([x_a, x_b]))
    diff = (np.asarray(x_a, dtype=np.float64) - np.asarray(x_b, dtype=np.float64)) / scale
    per_pair = PAIR_LOSSES[loss]

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        value, slope = per_pair(diff @ w)
        grad = diff.T @ slope / len(diff) + alpha * w
        return float(value.mean() + 0.5 * alpha * w @ w), grad

    result = optimize.minimize(objective, np.zeros(diff.shape[1]), jac=True, method="L-BFGS-B",
                               options={"maxiter": max_iter})
    return LinearScorer(mean, scale, result.x, 0.0)


def pair_rows(pairs: pd.DataFrame, post_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of each pair's A and B post in ``post_ids`` (the rows of a feature matrix).

    Raises ValueError naming the first post id that has no row.
    """
    index = pd.Index(post_ids)
    rows = []
    for column in ("a_post_id", "b_post_id"):
        found = index.get_indexer(pairs[column].astype(str))
        if (found < 0).any():
            missing = pairs[column].to_numpy()[found < 0]
            raise ValueError(f"{len(missing)} {column} values have no feature row, e.g. "
                             f"{missing[0]!r}")
        rows.append(found)
    return rows[0], rows[1]


def choose_alpha(fit: Callable[[float], LinearScorer], alphas: Sequence[float],
                 val_a: np.ndarray, val_b: np.ndarray) -> tuple[float, LinearScorer, pd.DataFrame]:
    """Fit once per alpha and keep the one with the best validation pairwise accuracy.

    Args:
        fit: alpha -> fitted scorer (e.g. ``lambda a: fit_ridge(x, y, a)``).
        val_a, val_b: features of the validation pairs' A (more popular) and B images.
    Returns:
        (best alpha, its scorer, table alpha / val_accuracy); the first alpha wins a tie.
    """
    rows, best = [], None
    for alpha in alphas:
        model = fit(alpha)
        accuracy = float(pair_outcomes(model.score(val_a), model.score(val_b)).mean())
        rows.append((alpha, accuracy))
        if best is None or accuracy > best[2]:
            best = (alpha, model, accuracy)
    return best[0], best[1], pd.DataFrame(rows, columns=["alpha", "val_accuracy"])


@dataclass(frozen=True)
class AestheticWeights:
    """Fixed weights of the aesthetics proxy; each term is roughly on a 0-1 scale.

    score = colourfulness * M / 100            (Hasler: M ~ 109 is "extremely colourful")
          + sharpness * log10(1 + var_lap) / 3  (variance of the Laplacian, 0-255 scale)
          - exposure * |mean luma - 0.5| / 0.5
          - clipping * share of clipped pixels
    Equal unit weights: a generic "colourful, sharp, well exposed" judge with no tuning.
    """

    colourfulness: float = 1.0
    sharpness: float = 1.0
    exposure: float = 1.0
    clipping: float = 1.0


AESTHETIC_WEIGHTS = AestheticWeights()


def aesthetic_scores(images, weights: AestheticWeights = AESTHETIC_WEIGHTS,
                     chunk: int = 512) -> np.ndarray:
    """Aesthetics-proxy score of a batch, uint8 or float (B, H, W, 3) -> (B,), in chunks."""
    return features.map_batches(lambda batch: _aesthetic_batch(batch, weights), images, chunk)


def _aesthetic_batch(images: np.ndarray, weights: AestheticWeights) -> np.ndarray:
    exposure_error, clipped = features.exposure_stats(images)
    return (weights.colourfulness * features.colourfulness(images) / 100.0
            + weights.sharpness * np.log10(1.0 + features.laplacian_variance(images)) / 3.0
            - weights.exposure * exposure_error / 0.5
            - weights.clipping * clipped)


def random_scores(post_ids: Sequence[str], rng: np.random.Generator) -> pd.Series:
    """Uniform random score per post (the 50 % baseline)."""
    return pd.Series(rng.random(len(post_ids)), index=pd.Index(post_ids, name="post_id"))


def oracle_scores(truth: pd.DataFrame) -> pd.Series:
    """The hidden intrinsic score q per post (synthetic platform only): the ceiling any image
    model could reach on these pairs, below 100 % because likes are noisy."""
    return pd.Series(truth["q"].to_numpy(), index=pd.Index(truth["post_id"], name="post_id"))


def evaluate_scores(scores: Mapping[str, pd.Series], pairs: pd.DataFrame,
                    reference: str | None = None, confidence: float = 0.95,
                    rng: np.random.Generator | int | None = 0) -> pd.DataFrame:
    """Pairwise accuracy of each method's scores on ``pairs`` (``a_post_id`` = more popular).

    A pair counts for a method when both of its posts have a score; ties count half
    (:func:`i2pa_core.metrics.pair_outcomes`). With ``reference``, ``mcnemar_p`` is the exact
    McNemar p-value of each method against it on the pairs both scored (nan for itself); there a
    pair is correct only when A scores strictly higher, so a tie counts as wrong.

    Returns:
        DataFrame method, accuracy, n, ci_low, ci_high (and mcnemar_p), in the dict's order.
    """
    rows, correct = [], {}
    for method, series in scores.items():
        score_a = pairs["a_post_id"].map(series).to_numpy(dtype=np.float64)
        score_b = pairs["b_post_id"].map(series).to_numpy(dtype=np.float64)
        both = ~(np.isnan(score_a) | np.isnan(score_b))
        result = pairwise_accuracy(score_a[both], score_b[both], confidence, rng=rng)
        correct[method] = np.where(both, score_a > score_b, np.nan)
        rows.append({"method": method, **{k: result[k] for k in
                                          ("accuracy", "n", "ci_low", "ci_high")}})
    table = pd.DataFrame(rows)
    if reference is not None:
        table["mcnemar_p"] = [_mcnemar_p(correct[m], correct[reference]) if m != reference
                              else np.nan for m in table["method"]]
    return table


def _mcnemar_p(correct_1: np.ndarray, correct_2: np.ndarray) -> float:
    both = ~(np.isnan(correct_1) | np.isnan(correct_2))
    return mcnemar_test(correct_1[both].astype(bool), correct_2[both].astype(bool))["p_value"]
