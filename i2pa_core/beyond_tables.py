"""Tables, figures and summary rows of the ``beyond`` stage, from its run records
(:func:`.stage_beyond.run_all`): the T x sigma grid, the split comparison and the losses."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .plotting import PALETTE

SPLIT_NAMES = {"random": "random (the paper's)", "user": "user-disjoint"}
LOSS_NAMES = {"bce": "cross-entropy (the paper's, Eq. 9)", "hinge": "hinge (margin 1)",
              "fidelity": "fidelity"}


def study(records: list[dict], name: str, repeats: bool = True) -> list[dict]:
    """The records shown in one study (``grid``, ``split`` or ``loss``); the reference's
    retrains with other seeds belong to every study unless ``repeats`` is False."""
    return [r for r in records if name in r["studies"] and (repeats or not r["seed_offset"])]


def _seed(rec: dict) -> str:
    return f"+{rec['seed_offset']}" if rec["seed_offset"] else "base"


def _accuracy(rec: dict) -> dict:
    return {"Ours (%)": rec["test_accuracy"], "CI low": rec["test_ci_low"],
            "CI high": rec["test_ci_high"], "n test pairs": rec["test_n"],
            "Oracle (%)": rec.get("oracle_accuracy", float("nan"))}


def _mcnemar(rec: dict) -> str:
    if "mcnemar_p_value" not in rec:
        return "reference" if rec["run"] == "reference" else "-"
    return f"{rec['mcnemar_p_value']:.2g} (b={rec['mcnemar_b']}, c={rec['mcnemar_c']})"


def _pool(rec: dict) -> str:
    if "pool_precision" not in rec:
        return "-"
    return f"{rec['pool_precision']:.3f} [{rec['pool_ci_low']:.3f}, {rec['pool_ci_high']:.3f}]"


def grid_table(records: list[dict]) -> pd.DataFrame:
    """One row per (T, sigma) cell, by T then sigma."""
    rows = sorted(study(records, "grid"),
                  key=lambda r: (r["threshold"], r["sigma"], r["seed_offset"]))
    return pd.DataFrame([{"T": r["threshold"], "sigma": r["sigma"], "gap": r["gap"],
                          "Training seed": _seed(r),
                          "PDIPs for training": r["train_pairs_available"],
                          "Trained on": r["train_pool"],
                          "Label precision of those": _pool(r), **_accuracy(r),
                          "McNemar p vs reference": _mcnemar(r)} for r in rows])


def split_table(records: list[dict]) -> pd.DataFrame:
    """One row per split, each on its own test pairs (the oracle shows their difficulty)."""
    return pd.DataFrame([{"Split": SPLIT_NAMES.get(r["split"], r["split"]),
                          "Training seed": _seed(r), "Trained on": r["train_pool"], **_accuracy(r),
                          "Same test pairs as reference": "yes" if r["common_test"] else "no"}
                         for r in study(records, "split")])


def loss_table(records: list[dict]) -> pd.DataFrame:
    """One row per loss, all on the reference's test pairs."""
    return pd.DataFrame([{"Loss": LOSS_NAMES.get(r["loss"], r["loss"]),
                          "Training seed": _seed(r), **_accuracy(r),
                          "McNemar p vs reference": _mcnemar(r)}
                         for r in study(records, "loss")])


def budget_text(records: list[dict]) -> str:
    """The shared budget, and the reference's repeats as the yardstick of training noise."""
    ref = records[0]
    text = (f"Every run trained from scratch for {ref['epochs']} epoch(s) on a seeded sample of "
            f"at most {max(r['train_pool'] for r in records):,} training PDIPs (the same budget "
            f"for all; the CPU default, far below the paper's).")
    repeats = [r for r in records if r["seed_offset"]]
    if repeats:
        accs = [r["test_accuracy"] for r in [ref, *repeats]]
        text += (f" The reference was trained {len(accs)} times with different training seeds "
                 f"(rows 'seed +k'): {min(accs):.1f}-{max(accs):.1f} %. McNemar tests the "
                 f"test pairs' sampling for the trained models, not this training noise, so a "
                 f"difference between settings counts only beyond that spread.")
    return text


def caption(name: str, records: list[dict], simulated_note: str) -> str:
    """Caption of the grid, split or loss table: data, protocol, budget, interval and test."""
    ref = records[0]
    what = {
        "grid": "Beyond the paper: test pairwise accuracy (%) after retraining on the PDIPs of "
                "each (T, sigma) of Eq. 6. A cell's pairs depend only on its gap = sqrt(2) "
                "sigma Phi^-1(T) in ln likes; training pairs share no post with the default "
                "validation and test PDIPs, and every cell is tested on the same sample of the "
                f"default (T = {ref['threshold']:g}, sigma = {ref['sigma']:g}) test PDIPs. "
                "Label precision: share of the training pairs whose label agrees with the "
                "hidden intrinsic score (Wilson 95 % CI)",
        "split": "Beyond the paper: test pairwise accuracy (%) with the default PDIPs split at "
                 "random (the paper's) or by user (no user in two splits), each tested on its "
                 "own test pairs, so the accuracies are not paired; the oracle gives each test "
                 "set's ceiling",
        "loss": "Beyond the paper: test pairwise accuracy (%) of the default model trained with "
                "each pairwise loss on the same pairs and tested on the same test pairs",
    }[name]
    return (f"{what}. {simulated_note} {budget_text(records)} CI: 95 % bootstrap interval "
            f"over the n test pairs; McNemar: exact two-sided test against the reference run "
            f"(T = {ref['threshold']:g}, sigma = {ref['sigma']:g}, {ref['split']} split, "
            f"{ref['loss']} loss, base seed) on the same pairs, b = pairs only this run gets "
            f"right, c = only the reference; oracle: the hidden intrinsic score.")


