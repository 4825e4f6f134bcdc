"""Pairwise accuracy with a bootstrap confidence interval, and the exact McNemar test.

Pairwise accuracy (paper Sec. 4, Fig. 4) is the share of pairs (A more popular than B) for
which the model scores A above B. A tie counts as half a correct pair (the expected outcome of
breaking it by a coin flip), so a constant model scores exactly 50 %.

The 95 % interval is a nonparametric bootstrap over pairs (``scipy.stats.bootstrap``) with the
percentile method: for a mean of 0 / 0.5 / 1 outcomes it is accurate from a few hundred pairs,
and unlike BCa it needs no O(n^2) jackknife at the paper's 50,000 test pairs. Resamples are
drawn in batches so memory stays near ``_BATCH_ELEMENTS`` indices whatever n is.

McNemar compares two models on the same pairs through the discordant pairs only: b pairs that
model 1 gets right and model 2 wrong, c the reverse. The exact test is a two-sided binomial test
of b successes in b + c trials with p = 1/2 (``scipy.stats.binomtest``). Where that underflows
to 0 (p among the subnormal floats, below about 1e-308) it is summed in log space instead
(:func:`mcnemar_log_p`), so the exact value comes back wherever a float64 can hold it; a p that
only its log can hold stays 0. (As text, every p-value goes through
:func:`i2pa_core.io.files.format_p`.)
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

_BATCH_ELEMENTS = 4_000_000


def pair_outcomes(score_a, score_b) -> np.ndarray:
    """Per pair: 1.0 if A (the more popular) scores higher, 0.5 on a tie, 0.0 otherwise."""
    a = np.asarray(score_a, dtype=np.float64)
    b = np.asarray(score_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"score_a and score_b must be 1-D of equal length, got {a.shape} "
                         f"and {b.shape}")
    return np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0))


def bootstrap_mean_ci(values, confidence: float = 0.95, n_resamples: int = 2000,
                      rng: np.random.Generator | int | None = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values``; (nan, nan) if empty.

    Constant values give the degenerate interval (v, v) without resampling.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return float("nan"), float("nan")
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    rng = np.random.default_rng(rng)
    result = stats.bootstrap((values,), np.mean, confidence_level=confidence,
                             n_resamples=n_resamples, method="percentile", rng=rng,
                             batch=max(1, _BATCH_ELEMENTS // values.size))
    interval = result.confidence_interval
    return float(interval.low), float(interval.high)


def pairwise_accuracy(score_a, score_b, confidence: float = 0.95, n_resamples: int = 2000,
                      rng: np.random.Generator | int | None = 0) -> dict:
    """Accuracy of scores on pairs (A more popular), with n and a bootstrap interval.

    Returns:
        ``{"accuracy", "n", "ci_low", "ci_high", "confidence"}``; accuracy and the interval
        are nan when there is no pair.
    """
    outcomes = pair_outcomes(score_a, score_b)
    low, high = bootstrap_mean_ci(outcomes, confidence, n_resamples, rng)
    accuracy = float(outcomes.mean()) if outcomes.size else float("nan")
    return {"accuracy": accuracy, "n": int(outcomes.size), "ci_low": low, "ci_high": high,
            "confidence": confidence}


def mcnemar_exact(b: int, c: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts b and c (1.0 if both 0)."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got b={b}, c={c}")
    if b + c == 0:
        return 1.0
    p = float(stats.binomtest(int(b), int(b + c), 0.5, alternative="two-sided").pvalue)
    return p if p > 0.0 else math.exp(mcnemar_log_p(b, c))


def mcnemar_log_p(b: int, c: int) -> float:
    """Natural log of the exact two-sided McNemar p-value, finite however small p is.

    With p = 1/2 the binomial is symmetric, so p = min(1, 2 P(X <= min(b, c))) for
    X ~ Binomial(b + c, 1/2); the sum of the pmf is taken in log space (``logsumexp``).
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got b={b}, c={c}")
    n, m = int(b + c), int(min(b, c))
    if n == 0:
        return 0.0
    log_pmf = stats.binom.logpmf(np.arange(m + 1), n, 0.5)
    return float(min(0.0, math.log(2.0) + special.logsumexp(log_pmf)))


