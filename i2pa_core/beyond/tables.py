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


def study(entries: list[dict], name: str) -> list[dict]:
    """The settings (or runs) shown in one study: ``grid``, ``split`` or ``loss``."""
    return [e for e in entries if name in e["studies"]]


def _accuracy(s: dict) -> dict:
    return {"Mean of runs (%)": s["accuracy"], "CI low": s["ci_low"], "CI high": s["ci_high"],
            "Runs": s["runs"], "Runs min-max (%)": f"{s['min']:.1f}-{s['max']:.1f}",
            "n test pairs": s["test_n"], "Oracle (%)": s.get("oracle_accuracy", float("nan"))}


def _mcnemar(s: dict) -> str:
    if s["studies"][0] == "reference":
        return "reference"
    return " / ".join(format_p(p) for p in s["mcnemar_p_values"]) or "-"


def grid_table(summaries: list[dict]) -> pd.DataFrame:
    """One row per (T, sigma) cell, by T then sigma."""
    rows = sorted(study(summaries, "grid"), key=lambda s: (s["threshold"], s["sigma"]))
    return pd.DataFrame([{"T": s["threshold"], "sigma": s["sigma"], "gap": s["gap"],
                          "PDIPs for training": s["train_pairs_available"],
                          "Label precision": s.get("pool_precision", float("nan")),
                          "Precision CI": _precision_ci(s), **_accuracy(s),
                          "McNemar p per run vs reference": _mcnemar(s)} for s in rows])


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
                          "McNemar p per run vs reference": _mcnemar(s)}
                         for s in study(summaries, "loss")])


def budget_text(summaries: list[dict]) -> str:
    """The shared budget and the repeats."""
    ref = summaries[0]
    return (f"Every setting was trained {ref['runs']} times from scratch (training seed and "
            f"training sample change between runs), each run for {ref['epochs']} epoch(s) on "
            f"{ref['train_pool']:,} training PDIPs at most (one budget for all; the CPU "
            f"default, far below the paper's)")


INTERVALS = ("CI: 95 % t interval of the mean over the runs, so it holds the training noise; "
             "n: test pairs per run (every run's own accuracy, with its 95 % bootstrap "
             "interval over those pairs, is in results/beyond/metrics.json)")
MCNEMAR = ("McNemar: exact two-sided test of each run against the reference run (T = {t:g}, "
           "sigma = {s:g}, {split} split, {loss} loss) of the same repeat on the same test "
           "pairs; it holds the test pairs' sampling only, not the training noise")


def trend_text(trend: dict | None) -> str:
    """The slope of accuracy on the gap over every grid run
    (:func:`i2pa_core.beyond.runs.gap_trend`)."""
    if trend is None:
        return ""
    return (f" Over all {trend['n_runs']} grid runs, accuracy changes by {trend['slope']:+.2f} "
            f"points per unit of gap (95 % CI {trend['ci_low']:+.2f} to {trend['ci_high']:+.2f}, "
            f"p = {format_p(trend['p_value'])}, least squares).")


def caption(name: str, summaries: list[dict], simulated_note: str, figure: bool = False,
            trend: dict | None = None) -> str:
    """Caption of the grid, split or loss table (or, with ``figure``, of its figure); ``trend``
    adds the grid's slope on the gap."""
    ref = summaries[0]
    what = {
        "grid": "Beyond the paper: test pairwise accuracy (%) after retraining on the PDIPs of "
                "each (T, sigma) of Eq. 6. A cell's pairs depend only on its gap = sqrt(2) "
                "sigma Phi^-1(T) in ln likes; its training pairs share no post with the default "
                "validation and test PDIPs, and every cell is tested on the same sample of the "
                f"default (T = {ref['threshold']:g}, sigma = {ref['sigma']:g}) test PDIPs. Label "
                "precision: share of the cell's training PDIPs whose label agrees with the "
                "hidden intrinsic score (Wilson 95 % CI)",
        "split": "Beyond the paper: test pairwise accuracy (%) with the default PDIPs split at "
                 "random (the paper's) or by user (no user in two splits), each tested on its "
                 "own test pairs, so the two are not paired; the oracle (the hidden intrinsic "
                 "score) gives each test set's ceiling",
        "loss": "Beyond the paper: test pairwise accuracy (%) of the default model trained with "
                "each pairwise loss on the same pairs and tested on the same test pairs",
    }[name]
    text = f"{what}.{trend_text(trend)} {simulated_note} {budget_text(summaries)}. {INTERVALS}"
    if figure:
        return text + ". Dots: single runs."
    return text + ". " + MCNEMAR.format(t=ref["threshold"], s=ref["sigma"], split=ref["split"],
                                        loss=ref["loss"]) + "."


