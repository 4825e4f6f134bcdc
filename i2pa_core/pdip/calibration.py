"""Calibration of Eq. 6 against the hidden intrinsic score (beyond the paper; ground truth only).

Eq. 6 gives each PDIP the probability ``P = Phi((S_A - S_B) / (sqrt(2) sigma))`` that its label
(A intrinsically more popular than B) is right. On the simulated platform the hidden intrinsic
appeal ``q`` of every post is known, so P can be set against the share of pairs whose order
agrees with ``q``: ``q_A > q_B`` strictly, a tie is wrong, as for label precision
(:mod:`i2pa_core.pdip.precision`). Pure functions on frames:

* :func:`scored_pairs`: a pairs table with its like gap ``S_A - S_B`` and agreement per pair;
* :func:`binned_agreement`: per bin of P (or of the like gap): n, mean predicted P, observed share
  with a 95 % Wilson interval (:func:`~i2pa_core.metrics.wilson_interval`), and their difference;
* :func:`calibration_summary`: per pair set: mean P, precision (Wilson interval), the expected
  calibration error ``ECE = sum_b n_b / n |mean P_b - observed_b|`` over the bins of P, the Brier
  score ``mean((P - agree)^2)``, and the sigma of Eq. 6 that fits the agreement best
  (:func:`implied_sigma`);
* :func:`rules_table`: that summary for several pair sets (matching policies, one-rule ablations),
  each set beside its reference: the precision a rule buys and the PDIPs it costs.

The intervals are binomial over the pairs of a bin or set. Pairs of one user share that user, so
they are a bit optimistic; none covers another draw of the platform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr

from i2pa_core.metrics import wilson_interval

# Bin edges of P. P >= T and crowds near 1 (the gap in S grows linearly while 1 - P shrinks like
# a Gaussian tail), so the edges are finer, in "nines", towards 1. Cut at T by :func:`p_edges`.
P_EDGES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999,
           0.9999, 0.99999, 1.0)

BIN_COLUMNS = ("binning", "bin_low", "bin_high", "n_pairs", "n_right", "mean_p", "mean_gap",
               "observed", "ci_low", "ci_high", "p_minus_observed")
SUMMARY_KEYS = ("n_pairs", "n_right", "precision", "ci_low", "ci_high", "mean_p",
                "calibration_gap", "ece", "brier", "sigma_implied")


@dataclass(frozen=True)
class PairSet:
    """One set of pairs for :func:`rules_table`.

    Attributes:
        setting: display name, e.g. ``"no 10-day window"``.
        kind: ``"rules"`` (a reference), ``"policy"`` or ``"ablation"``.
        scored: the set's :func:`scored_pairs`.
        edges: bins of P for its ECE (:func:`p_edges` of its threshold).
        reference: the setting it is compared with (None: none, e.g. the reference itself).
    """

    setting: str
    kind: str
    scored: pd.DataFrame
    edges: tuple[float, ...]
    reference: str | None = None


def scored_pairs(pairs: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Columns p, gap (``S_A - S_B``, the rule's score) and agree (``q_A > q_B``) per pair.

    Args:
        pairs: a PDIP table (a_post_id, b_post_id, p, s_a, s_b).
        truth: post_id and q (the simulated platform's hidden intrinsic appeal).
    """
    q = pd.Series(truth["q"].to_numpy(dtype=float), index=truth["post_id"].to_numpy(dtype=object))
    q_a = q.reindex(pairs["a_post_id"].to_numpy(dtype=object)).to_numpy()
    q_b = q.reindex(pairs["b_post_id"].to_numpy(dtype=object)).to_numpy()
    if np.isnan(q_a).any() or np.isnan(q_b).any():
        raise ValueError("some post ids of the pairs have no q in the truth table")
    return pd.DataFrame({"p": pairs["p"].to_numpy(dtype=float),
                         "gap": (pairs["s_a"] - pairs["s_b"]).to_numpy(dtype=float),
                         "agree": q_a > q_b})