def plot_grid(records: list[dict]) -> plt.Figure:
    """Heat map of accuracy over T x sigma, and accuracy and label precision against the gap."""
    rows = study(records, "grid", repeats=False)
    ts = sorted({r["threshold"] for r in rows})
    ss = sorted({r["sigma"] for r in rows})
    acc = np.full((len(ts), len(ss)), np.nan)
    fig, (heat, line) = plt.subplots(1, 2, figsize=(10, 3.8),
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    for r in rows:
        i, j = ts.index(r["threshold"]), ss.index(r["sigma"])
        acc[i, j] = r["test_accuracy"]
    image = heat.imshow(acc, cmap="viridis", aspect="auto", origin="lower")
    for r in rows:
        i, j = ts.index(r["threshold"]), ss.index(r["sigma"])
        heat.text(j, i, f"{r['test_accuracy']:.1f}\n[{r['test_ci_low']:.1f}, "
                  f"{r['test_ci_high']:.1f}]\ngap {r['gap']:.2f}", ha="center", va="center",
                  fontsize=7, color="white" if acc[i, j] < np.nanmean(acc) else "black")
    heat.set_xticks(range(len(ss)), [f"{s:g}" for s in ss])
    heat.set_yticks(range(len(ts)), [f"{t:g}" for t in ts])
    heat.set(xlabel="sigma", ylabel="threshold T", title="test accuracy (%) per (T, sigma)")
    heat.grid(False)
    fig.colorbar(image, ax=heat, fraction=0.05)
    ordered = sorted(rows, key=lambda r: r["gap"])
    g = np.array([r["gap"] for r in ordered])
    a = np.array([r["test_accuracy"] for r in ordered])
    err = np.vstack([a - [r["test_ci_low"] for r in ordered],
                     np.array([r["test_ci_high"] for r in ordered]) - a])
    line.errorbar(g, a, yerr=err, fmt="o-", color=PALETTE[0], capsize=2,
                  label="test accuracy (common test PDIPs)")
    if all("pool_precision" in r for r in ordered):
        line.plot(g, [100 * r["pool_precision"] for r in ordered], "s--", color=PALETTE[1],
                  label="label precision of the training pairs")
    repeats = [r for r in study(records, "grid") if r["seed_offset"]]
    if repeats:
        line.errorbar([r["gap"] for r in repeats], [r["test_accuracy"] for r in repeats],
                      yerr=np.vstack([[r["test_accuracy"] - r["test_ci_low"] for r in repeats],
                                      [r["test_ci_high"] - r["test_accuracy"] for r in repeats]]),
                      fmt="o", mfc="none", color=PALETTE[0], capsize=2,
                      label="reference retrained with other seeds")
    line.set(xlabel="gap = sqrt(2) sigma Phi^-1(T) (ln likes)", ylabel="%",
             title="what the grid varies: the gap")
    line.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_split_loss(records: list[dict]) -> plt.Figure:
    """Accuracy with 95 % CI per split (oracle marked) and per loss."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.0))
    panels = ((axes[0], study(records, "split"), SPLIT_NAMES, "split", "split of the PDIPs"),
              (axes[1], study(records, "loss"), LOSS_NAMES, "loss", "pairwise loss"))
    for ax, rows, names, key, title in panels:
        y = np.arange(len(rows))[::-1]
        a = np.array([r["test_accuracy"] for r in rows])
        err = np.vstack([a - [r["test_ci_low"] for r in rows],
                         np.array([r["test_ci_high"] for r in rows]) - a])
        ax.barh(y, a, xerr=err, color=PALETTE[0], capsize=3, height=0.6, label="ours")
        if key == "split" and all("oracle_accuracy" in r for r in rows):
            ax.plot([r["oracle_accuracy"] for r in rows], y, "D", color=PALETTE[1],
                    label="oracle on the same pairs")
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2)
        ax.set_yticks(y, [names.get(r[key], r[key]) + ("" if not r["seed_offset"] else
                                                         f", seed {_seed(r)}") for r in rows])
        ax.set(xlim=(50, 100), xlabel="test accuracy (%)", title=title)
        ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def summary_rows(records: list[dict]) -> list[dict]:
    """One entry per run for ``results/beyond/metrics.json`` and the README results block."""
    rows = [(r, f"beyond the paper: retrained on T = {r['threshold']:g}, sigma = {r['sigma']:g} "
                f"(gap {r['gap']:.2f})" + (" = the reference" if r["run"] == "reference" else ""))
            for r in sorted(study(records, "grid", repeats=False),
                            key=lambda r: (r["threshold"], r["sigma"]))]
    rows += [(r, f"beyond the paper: the reference retrained with training seed {_seed(r)}")
             for r in records if r["seed_offset"]]
    rows += [(r, f"beyond the paper: {SPLIT_NAMES.get(r['split'], r['split'])} split, own test "
                 f"pairs (oracle {r.get('oracle_accuracy', float('nan')):.1f} %)")
             for r in study(records, "split", repeats=False) if r["run"] != "reference"]
    rows += [(r, f"beyond the paper: {LOSS_NAMES.get(r['loss'], r['loss'])} loss")
             for r in study(records, "loss", repeats=False) if r["run"] != "reference"]
    return [{"run": r["run"], "label": label, "paper": "-", "accuracy": r["test_accuracy"],
             "ci_low": r["test_ci_low"], "ci_high": r["test_ci_high"], "n": r["test_n"]}
            for r, label in rows]
