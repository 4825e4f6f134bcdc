"""The 0-100 score of the paper's Fig. 1: a score's percentile among reference scores.

The paper shows a 0-100 score without saying how it is made. Here ``score_100`` is the
**empirical percentile** of the score among the scores of a reference set of images (the
validation images of the training run, stored in the checkpoint by
:func:`i2pa_core.train.results.add_score_reference` as ``meta["score_reference"]["quantiles"]``:
the reference scores' quantiles at the evenly spaced levels ``0, 1/(K-1), ..., 1``, K = 1001).
Between two stored quantiles the level is interpolated linearly, so with the sorted scores
themselves as quantiles this is the inverse of ``numpy.quantile``'s default (linear) method;
below the smallest it is 0, above the largest 100, and on a run of equal quantiles the middle
of their levels. Hand values: quantiles (1, 2, 3, 4, 5) give 3 -> 50, 1.5 -> 12.5, 0 -> 0.

A checkpoint written before the quantiles were stored has only a Gaussian fit (mean, std), and
the authors' weights have none: then ``score_100 = 100 * Phi((score - mean) / std)``, the
percentile under that Gaussian (by default the paper's Fig. 5 fit, mean 2.96, std 1.55,
:data:`PAPER_REFERENCE`). :attr:`ScoreReference.scale` and :meth:`ScoreReference.describe` say
which scale a score file used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy.special import ndtr

from i2pa_core import paper

EMPIRICAL, GAUSSIAN = "empirical percentile", "Gaussian percentile"


def empirical_percentile(score, quantiles) -> np.ndarray:
    """Percentile (0-100) of ``score`` among reference scores given by their ``quantiles`` at
    the evenly spaced levels ``linspace(0, 1, len(quantiles))`` (sorted, ties allowed).

    Linear between neighbouring quantiles, 0 below the first, 100 above the last, and the
    middle of the levels of the quantiles equal to ``score`` when it hits one or more of them.
    """
    q = np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or len(q) < 2 or np.any(np.diff(q) < 0) or not np.all(np.isfinite(q)):
        raise ValueError("quantiles must be at least two finite values in increasing order")
    x = np.asarray(score, dtype=np.float64)
    levels = np.linspace(0.0, 1.0, len(q))
    below = np.searchsorted(q, x, side="left")   # quantiles < x
    upto = np.searchsorted(q, x, side="right")   # quantiles <= x
    hit = upto > below
    mid = (levels[np.clip(below, 0, len(q) - 1)] + levels[np.clip(upto - 1, 0, len(q) - 1)]) / 2
    lo, hi = np.clip(below - 1, 0, len(q) - 1), np.clip(below, 0, len(q) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (x - q[lo]) / (q[hi] - q[lo])
        between = levels[lo] + t * (levels[hi] - levels[lo])
    out = np.where(hit, mid, np.where(below == 0, 0.0, np.where(below == len(q), 1.0, between)))
    return 100.0 * np.where(np.isnan(x), np.nan, out)


@dataclass(frozen=True)
class ScoreReference:
    """Reference scores for the 0-100 rescaling: their quantiles (empirical percentile) or,
    without them, a Gaussian fit (mean, std). ``n`` counts the reference scores (0: unknown)."""

    mean: float
    std: float
    source: str
    quantiles: tuple[float, ...] | None = None
    n: int = 0

    @property
    def scale(self) -> str:
        """:data:`EMPIRICAL` or :data:`GAUSSIAN`: how :meth:`to_100` maps a score."""
        return EMPIRICAL if self.quantiles else GAUSSIAN

    def to_100(self, score):
        """The score's percentile (0-100) among the reference scores; floats and arrays."""
        if self.quantiles:
            return empirical_percentile(score, self.quantiles)
        return 100.0 * ndtr((np.asarray(score, dtype=np.float64) - self.mean) / self.std)

    def describe(self) -> str:
        """One line naming the scale and the reference, for score outputs."""
        if self.quantiles:
            among = f"{self.n:,} scores of " if self.n else ""
            return f"{EMPIRICAL} among {among}{self.source}"
        return (f"{GAUSSIAN} under a Gaussian fit (mean {self.mean:g}, std {self.std:g}) of "
                f"{self.source}")

    @classmethod
    def from_meta(cls, meta: Mapping | None) -> "ScoreReference":
        """The checkpoint's reference if its metadata has one (quantiles, or an older
        checkpoint's mean and std only), else :data:`PAPER_REFERENCE`."""
        ref = (meta or {}).get("score_reference")
        if not ref:
            return PAPER_REFERENCE
        quantiles = ref.get("quantiles")
        return cls(float(ref["mean"]), float(ref["std"]), str(ref.get("source", "checkpoint")),
                   tuple(float(v) for v in quantiles) if quantiles else None,
                   int(ref.get("n", 0) or 0))


PAPER_REFERENCE = ScoreReference(paper.FIG5_MEAN, paper.FIG5_STD,
                                 "paper Fig. 5 (authors' model, Instagram test set)")