def _errorbars(entries: list[dict]) -> np.ndarray:
    return np.vstack([[e["accuracy"] - e["ci_low"] for e in entries],
                      [e["ci_high"] - e["accuracy"] for e in entries]])


def plot_grid(summaries: list[dict], records: list[dict], trend: dict | None = None) -> plt.Figure:
    """Heat map of the mean accuracy over T x sigma; accuracy (runs, means and the fitted
    ``trend``) and label precision against the gap."""
    cells = study(summaries, "grid")
    ts, ss = sorted({c["threshold"] for c in cells}), sorted({c["sigma"] for c in cells})
    mean = np.full((len(ts), len(ss)), np.nan)
    for c in cells:
        mean[ts.index(c["threshold"]), ss.index(c["sigma"])] = c["accuracy"]
    fig, (heat, line) = plt.subplots(1, 2, figsize=(10, 3.8),
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    image = heat.imshow(mean, cmap="viridis", aspect="auto", origin="lower")
    for c in cells:
        i, j = ts.index(c["threshold"]), ss.index(c["sigma"])
        heat.text(j, i, f"{c['accuracy']:.1f}\n[{c['ci_low']:.1f}, {c['ci_high']:.1f}]\n"
                  f"gap {c['gap']:.2f}", ha="center", va="center", fontsize=7,
                  color="white" if mean[i, j] < np.nanmean(mean) else "black")
    heat.set_xticks(range(len(ss)), [f"{s:g}" for s in ss])
    heat.set_yticks(range(len(ts)), [f"{t:g}" for t in ts])
    heat.set(xlabel="sigma", ylabel="threshold T", title="mean test accuracy (%) per (T, sigma)")
    heat.grid(False)
    fig.colorbar(image, ax=heat, fraction=0.05)
    cells = sorted(cells, key=lambda c: c["gap"])
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
    line.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
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
    the mean of its runs with the t interval over them and the test pairs per run."""
    def label(s: dict) -> str:
        runs = f"mean of {s['runs']} runs"
        if "grid" in s["studies"]:
            ref = " = the reference" if s["studies"][0] == "reference" else ""
            return (f"beyond the paper: retrained on T = {s['threshold']:g}, sigma = "
                    f"{s['sigma']:g} (gap {s['gap']:.2f}){ref}, {runs}")
        if "split" in s["studies"]:
            return (f"beyond the paper: {SPLIT_NAMES.get(s['split'], s['split'])} split, own "
                    f"test pairs (oracle {s.get('oracle_accuracy', float('nan')):.1f} %), {runs}")
        return f"beyond the paper: {LOSS_NAMES.get(s['loss'], s['loss'])} loss, {runs}"

    grid = sorted(study(summaries, "grid"), key=lambda s: (s["threshold"], s["sigma"]))
    rest = [s for s in summaries if "grid" not in s["studies"]]
    return [{"setting": s["setting"], "label": label(s), "paper": "-", "accuracy": s["accuracy"],
             "ci_low": s["ci_low"], "ci_high": s["ci_high"], "n": s["test_n"]}
            for s in grid + rest]
