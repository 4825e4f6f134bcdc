"""Figures of the psychophysical experiment: Fig. 9 examples and accuracy against P.

Fig. 8 (the experiment page) is a browser screenshot taken by ``tests/test_human_browser.py``.
Both functions draw ``note`` (say where the answers came from, e.g. :data:`.SIMULATED_PANEL`)
as the figure title, so a figure cannot lose its provenance.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from i2pa_core.plots.style import PALETTE, use_style


def fig9_examples(selection: pd.DataFrame, plan: dict, image_root: str | os.PathLike,
                  note: str, score_label: str = "score") -> plt.Figure:
    """Fig. 9: each selected pair (:func:`i2pa_core.human.analysis.fig9_selection`) as two images.

    Each image is labelled with the share of subjects who chose it, its likes and the model
    score; the more popular post is on the left, its frame green.
    """
    use_style()
    rows = len(selection)
    fig, axes = plt.subplots(rows, 2, figsize=(4.2, 2.0 * rows), squeeze=False)
    for ax_pair, pair in zip(axes, selection.to_dict("records")):
        for ax, which in zip(ax_pair, "ab"):
            post = pair[f"{which}_post_id"]
            ax.imshow(Image.open(Path(image_root) / plan["posts"][post]["image"]).convert("RGB"))
            ax.set_xticks([]), ax.set_yticks([]), ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color(PALETTE[2] if which == "a" else PALETTE[1])
                spine.set_linewidth(2)
            ax.set_xlabel(f"chosen {100 * pair[f'share_{which}']:.0f} %\n"
                          f"likes {plan['posts'][post]['likes']:,}\n"
                          f"{score_label} {pair[f'score_{which}']:.2f}", fontsize=7)
        ax_pair[0].set_ylabel(pair["group"].replace(", ", ",\n"), fontsize=7)
    fig.suptitle(f"Humans vs model on PDIPs (left: more likes)\n{note}", fontsize=8)
    fig.tight_layout()
    return fig


def accuracy_by_p_figure(binned: pd.DataFrame, note: str) -> plt.Figure:
    """Accuracy (%) of majority vote, single subjects and (if present) the model per bin of P."""
    use_style()
    fig, ax = plt.subplots(figsize=(4.6, 3.0))
    centre = (binned["p_low"].to_numpy() + binned["p_high"].to_numpy()) / 2
    series = [("majority", "majority vote"), ("single", "single subject"), ("model", "model")]
    for i, (key, label) in enumerate(s for s in series if s[0] in binned):
        err = np.vstack([binned[key] - binned[f"{key}_low"], binned[f"{key}_high"] - binned[key]])
        ax.errorbar(centre + (i - 1) * 0.0008, binned[key], yerr=err, marker="o", capsize=3,
                    label=label, color=PALETTE[i])
    ax.axhline(50, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("P of the pair (Eq. 6), bin centre")
    ax.set_ylabel("accuracy (%) with 95 % CI")
    ax.set_title(note, fontsize=8)
    ax.legend(fontsize=7)
    return fig
