"""One figure style for every output, and one way to save figures (PNG and PDF, atomically)."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from i2pa_core.io.files import atomic_path  # noqa: E402
from i2pa_core.io.source import SIMULATED_LABEL  # noqa: E402

SIMULATED_NOTE = f"Data: {SIMULATED_LABEL}."  # = DataSource.of(<the platform>).note

PALETTE = ["#1b6ca8", "#e4572e", "#29a36a", "#8e6c8a", "#f2a541", "#5c5c5c"]

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
    "pdf.fonttype": 42,
    "svg.hashsalt": "i2pa",
}


def use_style() -> None:
    """Apply the package's matplotlib style (Agg backend, consistent fonts and colours)."""
    plt.rcParams.update(STYLE)


# Every figure module imports this one, so every figure is drawn in the package's style.
use_style()


def save_figure(fig: plt.Figure, stem: str | os.PathLike, caption: str | None = None) -> list[Path]:
    """Save ``fig`` as ``stem.png`` and ``stem.pdf`` atomically and close it.

    Args:
        fig: the figure.
        stem: path without extension, e.g. ``figures/fig4_comparison``.
        caption: optional text drawn under the axes; outputs made from simulated data must say so.
    """
    stem = Path(stem)
    if caption:
        fig.text(0.5, -0.02, caption, ha="center", va="top", fontsize=8, style="italic",
                 wrap=True)
    paths = []
    for ext in ("png", "pdf"):
        target = stem.with_suffix(f".{ext}")
        with atomic_path(target) as tmp:
            # Fixed metadata keeps re-runs byte-stable where the backend allows it.
            meta = {"Software": "i2pa"} if ext == "png" else {"Creator": "i2pa", "Producer": "i2pa",
                                                              "CreationDate": None}
            fig.savefig(tmp, format=ext, metadata=meta, bbox_inches="tight",
                        dpi=STYLE["savefig.dpi"])
        paths.append(target)
    plt.close(fig)
    return paths


def not_available_figure(reason: str) -> plt.Figure:
    """A figure that says "not available: <reason>", for an output that this input cannot give
    (no ground truth, no human answers, a skipped stage). Save it with the data-source caption."""
    import textwrap

    fig, ax = plt.subplots(figsize=(5.5, 1.4))
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(f"not available: {reason}", 72), ha="center", va="center",
            fontsize=10, color="#5c5c5c", transform=ax.transAxes)
    return fig


def write_not_available(stem: str | os.PathLike, reason: str, note: str,
                        figure: bool = True, table: bool = True) -> None:
    """Write ``stem``'s figure (PNG, PDF) and/or table (CSV, Markdown, LaTeX) as "not available:
    <reason>", captioned with the data source ``note``."""
    import pandas as pd

    from i2pa_core.io.files import write_table

    if table:
        write_table(stem, pd.DataFrame({"not available": [reason]}),
                    f"Not available: {reason}. {note}")
    if figure:
        save_figure(not_available_figure(reason), stem, caption=note)
