"""Tables, figures and summary rows of the ``beyond`` stage, from the per-setting summaries
(:func:`i2pa_core.beyond.runs.summarise`) and the per-run records: the T x sigma grid, the split
comparison and the losses."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from i2pa_core.io.files import format_p
from i2pa_core.plots.style import PALETTE

SPLIT_NAMES = {"random": "random (the paper's)", "user": "user-disjoint"}
LOSS_NAMES = {"bce": "cross-entropy (the paper's, Eq. 9)", "hinge": "hinge (margin 1)",
              "fidelity": "fidelity"}
P_COLUMN = "p (paired t, Holm)"


def study(entries: list[dict], name: str) -> list[dict]:
    """The settings (or runs) shown in one study: ``grid``, ``split`` or ``loss``."""
    return [e for e in entries if name in e["studies"]]


def _accuracy(s: dict) -> dict:
    return {"Mean of runs (%)": s["accuracy"], "CI low": s["ci_low"], "CI high": s["ci_high"],
            "Runs": s["runs"], "Runs min-max (%)": f"{s['min']:.1f}-{s['max']:.1f}",
            "n test pairs per run": s["test_n"],
            "Oracle (%)": s.get("oracle_accuracy", float("nan"))}


def _difference(s: dict) -> dict:
    """The paired difference to the reference (blank for the reference itself)."""
    if s["studies"][0] == "reference" or "diff" not in s:
        return {"Diff. vs reference (points)": float("nan"), "Diff. CI low": float("nan"),
                "Diff. CI high": float("nan"), P_COLUMN: float("nan")}
    return {"Diff. vs reference (points)": s["diff"], "Diff. CI low": s["diff_ci_low"],
            "Diff. CI high": s["diff_ci_high"],
            P_COLUMN: s.get("diff_p_holm", float("nan"))}


def grid_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per (T, sigma) cell, by T then sigma."""
    rows = sorted(study(summaries, "grid"), key=lambda s: (s["threshold"], s["sigma"]))
    return pd.DataFrame([{"T": s["threshold"], "sigma": s["sigma"], "gap": s["gap"],
                          "PDIPs for training": s["train_pairs_available"],
                          "Label precision": s.get("pool_precision", float("nan")),
                          "Precision CI": _precision_ci(s), **_accuracy(s), **_difference(s)}
                         for s in rows])


def _precision_ci(s: dict) -> str:
    if "pool_ci_low" not in s:
        return "-"
    return f"[{s['pool_ci_low']:.3f}, {s['pool_ci_high']:.3f}]"


def split_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per split, each on its own test pairs (the oracle shows their difficulty)."""
    return pd.DataFrame([{"Split": SPLIT_NAMES.get(s["split"], s["split"]), **_accuracy(s),
                          "Same test pairs as reference": "yes" if s["common_test"] else "no"}
                         for s in study(summaries, "split")])


def loss_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per loss, all on the reference's test pairs."""
    return pd.DataFrame([{"Loss": LOSS_NAMES.get(s["loss"], s["loss"]), **_accuracy(s),
                          **_difference(s)} for s in study(summaries, "loss")])


def budget_text(summaries: list[dict], reference_run: str) -> str:
    """The shared budget, the repeats and where the reference's runs come from."""
    ref = summaries[0]
    return (f"Every setting was trained {ref['runs']} times from scratch at one budget, each run "
            f"for {ref['epochs']} epoch(s) of at most {ref['train_pairs_per_epoch']:,} training "
            f"PDIPs (the CPU default, far below the paper's). The reference's runs are the "
            f"ablate run {reference_run} (Table 2's 0 % runs, Table 3's small CNN row), not "
            f"retrained; run k of every setting uses the reference's training seed of run k")


INTERVALS = ("CI: 95 % t interval of the mean over the runs, so it holds the training noise; "
             "n: test pairs per run (every run's own accuracy, with its 95 % bootstrap "
             "interval over those pairs, is in results/beyond/details.json)")
PAIRED = ("Diff. vs reference: mean over k of (run k - reference run k) on the same test pairs, "
          "with its 95 % t interval over the runs and the two-sided paired t test, Holm-adjusted "
          "over the {m} comparisons of this table; the reference is T = {t:g}, sigma = {s:g}, "
          "{split} split, {loss} loss")


