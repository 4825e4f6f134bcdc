"""How the PDIP rules shape the database: the T x sigma grid and one-rule-off ablations.

The paper could not afford a sweep over T and sigma (it says so beside Table 2); on the simulated
platform it costs seconds, and the hidden intrinsic appeal ``q`` tells how often each rule set
labels a pair correctly (:mod:`i2pa_core.pdip.precision`). Note that T and sigma act only through
the score gap ``S_A - S_B >= sqrt(2) sigma Phi^-1(T)`` (Eq. 6), reported as ``gap_min``.

Runtime: the sampler is fast except without the same-user rule, where every post of a hashtag
group meets every other within the window (about 2 min for the 1,200 default users on one core).
That ablation therefore runs on a seeded random subsample of ``cross_user_sample`` users, next to
the paper's rules on the same subsample, so the two rows compare like with like.
"""

from __future__ import annotations

from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.special import ndtri

from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips
from i2pa_core.pdip.precision import label_precision, naive_cross_user_pairs, naive_same_user_pairs
from i2pa_core.plots.style import PALETTE

PRECISION_COLUMNS = ("setting", "kind", "n_pairs", "precision", "ci_low", "ci_high")


def pdip_count_grid(posts: pd.DataFrame, thresholds, sigmas, base_cfg: PDIPConfig, seed: int,
                    truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Number of PDIPs (and, given ``truth``, their label precision) for every (T, sigma).

    Returns one row per (threshold, sigma): gap_min (log-likes), n_candidates (before
    one-image-one-pair matching), n_pairs, and with ``truth`` precision, ci_low, ci_high.
    """
    rows = []
    for threshold in thresholds:
        for sigma in sigmas:
            cfg = replace(base_cfg, threshold=float(threshold), sigma=float(sigma))
            result = generate_pdips(posts, cfg, seed)
            row = {"threshold": cfg.threshold, "sigma": cfg.sigma,
                   "gap_min": float(np.sqrt(2.0) * cfg.sigma * ndtri(cfg.threshold)),
                   "n_candidates": result.n_candidates, "n_pairs": len(result.pairs)}
            if truth is not None:
                row.update(_precision(result.pairs, truth))
            rows.append(row)
    return pd.DataFrame(rows)


def ablation_configs(base: PDIPConfig, relaxed_threshold: float = 0.75) -> dict[str, PDIPConfig]:
    """The paper's rules and each rule dropped (or relaxed) once, by display name."""
    return {
        "paper rules": base,
        "no same-tags rule": replace(base, same_tags=False),
        "no 10-day window": replace(base, window_days=None),
        "no age rule": replace(base, min_age_days=None),
        "no word limit": replace(base, max_words=None),
        "all media types": replace(base, single_image=False),
        "no like floor (min_likes=1)": replace(base, min_likes=1),
        f"relaxed T={relaxed_threshold:g}": replace(base, threshold=relaxed_threshold),
    }


def label_precision_table(posts: pd.DataFrame, truth: pd.DataFrame, base_cfg: PDIPConfig,
                          seed: int, cross_user_sample: int = 240,
                          relaxed_threshold: float = 0.75) -> pd.DataFrame:
    """Precision of the paper's rules, of one-rule-off ablations and of naive pairings.

    Columns :data:`PRECISION_COLUMNS`; kind is "rules", "ablation" or "naive". The no-same-user
    ablation and its reference run on ``cross_user_sample`` random users (see module doc).
    """
    sub_rng, same_rng, cross_rng = (np.random.default_rng(s)
                                    for s in np.random.SeedSequence(seed).spawn(3))
    rows = []
    for name, cfg in ablation_configs(base_cfg, relaxed_threshold).items():
        pairs = generate_pdips(posts, cfg, seed).pairs
        rows.append({"setting": name, "kind": "rules" if name == "paper rules" else "ablation",
                     **_precision(pairs, truth)})
    users = np.sort(posts["user_id"].unique())
    chosen = sub_rng.choice(users, size=min(cross_user_sample, len(users)), replace=False)
    sample = posts.loc[posts["user_id"].isin(chosen)]
    tag = f" ({len(chosen)} of {len(users)} users)"
    for name, cfg in (("paper rules", base_cfg), ("no same-user rule", replace(
            base_cfg, same_user=False))):
        pairs = generate_pdips(sample, cfg, seed).pairs
        kind = "rules" if name == "paper rules" else "ablation"
        rows.append({"setting": name + tag, "kind": kind, **_precision(pairs, truth)})
    for name, pairs in (("naive: random same-user pairs", naive_same_user_pairs(posts, same_rng)),
                        ("naive: random cross-user pairs", naive_cross_user_pairs(posts,
                                                                                  cross_rng))):
        rows.append({"setting": name, "kind": "naive", **_precision(pairs, truth)})
    return pd.DataFrame(rows)[list(PRECISION_COLUMNS)]


def _precision(pairs: pd.DataFrame, truth: pd.DataFrame) -> dict:
    stats = label_precision(pairs, truth)
    return {k: stats[k] for k in ("n_pairs", "precision", "ci_low", "ci_high")}


def plot_pdip_grid(grid: pd.DataFrame) -> plt.Figure:
    """PDIP count (log scale) and, if present, label precision against T; a line per sigma."""
    has_precision = "precision" in grid.columns
    n_panels = 2 if has_precision else 1
    fig, axes = plt.subplots(1, n_panels, figsize=(4.5 * n_panels, 3.4), squeeze=False)
    for colour, (sigma, rows) in zip(PALETTE * 4, grid.groupby("sigma", sort=True)):
        rows = rows.sort_values("threshold")
        axes[0, 0].plot(rows["threshold"], rows["n_pairs"], "o-", color=colour,
                        label=f"sigma = {sigma:g}")
        if has_precision:
            axes[0, 1].plot(rows["threshold"], rows["precision"], "o-", color=colour)
            axes[0, 1].fill_between(rows["threshold"], rows["ci_low"], rows["ci_high"],
                                    color=colour, alpha=0.2, lw=0)
    axes[0, 0].set(xlabel="threshold T", ylabel="number of PDIPs", yscale="log",
                   title="PDIPs against T and sigma")
    axes[0, 0].legend()
    if has_precision:
        axes[0, 1].set(xlabel="threshold T", ylabel="share with q_A > q_B (95 % Wilson CI)",
                       title="label precision against T and sigma")
    fig.tight_layout()
    return fig


def plot_label_precision(table: pd.DataFrame) -> plt.Figure:
    """Dot plot of label precision with 95 % intervals per setting; chance (0.5) marked."""
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    colours = {"rules": PALETTE[0], "ablation": PALETTE[1], "naive": PALETTE[5]}
    for kind, colour in colours.items():
        rows = (table["kind"] == kind).to_numpy()
        if rows.any():
            prec = table["precision"].to_numpy()[rows]
            err = np.vstack([prec - table["ci_low"].to_numpy()[rows],
                             table["ci_high"].to_numpy()[rows] - prec])
            ax.errorbar(prec, y[rows], xerr=err, fmt="o", color=colour, capsize=2, label=kind)
    for yi, n, high in zip(y, table["n_pairs"], table["ci_high"]):
        ax.text(high, yi, f"  n={int(n):,}", va="center", fontsize=7)
    ax.axvline(0.5, color="0.5", ls=":", lw=1)
    ax.set_yticks(y, table["setting"].tolist())
    ax.set_xlabel("label precision: share of pairs with q_A > q_B")
    ax.margins(x=0.2)
    ax.legend(loc="upper left")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig
