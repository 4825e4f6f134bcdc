"""Figures of the psychophysical experiment: Fig. 9 examples and accuracy against P.

Fig. 8 (the experiment page) is a browser screenshot taken by ``tests/test_human_browser.py``.
Both functions draw ``note`` (say where the answers came from, e.g. :data:`.SIMULATED_PANEL`)
as the figure title, so a figure cannot lose its provenance.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image
from scipy.special import logit

from i2pa_core.plots.style import PALETTE, use_style


def _image_cell(ax, path: Path, frame: str) -> None:
    ax.imshow(Image.open(path).convert("RGB"))
    ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
    for spine in ax.spines.values():
        spine.set(visible=True, color=frame, linewidth=2)


def fig9_examples(selection: pd.DataFrame, plan: dict, image_root: str | os.PathLike,
                  note: str, score_label: str = "score") -> plt.Figure:
    """Fig. 9: a grid with one row per group (:func:`i2pa_core.human.analysis.fig9_selection`)
    and the group's pairs side by side, each pair as two images.

    Each image is labelled with the share of subjects who chose it, its likes and the model
    score; the more popular post is on the left, its frame green. The title sits above the grid.
    """
    use_style()
    groups = list(selection.groupby("group", sort=False))
    per_row = max(len(g) for _, g in groups)
    # Two image columns per pair, a narrow spacer column between pairs.
    ratios = [r for k in range(per_row) for r in ((0.25,) if k else ()) + (1, 1)]
    fig = plt.figure(figsize=(1.75 * 2 * per_row + 1.0, 2.3 * len(groups) + 0.7),
                     layout="constrained")
    grid = fig.add_gridspec(len(groups), len(ratios), width_ratios=ratios)
    for r, (label, pairs) in enumerate(groups):
        for k, pair in enumerate(pairs.to_dict("records")):
            for j, which in enumerate("ab"):
                post = pair[f"{which}_post_id"]
                ax = fig.add_subplot(grid[r, 3 * k + j])
                _image_cell(ax, Path(image_root) / plan["posts"][post]["image"],
                            PALETTE[2] if which == "a" else PALETTE[1])
                ax.set_xlabel(f"chosen {100 * pair[f'share_{which}']:.0f} %\n"
                              f"likes {plan['posts'][post]['likes']:,}\n"
                              f"{score_label} {pair[f'score_{which}']:.2f}", fontsize=7)
                if k == 0 and j == 0:
                    ax.set_ylabel(label.replace(", ", ",\n"), fontsize=8)
    width = int(18 * (1.75 * 2 * per_row + 1.0))
    fig.suptitle("Humans vs model on PDIPs (in each pair, left: more likes, green frame)\n"
                 + textwrap.fill(note, width), fontsize=8)
    return fig


def logit_bins(p_low, p_high) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bins of P on the log-odds axis: ``(left, right, centre)`` of each bin in logit units.

    ``logit(P) = ln(P / (1 - P))`` spreads the bins near 1 that a linear axis crowds together
    (0.999 and 0.9999 lie 2.3 apart). An edge at P = 1 (or 0) has no finite logit: it is drawn
    one neighbouring bin width (in logit units; ln 10 for a lone bin) beyond the bin's other
    edge.
    """
    left = logit(np.asarray(p_low, dtype=np.float64))
    right = logit(np.asarray(p_high, dtype=np.float64))
    width = right - left
    open_bins = np.flatnonzero(~np.isfinite(width))
    for i in open_bins:
        closed = [j for j in (i - 1, i + 1) if 0 <= j < len(width) and j not in open_bins]
        width[i] = width[closed[0]] if closed else np.log(10.0)
    right = np.where(np.isinf(right), left + width, right)
    left = np.where(np.isinf(left), right - width, left)
    return left, right, (left + right) / 2


def p_label(p: float) -> str:
    """A bin edge as text, 1 - P to two significant digits (pandas moves the lowest edge by a
    hair: 0.9499 reads 0.95): 0.9999 -> "0.9999", 1 -> "1"."""
    if p >= 1.0 or p <= 0.0:
        return f"{p:g}"
    return f"{1.0 - float(f'{1.0 - p:.2g}'):.8f}".rstrip("0")


def accuracy_by_p_figure(binned: pd.DataFrame, note: str) -> plt.Figure:
    """Accuracy (%) of majority vote, single subjects and (if present) the model per bin of P,
    on the log-odds axis of P (:func:`logit_bins`); shaded bands show the bins, ticks their
    edges as P, the points sit at the bins' centres (series side by side)."""
    use_style()
    fig, ax = plt.subplots(figsize=(5.2, 3.2))
    left, right, centre = logit_bins(binned["p_low"], binned["p_high"])
    for i, (lo, hi) in enumerate(zip(left, right)):
        ax.axvspan(lo, hi, color="#000000", alpha=0.05 if i % 2 == 0 else 0.0, linewidth=0)
    series = [("majority", "majority vote"), ("single", "single subject"), ("model", "model")]
    present = [s for s in series if s[0] in binned]
    shift = 0.07 * float(np.min(right - left))
    for i, (key, label) in enumerate(present):
        err = np.vstack([binned[key] - binned[f"{key}_low"], binned[f"{key}_high"] - binned[key]])
        ax.errorbar(centre + (i - (len(present) - 1) / 2) * shift, binned[key], yerr=err,
                    marker="o", capsize=3, label=label, color=PALETTE[i])
    edges = np.r_[left[:1], right]
    p_edges = np.r_[binned["p_low"].to_numpy()[:1], binned["p_high"].to_numpy()]
    # An edge at P = 1 (or 0) sits where logit_bins put it: the arrow says it is not to scale.
    labels = [("\u2192 " if p in (0.0, 1.0) else "") + p_label(p) for p in p_edges]
    ax.set_xticks(edges, labels, fontsize=7)
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("P of the pair (Eq. 6), log-odds axis; bands: the bins")
    ax.set_ylabel("accuracy (%) with 95 % CI")
    ax.set_title(textwrap.fill(note, 90), fontsize=8, pad=14)
    ax.grid(axis="x", visible=False)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    for x, n in zip(centre, binned.get("n_pairs", [])):
        ax.text(x, 1.01, f"n = {int(n)}", transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=6.5, color="#555555")
    return fig