def trend_text(trend: dict | None) -> str:
    """The slope of accuracy on the gap over every grid run
    (:func:`i2pa_core.beyond.runs.gap_trend`)."""
    if trend is None:
        return ""
    return (f" Over all {trend['n_runs']} grid runs, accuracy changes by {trend['slope']:+.2f} "
            f"points per unit of gap (95 % CI {trend['ci_low']:+.2f} to {trend['ci_high']:+.2f}, "
            f"p = {format_p(trend['p_value'])}, least squares over the runs as if independent).")


def caption(name: str, summaries: list[dict], simulated_note: str, reference_run: str,
            figure: bool = False, trend: dict | None = None) -> str:
    """Caption of the grid, split or loss table (or, with ``figure``, of its figure); ``trend``
    adds the grid's slope on the gap."""
    ref = summaries[0]
    what = {
        "grid": "Beyond the paper: test pairwise accuracy (%) after retraining on the PDIPs of "
                "each (T, sigma) of Eq. 6. A cell's pairs depend only on its gap = sqrt(2) "
                "sigma Phi^-1(T) in ln likes; its training pairs share no post with the default "
                "validation and test PDIPs, and every cell is tested on the same "
                f"{ref['test_n']:,} default (T = {ref['threshold']:g}, sigma = "
                f"{ref['sigma']:g}) test PDIPs, the oracle on those pairs. Label precision: "
                "share of the cell's training PDIPs whose label agrees with the hidden intrinsic "
                "score (Wilson 95 % CI)",
        "split": "Beyond the paper: test pairwise accuracy (%) with the default PDIPs split at "
                 "random (the paper's) or by user (no user in two splits), each tested on its "
                 "own test pairs, so the two are not paired and no test compares them; the "
                 "oracle (the hidden intrinsic score) gives each test set's ceiling",
        "loss": "Beyond the paper: test pairwise accuracy (%) of the default model trained with "
                "each pairwise loss on the same pairs and tested on the same test pairs",
    }[name]
    text = (f"{what}.{trend_text(trend)} {simulated_note} "
            f"{budget_text(summaries, reference_run)}. {INTERVALS}")
    if figure or name == "split":
        return text + (". Dots: single runs." if figure else ".")
    compared = [s for s in study(summaries, name) if "diff" in s]
    return text + ". " + PAIRED.format(m=len(compared), t=ref["threshold"], s=ref["sigma"],
                                       split=ref["split"], loss=ref["loss"]) + "."


def _errorbars(entries: list[dict], key: str = "accuracy", low: str = "ci_low",
               high: str = "ci_high") -> np.ndarray:
    return np.vstack([[e[key] - e[low] for e in entries], [e[high] - e[key] for e in entries]])


