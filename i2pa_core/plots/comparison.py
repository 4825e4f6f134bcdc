"""Fig. 4 of the paper: pairwise accuracy of every method, ours beside the paper's numbers.

Two panels that never share bars: the left one holds what this package ran on its data source
(re-run methods, the simulated panel of observers, the oracle that reads the ground truth), the
right one what the paper reports on Instagram, which cannot be compared bar for bar with the
left. Each bar is annotated with its accuracy, n (test pairs), the number of training runs it
averages, its interval and its p-value against ours where a test applies.

The input table (one row per bar, top to bottom in the table's order):

``method``; ``kind`` (one of :data:`KINDS`); ``accuracy``, ``ci_low``, ``ci_high`` (fractions,
the interval may be NaN); ``interval`` ("t over runs", "bootstrap over test pairs" or "");
``n`` (test pairs, may be NaN); ``runs`` (training runs averaged, or NaN); ``p_vs_ours`` (may be
NaN); ``test`` (the test behind the p-value, e.g. "paired t over runs", "McNemar (Holm)").
The older table (``source`` "re-run" / "paper", ``mcnemar_p``) is converted by
:func:`from_source_table`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from i2pa_core.io.files import format_p
from i2pa_core.plots.style import PALETTE, plt, use_style

RE_RUN, PANEL, ORACLE, PAPER = ("re-run", "simulated panel", "oracle (ground truth)",
                                "reported in the paper")
KINDS = (RE_RUN, PANEL, ORACLE, PAPER)
KIND_STYLE = {RE_RUN: dict(color=PALETTE[0]), PANEL: dict(color=PALETTE[3]),
              ORACLE: dict(color=PALETTE[2]),
              PAPER: dict(facecolor=PALETTE[5], alpha=0.45, hatch="///", edgecolor="#333333")}
COLUMNS = ("method", "kind", "accuracy", "ci_low", "ci_high", "interval", "n", "runs",
           "p_vs_ours", "test")
_TEXT_COLUMNS = ("interval", "test")


def from_source_table(table: pd.DataFrame) -> pd.DataFrame:
    """The older comparison table (``source`` "re-run" / "paper", ``mcnemar_p``, bootstrap
    intervals over test pairs) in the schema of this module. Its re-run rows named "Oracle ..."
    become the oracle, and rows naming the "simulated panel" that kind."""
    bad = sorted(set(table["source"]) - {"re-run", "paper"})
    if bad:
        raise ValueError(f"unknown source {bad}; allowed: re-run, paper")
    out = table.copy()
    paper = (out["source"] == "paper").to_numpy()
    names = out["method"].astype(str)
    kind = np.where(paper, PAPER, RE_RUN).astype(object)
    kind[(~paper) & names.str.startswith("Oracle").to_numpy()] = ORACLE
    kind[(~paper) & names.str.contains("simulated panel").to_numpy()] = PANEL
    out["kind"] = kind
    has_ci = out.get("ci_low", pd.Series(np.nan, index=out.index)).notna().to_numpy()
    out["interval"] = np.where(has_ci & ~paper, "bootstrap over test pairs", "")
    p = out.get("mcnemar_p", pd.Series(np.nan, index=out.index))
    out["p_vs_ours"] = p
    out["test"] = np.where(p.notna(), "McNemar", "")
    return out.drop(columns=["source", "mcnemar_p"], errors="ignore")


def complete_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every column of :data:`COLUMNS` (missing ones NaN or ""), kinds checked."""
    if "kind" not in table.columns and "source" in table.columns:
        table = from_source_table(table)
    out = table.copy()
    for col in COLUMNS:
        if col not in out.columns:
            out[col] = "" if col in _TEXT_COLUMNS else np.nan
    bad = sorted(set(out["kind"]) - set(KINDS))
    if bad:
        raise ValueError(f"unknown kind {bad}; allowed: {', '.join(KINDS)}")
    for col in _TEXT_COLUMNS:
        out[col] = out[col].fillna("").astype(str)
    return out.reset_index(drop=True)


