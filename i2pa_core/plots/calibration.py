"""Figures of the Eq. 6 calibration (tables from :mod:`i2pa_core.pdip.calibration`).

* :func:`reliability_figure`: predicted P against the observed share of pairs whose order agrees
  with the hidden score, per bin of P and per bin of the like gap, on logit axes (P crowds near 1;
  on a logit axis 0.99, 0.999 and 0.9999 are evenly spaced and the diagonal stays straight);
* :func:`rules_figure`: precision (with each set's mean P beside it) and yield of the matching
  policies and one-rule ablations.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator
from scipy.special import ndtr

from i2pa_core.plots.style import PALETTE

KIND_COLOURS = {"rules": PALETTE[0], "policy": PALETTE[3], "ablation": PALETTE[1]}
# Ticks of a logit axis of shares near 1, labelled as shares (not as 1 - 10^-k).
LOGIT_TICKS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 0.99999, 0.999999, 0.9999999)


def reliability_figure(p_bins: pd.DataFrame, gap_bins: pd.DataFrame, sigma: float,
                       sigma_implied: float | None = None) -> plt.Figure:
    """Two panels: observed agreement (95 % Wilson bars, n per point) against the bin's mean P
    with the diagonal, and against its mean like gap with the Eq. 6 curve for ``sigma`` (and the
    best-fitting ``sigma_implied``, dashed)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    p_bins, gap_bins = p_bins[p_bins["n_pairs"] > 0], gap_bins[gap_bins["n_pairs"] > 0]
    shown = pd.concat([p_bins, gap_bins])
    low, high = _logit_limits(np.r_[shown["mean_p"], shown["ci_low"], shown["observed"]])
    ax = axes[0]
    ax.plot([low, high], [low, high], color="0.5", ls=":", lw=1, label="calibrated (y = x)")
    _points(ax, p_bins["mean_p"].to_numpy(), p_bins, high, PALETTE[0], "bin of P", counts=True)
    ax.set(xscale="logit", yscale="logit", xlim=(low, high), ylim=(low, high),
           xlabel="predicted: mean P of the bin (Eq. 6)",
           ylabel="observed: share with q_A > q_B (95 % Wilson)",
           title="reliability of Eq. 6, by bins of P")
    _logit_ticks(ax.xaxis, low, high)
    ax.tick_params(axis="x", labelrotation=35)
    ax.legend(loc="upper left", fontsize=7)
    ax = axes[1]
    gaps = np.linspace(0.0, max(float(gap_bins["mean_gap"].max()) * 1.05, 1e-3), 200)
    ax.plot(gaps, ndtr(gaps / (np.sqrt(2) * sigma)), color="0.5", ls=":", lw=1,
            label=f"Eq. 6, sigma = {sigma:g}")
    if sigma_implied is not None and np.isfinite(sigma_implied):
        ax.plot(gaps, ndtr(gaps / (np.sqrt(2) * sigma_implied)), color=PALETTE[1], ls="--",
                lw=1, label=f"Eq. 6, best-fitting sigma = {sigma_implied:.3g}")
    n = gap_bins["n_pairs"]
    _points(ax, gap_bins["mean_gap"].to_numpy(), gap_bins, high, PALETTE[2],
            f"bin of the like gap (n = {n.min():,}" + (f"-{n.max():,}" if n.max() > n.min()
                                                        else "") + " each)")
    ax.set(yscale="logit", ylim=(low, high), xlim=(0.0, gaps[-1]),
           xlabel="like gap S_A - S_B of the bin (mean)",
           ylabel="share with q_A > q_B (95 % Wilson)", title="agreement by like gap")
    for axis in (axes[0].yaxis, ax.yaxis):
        _logit_ticks(axis, low, high)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig


def rules_figure(table: pd.DataFrame) -> plt.Figure:
    """One row per set: precision (filled, 95 % Wilson) and mean P (hollow) on the left, the
    yield (number of PDIPs, with the change against the reference) on the right."""
    fig, (ax, ay) = plt.subplots(1, 2, figsize=(10, 0.34 * len(table) + 1.6), sharey=True,
                                 gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(table))[::-1]
    colours = table["kind"].map(KIND_COLOURS).fillna(PALETTE[5]).to_numpy()
    prec, mean_p = table["precision"].to_numpy(float), table["mean_p"].to_numpy(float)
    ax.hlines(y, prec, mean_p, color=colours, lw=0.8, alpha=0.6)
    for kind, colour in KIND_COLOURS.items():
        rows = (table["kind"] == kind).to_numpy()
        if rows.any():
            err = np.vstack([prec[rows] - table["ci_low"].to_numpy()[rows],
                             table["ci_high"].to_numpy()[rows] - prec[rows]])
            ax.errorbar(prec[rows], y[rows], xerr=err, fmt="o", color=colour, capsize=2,
                        label=f"{kind}: precision")
    ax.plot(mean_p, y, "o", mfc="none", color="0.3", label="mean P (Eq. 6)")
    ax.set_yticks(y, table["setting"].tolist())
    ax.set_xlabel("precision: share with q_A > q_B (95 % Wilson); mean P")
    ax.set_title("precision against what Eq. 6 promises")
    ax.margins(x=0.05)
    ax.legend(fontsize=7, loc="upper left")
    ay.barh(y, table["n_pdips"].to_numpy(float), color=colours, alpha=0.8)
    for yi, n, d in zip(y, table["n_pdips"], table["d_pdips"]):
        ay.text(n, yi, f" {int(n):,}" + ("" if pd.isna(d) else f" ({int(d):+,})"), va="center",
                fontsize=7)
    ay.set_xlabel("number of PDIPs (change against the reference)")
    ay.set_title("yield")
    ay.margins(x=0.3)
    for a in (ax, ay):
        a.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def _points(ax, x: np.ndarray, bins: pd.DataFrame, top: float, colour: str, label: str,
            counts: bool = False) -> None:
    """Observed shares with Wilson bars (and n, if ``counts``); a share of 1 (off a logit axis)
    as a triangle at the top."""
    observed, low, high = (bins[c].to_numpy() for c in ("observed", "ci_low", "ci_high"))
    shown = np.minimum(observed, top)
    err = np.vstack([shown - np.minimum(low, shown), np.maximum(np.minimum(high, top) - shown, 0)])
    ax.errorbar(x, shown, yerr=err, fmt="o", color=colour, capsize=2, ms=4, label=label)
    clipped = observed >= top
    if clipped.any():
        ax.plot(x[clipped], shown[clipped], "^", color=colour, ms=7,
                label="observed share 1 (drawn at the top)")
    for i, (xi, yi, n) in enumerate(zip(x, shown, bins["n_pairs"]) if counts else ()):
        # alternately below and above: neighbouring bins of P can sit close together
        ax.annotate(f"n={int(n):,}", (xi, yi), xytext=(4, -10 if i % 2 == 0 else 5),
                    textcoords="offset points", fontsize=6, color="0.35")


def _logit_ticks(axis, low: float, high: float) -> None:
    """Major ticks at :data:`LOGIT_TICKS` inside ``(low, high)``, labelled as shares."""
    logit = lambda v: float(np.log(v / (1 - v)))  # noqa: E731
    ticks, room = [], (logit(high) - logit(low)) / 14  # labels closer than this would collide
    for t in (t for t in LOGIT_TICKS if low < t < high):
        if not ticks or logit(t) - logit(ticks[-1]) >= room:
            ticks.append(t)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FixedFormatter([np.format_float_positional(t) for t in ticks]))
    axis.set_minor_locator(NullLocator())


def _logit_limits(values: np.ndarray) -> tuple[float, float]:
    """Axis limits on the logit scale around ``values`` (shares, some possibly 0 or 1)."""
    values = values[np.isfinite(values)]
    inner = values[(values > 0) & (values < 1)]
    if not len(inner):
        return 0.5, 0.999
    lo = float(np.clip(inner.min(), 1e-6, 0.9))
    hi = float(inner.max())
    logit = np.log(np.array([lo, hi]) / (1 - np.array([lo, hi])))
    pad = 0.08 * max(logit[1] - logit[0], 1.0)
    return tuple(float(1 / (1 + np.exp(-v))) for v in (logit[0] - pad, logit[1] + pad))