def plot_grid(summaries: list[dict], records: list[dict], trend: dict | None = None) -> plt.Figure:
    """Left: each cell's difference to the reference, paired over runs, with its t interval
    (the cells' own noise, not a colour scale); right: accuracy (runs, means with t intervals,
    the fitted ``trend``) and label precision against the gap."""
    cells = sorted(study(summaries, "grid"), key=lambda c: c["gap"])
    fig, (diff, line) = plt.subplots(1, 2, figsize=(13, 3.8),
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    paired = [c for c in cells if "diff" in c]
    y = np.arange(len(paired))[::-1]
    diff.errorbar([c["diff"] for c in paired], y, xerr=_errorbars(paired, "diff", "diff_ci_low",
                                                                  "diff_ci_high"),
                  fmt="o", color=PALETTE[0], capsize=3, label="mean of paired differences "
                                                              "(95 % t CI over runs)")
    diff.axvline(0.0, color="0.3", lw=0.8)
    diff.set_yticks(y, [f"T {c['threshold']:g}, sigma {c['sigma']:g} (gap {c['gap']:.2f})"
                        for c in paired])
    diff.set(xlabel="test accuracy minus the reference's (points)",
             title="each cell vs the reference, run k vs run k")
    diff.grid(axis="y", visible=False)
    diff.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2))
    runs = study(records, "grid")
    line.plot([r["gap"] for r in runs], [r["test_accuracy"] for r in runs], ".",
              color=PALETTE[0], alpha=0.45, label="single runs")
    line.errorbar([c["gap"] for c in cells], [c["accuracy"] for c in cells],
                  yerr=_errorbars(cells), fmt="o-", color=PALETTE[0], capsize=2,
                  label="mean of runs (95 % t CI)")
    if trend is not None:
        x = np.array([cells[0]["gap"], cells[-1]["gap"]])
        line.plot(x, trend["intercept"] + trend["slope"] * x, ":", color=PALETTE[0],
                  label=f"least-squares line, slope {trend['slope']:+.1f} "
                        f"[{trend['ci_low']:+.1f}, {trend['ci_high']:+.1f}]")
    if all("pool_precision" in c for c in cells):
        line.plot([c["gap"] for c in cells], [100 * c["pool_precision"] for c in cells], "s--",
                  color=PALETTE[1], label="label precision of the training PDIPs")
    line.set(xlabel="gap = sqrt(2) sigma Phi^-1(T) (ln likes)", ylabel="%",
             title="what the grid varies: the gap")
    line.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))   # beside, clear of the left's
    fig.tight_layout()
    return fig


def plot_split_loss(summaries: list[dict], records: list[dict]) -> plt.Figure:
    """Mean accuracy with its t interval per split (oracle marked) and per loss; dots: runs."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 2.6))
    panels = ((axes[0], "split", SPLIT_NAMES, "split of the PDIPs"),
              (axes[1], "loss", LOSS_NAMES, "pairwise loss"))
    for ax, key, names, title in panels:
        rows = study(summaries, key)
        y = np.arange(len(rows))[::-1]
        ax.barh(y, [s["accuracy"] for s in rows], xerr=_errorbars(rows), color=PALETTE[0],
                capsize=3, height=0.6, label="mean of runs (95 % t CI)")
        for yi, s in zip(y, rows):
            ax.plot(s["run_accuracies"], [yi] * s["runs"], ".", color="0.15",
                    label="single runs" if yi == y[0] else None)
        if key == "split" and all("oracle_accuracy" in s for s in rows):
            ax.plot([s["oracle_accuracy"] for s in rows], y, "D", color=PALETTE[1],
                    label="oracle on the same pairs")
        ax.set_yticks(y, [names.get(s[key], s[key]) for s in rows])
        ax.set(xlim=(50, 100), xlabel="test accuracy (%)", title=title)
        ax.grid(axis="y", visible=False)
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3)
    fig.tight_layout()
    return fig


def summary_rows(summaries: list[dict]) -> list[dict]:
    """One entry per setting for ``results/beyond/metrics.json`` and the README results block:
    the mean of its runs with the t interval over them (``interval: runs``) and the test pairs
    per run."""
    def label(s: dict) -> str:
        runs = f"mean of {s['runs']} runs, t interval over runs"
        if "grid" in s["studies"]:
            ref = " = the reference (Table 2's 0 % runs)" if s["studies"][0] == "reference" else ""
            return (f"beyond the paper: retrained on T = {s['threshold']:g}, sigma = "
                    f"{s['sigma']:g} (gap {s['gap']:.2f}){ref}, {runs}")
        if "split" in s["studies"]:
            return (f"beyond the paper: {SPLIT_NAMES.get(s['split'], s['split'])} split, own "
                    f"test pairs (oracle {s.get('oracle_accuracy', float('nan')):.1f} %), {runs}")
        return f"beyond the paper: {LOSS_NAMES.get(s['loss'], s['loss'])} loss, {runs}"

    grid = sorted(study(summaries, "grid"), key=lambda s: (s["threshold"], s["sigma"]))
    rest = [s for s in summaries if "grid" not in s["studies"]]
    return [{"setting": s["setting"], "label": label(s), "paper": "-", "accuracy": s["accuracy"],
             "ci_low": s["ci_low"], "ci_high": s["ci_high"], "n": s["test_n"],
             "runs": s["runs"], "interval": "runs"} for s in grid + rest]