def bar_details(row) -> list[str]:
    """The annotation lines under one bar: n, runs and interval; the p-value against ours."""
    first = []
    if pd.notna(row["n"]):
        first.append(f"n = {int(row['n']):,} test pairs")
    if pd.notna(row["runs"]):
        runs = int(row["runs"])
        first.append("one training run" if runs == 1 else f"mean of {runs} runs")
    if row["interval"] and pd.notna(row["ci_low"]):
        first.append(f"95 % CI: {row['interval']}")
    elif row["kind"] == PAPER and pd.isna(row["ci_low"]):
        first.append("no interval reported")
    lines = [" \u00b7 ".join(first)] if first else []
    if pd.notna(row["p_vs_ours"]):
        test = f" ({row['test']})" if row["test"] else ""
        text = format_p(row["p_vs_ours"])
        lines.append(f"p {text if text.startswith('<') else '= ' + text} against ours{test}")
    return lines


def _panel(ax: plt.Axes, rows: pd.DataFrame, title: str, ours: str | None, slots: int) -> None:
    """One panel, its rows at the top of ``slots`` row positions (one pitch in both panels)."""
    y = np.arange(len(rows))[::-1].astype(float) + (slots - len(rows))
    acc = 100 * rows["accuracy"].to_numpy(dtype=float)
    low, high = (100 * rows[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high"))
    for yi, a, kind, method in zip(y, acc, rows["kind"], rows["method"]):
        ax.barh(yi + 0.2, a, height=0.42, linewidth=1.6 if method == ours else 0.8,
                **KIND_STYLE[kind])
    has = ~(np.isnan(low) | np.isnan(high))
    ax.errorbar(acc[has], y[has] + 0.2, xerr=[acc[has] - low[has], high[has] - acc[has]],
                fmt="none", ecolor="#222222", capsize=3, linewidth=1)
    for yi, a, end, (_, row) in zip(y, acc, np.where(has, high, acc), rows.iterrows()):
        ax.text(end + 1.8, yi + 0.2, f"{a:.1f} %", va="center", fontsize=8, fontweight="bold")
        details = bar_details(row) + (["ours: the reference of the p-values"]
                                      if row["method"] == ours else [])
        for k, line in enumerate(details):
            ax.text(0.8, yi - 0.13 - 0.2 * k, line, va="center", fontsize=6.5, color="#444444",
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.2))
    ax.axvline(50, color="#888888", linestyle=":", linewidth=1, zorder=0)
    ax.text(50.5, slots - 0.25, "chance", fontsize=7, color="#666666")
    ax.set(yticks=y + 0.2, yticklabels=rows["method"], xlim=(0, 112), ylim=(-0.6, slots - 0.1),
           xticks=np.arange(0, 101, 10), xlabel="pairwise accuracy on test PDIPs (%)")
    ax.spines["bottom"].set_bounds(0, 100)
    ax.grid(axis="y", visible=False)
    ax.set_title(title, fontsize=9, loc="left")


def comparison_bars(table: pd.DataFrame, source_label: str = "its data source",
                    ours: str | None = None) -> plt.Figure:
    """Fig. 4: this package's runs (left panel) and the paper's numbers (right panel).

    Args:
        table: the schema of this module (or the older ``source`` table).
        source_label: the data source of the left panel, e.g. "the simulated platform".
        ours: the method the p-values are against, marked as such (optional).
    """
    use_style()
    table = complete_table(table)
    panels = [(table[table["kind"] != PAPER], f"This package's runs on {source_label}"),
              (table[table["kind"] == PAPER], "Reported in the paper (Instagram; not re-run)")]
    panels = [(rows, title) for rows, title in panels if len(rows)]
    tallest = max(len(rows) for rows, _ in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 0.62 * tallest + 1.6),
                             squeeze=False, layout="constrained")
    for ax, (rows, title) in zip(axes[0], panels):
        _panel(ax, rows, title, ours, tallest)
    kinds = [k for k in KINDS if k in set(table["kind"])]
    handles = [Patch(label=k, **KIND_STYLE[k]) for k in kinds]
    handles.append(Line2D([], [], color="#222222", marker="|", markersize=8, linewidth=1,
                          label="95 % interval (its kind under the bar)"))
    fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), fontsize=8)
    return fig