def p_edges(threshold: float, edges=P_EDGES) -> tuple[float, ...]:
    """Bins of P for PDIPs of threshold T: T, then the ``edges`` above it (the last is 1)."""
    return (float(threshold), *(float(e) for e in edges if e > threshold))


def quantile_edges(values, n_bins: int) -> tuple[float, ...]:
    """Edges of about ``n_bins`` equal-count bins of ``values`` (fewer where values repeat)."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        raise ValueError("quantile_edges needs at least one value")
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))
    return tuple(float(e) for e in (edges if len(edges) > 1 else np.repeat(edges, 2)))


def bin_index(values, edges) -> np.ndarray:
    """Bin of each value: bins ``[e0, e1], (e1, e2], ..., (e_{k-1}, e_k]``; outside is an error."""
    edges, values = np.asarray(edges, dtype=float), np.asarray(values, dtype=float)
    if len(edges) < 2 or np.any(np.diff(edges) < 0):
        raise ValueError(f"bin edges must be at least two, non-decreasing, got {edges.tolist()}")
    if len(values) and not (values.min() >= edges[0] and values.max() <= edges[-1]):
        raise ValueError(f"values in [{values.min()}, {values.max()}] fall outside the bins "
                         f"[{edges[0]}, {edges[-1]}]")
    return np.searchsorted(edges[1:-1], values, side="left")


def binned_agreement(scored: pd.DataFrame, edges, by: str = "p") -> pd.DataFrame:
    """Predicted P against observed agreement per bin of ``by`` (``"p"`` or ``"gap"``).

    Every bin has a row (an empty one: n_pairs 0 and NaN shares). Columns :data:`BIN_COLUMNS`;
    ci_low, ci_high: 95 % Wilson interval of the observed share; p_minus_observed > 0: Eq. 6
    promises more than the hidden score grants.
    """
    idx = bin_index(scored[by], edges)
    p, gap = scored["p"].to_numpy(dtype=float), scored["gap"].to_numpy(dtype=float)
    agree = scored["agree"].to_numpy(dtype=bool)
    rows = []
    for b in range(len(edges) - 1):
        inside = idx == b
        n, k = int(inside.sum()), int(agree[inside].sum())
        low, high = wilson_interval(k, n)
        mean_p = float(p[inside].mean()) if n else float("nan")
        observed = k / n if n else float("nan")
        rows.append({"binning": by, "bin_low": float(edges[b]), "bin_high": float(edges[b + 1]),
                     "n_pairs": n, "n_right": k, "mean_p": mean_p,
                     "mean_gap": float(gap[inside].mean()) if n else float("nan"),
                     "observed": observed, "ci_low": low, "ci_high": high,
                     "p_minus_observed": mean_p - observed})
    return pd.DataFrame(rows, columns=list(BIN_COLUMNS))


def expected_calibration_error(scored: pd.DataFrame, edges) -> float:
    """``sum_b n_b / n |mean P_b - observed_b|`` over the bins of P (NaN for no pairs)."""
    bins = binned_agreement(scored, edges, by="p")
    n = bins["n_pairs"].sum()
    return float(np.nansum(bins["n_pairs"] * bins["p_minus_observed"].abs()) / n) if n \
        else float("nan")


def brier_score(scored: pd.DataFrame) -> float:
    """``mean((P - agree)^2)``: 0 for certain and right, P^2 for each wrong pair (NaN: none)."""
    if not len(scored):
        return float("nan")
    return float(np.mean((scored["p"].to_numpy(float) - scored["agree"].to_numpy(float)) ** 2))


def implied_sigma(gap, agree, bounds=(1e-3, 1e2)) -> float:
    """The sigma of Eq. 6 under which the agreement is most likely: maximum likelihood of
    ``agree ~ Bernoulli(Phi(gap / (sqrt(2) sigma)))``, a one-parameter probit on the like gap.

    Larger than the rule's sigma: Eq. 6 is overconfident. NaN when every pair or no pair agrees
    (no finite maximum) or there are none.
    """
    gap, agree = np.asarray(gap, dtype=float), np.asarray(agree, dtype=bool)
    if not len(gap) or agree.all() or not agree.any():
        return float("nan")

    def neg_log_likelihood(log_sigma: float) -> float:
        z = gap / (np.sqrt(2.0) * np.exp(log_sigma))
        return -float(np.sum(np.where(agree, log_ndtr(z), log_ndtr(-z))))

    fit = minimize_scalar(neg_log_likelihood, bounds=np.log(bounds), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(fit.x))


def calibration_summary(scored: pd.DataFrame, edges) -> dict:
    """One pair set's :data:`SUMMARY_KEYS`: precision (95 % Wilson), mean P, calibration_gap
    (mean P - precision), ECE over ``edges`` (bins of P), Brier score, implied sigma."""
    n, k = len(scored), int(scored["agree"].sum())
    low, high = wilson_interval(k, n)
    precision = k / n if n else float("nan")
    mean_p = float(scored["p"].mean()) if n else float("nan")
    return {"n_pairs": n, "n_right": k, "precision": precision, "ci_low": low, "ci_high": high,
            "mean_p": mean_p, "calibration_gap": mean_p - precision,
            "ece": expected_calibration_error(scored, edges), "brier": brier_score(scored),
            "sigma_implied": implied_sigma(scored["gap"], scored["agree"])}


def difference_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """95 % interval of ``k1/n1 - k2/n2`` from the two Wilson intervals (Newcombe 1998, method
    10), for independent samples; NaN if either is empty."""
    if not n1 or not n2:
        return float("nan"), float("nan")
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson_interval(k1, n1), wilson_interval(k2, n2)
    d = p1 - p2
    return (d - float(np.hypot(p1 - l1, u2 - p2)), d + float(np.hypot(u1 - p1, p2 - l2)))


def rules_table(sets: list[PairSet]) -> pd.DataFrame:
    """:func:`calibration_summary` per set, and each set minus its reference.

    Columns: setting, kind, reference, n_pdips (the yield), the summary (n_pairs renamed), and
    d_pdips, d_precision with d_ci_low, d_ci_high (:func:`difference_interval`). For a one-rule
    ablation against the paper's rules, -d_precision is the precision the rule buys and -d_pdips
    the PDIPs it costs. The sets share pairs, so the difference interval is conservative.
    """
    summaries = {s.setting: calibration_summary(s.scored, s.edges) for s in sets}
    rows = []
    for s in sets:
        row, ref = summaries[s.setting], summaries.get(s.reference) if s.reference else None
        if s.reference and ref is None:
            raise ValueError(f"{s.setting}: reference {s.reference!r} is not among the sets")
        d = {"d_pdips": np.nan, "d_precision": np.nan, "d_ci_low": np.nan, "d_ci_high": np.nan}
        if ref is not None:
            low, high = difference_interval(row["n_right"], row["n_pairs"], ref["n_right"],
                                            ref["n_pairs"])
            d = {"d_pdips": row["n_pairs"] - ref["n_pairs"],
                 "d_precision": row["precision"] - ref["precision"], "d_ci_low": low,
                 "d_ci_high": high}
        rows.append({"setting": s.setting, "kind": s.kind, "reference": s.reference or "",
                     "n_pdips": row["n_pairs"],
                     **{k: v for k, v in row.items() if k != "n_pairs"}, **d})
    table = pd.DataFrame(rows)
    # A count, left empty for a reference (a float column would print 3607.000).
    table["d_pdips"] = pd.Series([None if pd.isna(v) else int(v) for v in table["d_pdips"]],
                                 dtype=object)
    return table