def mcnemar_test(correct_1, correct_2) -> dict:
    """Compare two models on the same pairs from their per-pair correctness (booleans).

    Returns:
        ``{"b", "c", "n", "p_value"}``: b = pairs only model 1 gets right, c = pairs only
        model 2 gets right, n = all pairs.
    """
    one = np.asarray(correct_1, dtype=bool)
    two = np.asarray(correct_2, dtype=bool)
    if one.shape != two.shape or one.ndim != 1:
        raise ValueError(f"correctness vectors must be 1-D of equal length, got {one.shape} "
                         f"and {two.shape}")
    b = int(np.sum(one & ~two))
    c = int(np.sum(~one & two))
    return {"b": b, "c": c, "n": int(one.size), "p_value": mcnemar_exact(b, c)}


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial share k / n (NaN, NaN for n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    share, z2 = k / n, z * z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return float(centre - half), float(centre + half)


def seeded_subset(frame, n: int, rng: np.random.Generator):
    """``n`` rows of ``frame`` drawn without replacement by ``rng``, in their original order.

    The one subset draw of the pipeline (test samples, baseline training pairs, figure
    examples): ``rng.choice(len(frame), n, replace=False)``, sorted. ``frame`` is a DataFrame
    (rows through ``iloc``) or anything with a length that numpy can index.
    """
    keep = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[keep] if hasattr(frame, "iloc") else np.asarray(frame)[keep]


def runs_summary(values, confidence: float = 0.95) -> dict:
    """Mean of one quantity over independent training runs, with the t interval of that mean.

    The interval covers the training noise (seed, training sample) of the setting, on the test
    pairs the runs share: ``mean +- t_{(1+confidence)/2, k-1} * sd / sqrt(k)`` with ``sd`` the
    runs' sample sd (ddof 1). One run has no interval (NaN).

    Returns:
        ``{"runs", "mean", "ci_low", "ci_high", "sd", "min", "max", "values"}``.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"runs_summary needs a 1-D array of at least one run, got {v.shape}")
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if v.size > 1 else float("nan")
    half = (float(stats.t.ppf(0.5 + confidence / 2, v.size - 1)) * sd / math.sqrt(v.size)
            if v.size > 1 else float("nan"))
    return {"runs": int(v.size), "mean": mean, "ci_low": mean - half, "ci_high": mean + half,
            "sd": sd, "min": float(v.min()), "max": float(v.max()), "values": v.tolist()}


def paired_runs_difference(values_1, values_2, confidence: float = 0.95) -> dict:
    """Difference ``values_1 - values_2`` of two settings trained with the same repeats (run k
    of one paired with run k of the other), as :func:`runs_summary` of the per-run differences,
    plus the two-sided paired t-test p-value (NaN below two runs or for a constant difference)."""
    one, two = np.asarray(values_1, dtype=np.float64), np.asarray(values_2, dtype=np.float64)
    if one.shape != two.shape:
        raise ValueError(f"paired runs must have equal counts, got {one.shape} and {two.shape}")
    out = runs_summary(one - two, confidence)
    p = float("nan")
    if one.size > 1 and out["sd"] > 0:
        p = float(stats.ttest_rel(one, two).pvalue)
    return {**out, "p_value": p}


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as given; NaN stays NaN and is not
    counted). The k-th smallest of m p-values becomes max over j <= k of (m - j + 1) p_(j),
    capped at 1; rejecting adjusted p < alpha controls the family-wise error at alpha."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, (m - rank) * p[idx])
        out[idx] = min(1.0, running)
    return out


def resolvable_difference(sd: float, runs: int, confidence: float = 0.95,
                          power: float = 0.8) -> float:
    """Smallest true difference between two settings of ``runs`` runs each (between-run sd
    ``sd``) that a two-sided two-sample t-test at ``1 - confidence`` detects with probability
    ``power``: ``(t_{1-a/2, df} + t_{power, df}) * sd * sqrt(2 / runs)``, df = 2 runs - 2.
    NaN below two runs."""
    if runs < 2 or not np.isfinite(sd):
        return float("nan")
    df = 2 * runs - 2
    t_sum = stats.t.ppf(0.5 + confidence / 2, df) + stats.t.ppf(power, df)
    return float(t_sum * sd * math.sqrt(2.0 / runs))


def runs_needed(sd: float, difference: float, confidence: float = 0.95, power: float = 0.8,
                most: int = 1000) -> int | None:
    """Fewest runs per setting for which :func:`resolvable_difference` is at most
    ``difference``; None if more than ``most`` would be needed (or ``sd`` is not finite)."""
    if not np.isfinite(sd):
        return None
    for runs in range(2, most + 1):
        if resolvable_difference(sd, runs, confidence, power) <= difference:
            return runs
    return None
