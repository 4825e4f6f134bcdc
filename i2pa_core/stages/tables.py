"""Glue for the ``tables`` stage: the ``ablate`` settings as the paper's Table 2 (label noise)
and Table 3 (backbones), the paper's value beside the mean of our runs with the t interval over
them, the runs' range, n test pairs per run, the oracle on each row's own test pairs, and the
paired comparisons across runs (Holm-adjusted within each table).

Table 3's small-CNN row is Table 2's 0 % setting: the same runs, not retrained.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from i2pa_core import paper
from i2pa_core.config import ConfigError
from i2pa_core.io.files import read_metrics
from i2pa_core.metrics import holm, paired_runs_difference

PAPER_NOISE = paper.TABLE2_NOISE   # ImageNet-pretrained ResNet-50 on 2.5 M Instagram PDIPs
PAPER_BACKBONE = paper.TABLE3_BACKBONE

BACKBONE_NAMES = {"alexnet": "AlexNet", "vgg16": "VGGNet (VGG-16)", "resnet50": "ResNet-50",
                  "resnet101": "ResNet-101", "resnet18": "ResNet-18",
                  "efficientnet_lite0": "EfficientNet-Lite0",
                  "smallcnn": "small CNN (CPU default)"}
P_COLUMN = "p (paired t, Holm)"
# A from-scratch run of one of the paper's ImageNet backbones that saw fewer training pairs
# (pairs per epoch x epochs) than this is "not run at a meaningful budget": our threshold, set
# far above the one batch the CPU default gives those networks.
MEANINGFUL_PAIRS = 10_000
STEP_OF_PAPER = 1.0   # Table 2's steps in the paper are about 1 point apart (76.65 ... 73.10)


def read_runs(root: str | os.PathLike, names) -> list[dict]:
    """The full metrics of each named setting, ``root/<name>/`` (stale folders of removed runs
    ignored).

    Raises:
        ConfigError: a setting without its metrics file (its ``ablate`` stage has not run).
    """
    records = []
    for name in names:
        path = Path(root) / name / "metrics.json"
        if not path.is_file():
            raise ConfigError(f"ablate.runs.{name}: {path} is missing; run "
                              f"'dvc repro ablate@{name}' first")
        records.append(read_metrics(path))
    return records


def accuracies(rec: dict) -> list[float]:
    """The test accuracy (%) of each run of a setting, by repeat."""
    return [r["test_accuracy"] for r in sorted(rec["run_records"], key=lambda r: r["repeat"])]


def paired(rec: dict, ref: dict) -> dict | None:
    """``rec`` minus ``ref``, run k against run k (:func:`paired_runs_difference`), when the
    two were tested on the same pairs with the same training seeds; else None."""
    seeds = [[r["seed"] for r in sorted(x["run_records"], key=lambda r: r["repeat"])]
             for x in (rec, ref)]
    if rec["test_digest"] != ref["test_digest"] or seeds[0] != seeds[1] or len(seeds[0]) < 2:
        return None
    return paired_runs_difference(accuracies(rec), accuracies(ref))


def _row(rec: dict) -> dict:
    return {"Mean of runs (%)": rec["mean_accuracy"], "CI low": rec["runs_ci_low"],
            "CI high": rec["runs_ci_high"], "Runs": rec["runs"],
            "Runs min-max (%)": f"{rec['runs_min']:.1f}-{rec['runs_max']:.1f}",
            "n test pairs per run": rec["test_n"],
            "Oracle (%)": rec.get("oracle_accuracy", float("nan")),
            "Train pairs x epochs": f"{rec['train_pairs_per_epoch']} x {rec['epochs']}"}


def _difference(diff: dict | None, p_holm: float, resolvable: bool = False) -> dict:
    """The paired difference's columns; ``resolvable`` adds :func:`paired_resolvable`."""
    nan = float("nan")
    out = ({"Diff. (points)": nan, "Diff. CI low": nan, "Diff. CI high": nan, P_COLUMN: nan}
           if diff is None else
           {"Diff. (points)": diff["mean"], "Diff. CI low": diff["ci_low"],
            "Diff. CI high": diff["ci_high"], P_COLUMN: p_holm})
    if resolvable:
        out["Resolvable (points)"] = nan if diff is None else paired_resolvable(diff["sd"],
                                                                                diff["runs"])
    return out


def _adjusted(diffs: list[dict | None]) -> list[float]:
    """Holm-adjusted paired-t p of each comparison (NaN where there is none)."""
    return list(holm([np.nan if d is None else d["p_value"] for d in diffs]))


def noise_runs(records: list[dict]) -> list[dict]:
    """The Table 2 settings, by ascending noise level."""
    return sorted((r for r in records if r["table"] == "noise"), key=lambda r: r["label_noise"])


def noise_reference(records: list[dict]) -> dict | None:
    """Table 2's 0 % setting (also Table 3's small-CNN row and the beyond reference)."""
    return next((r for r in noise_runs(records) if r["label_noise"] == 0.0), None)


def noise_table(records: list[dict]) -> pd.DataFrame:
    """Table 2: one row per noise level, paper value next to ours, and the difference to 0 %
    paired over runs (Holm over the levels)."""
    rows, ref = noise_runs(records), noise_reference(records)
    diffs = [None if ref is None or r is ref else paired(r, ref) for r in rows]
    return pd.DataFrame([{"Noise (%)": f"{100 * r['label_noise']:g}",
                          "Paper (%)": PAPER_NOISE.get(round(r["label_noise"], 4), float("nan")),
                          **_row(r), **_difference(d, p, resolvable=True)}
                         for r, d, p in zip(rows, diffs, _adjusted(diffs))])


def backbone_runs(records: list[dict]) -> list[dict]:
    """Table 3's rows: the paper's backbones in the paper's order, Table 2's 0 % setting (the
    CPU default network), then the other backbones by name, pretrained before from scratch."""
    order = {name: k for k, name in enumerate(PAPER_BACKBONE)}
    ref = noise_reference(records)
    own = sorted((r for r in records if r["table"] == "backbone"),
                 key=lambda r: (r["backbone"] not in order, order.get(r["backbone"], 0),
                                r["backbone"], not r["pretrained"], r["run"]))
    return ([r for r in own if r["backbone"] in order] + ([ref] if ref else [])
            + [r for r in own if r["backbone"] not in order])


def scratch_twin(rec: dict, rows: list[dict]) -> dict | None:
    """The from-scratch row of ``rec``'s backbone at the same budget, for a pretrained row."""
    if not rec["pretrained"]:
        return None
    return next((r for r in rows if r["backbone"] == rec["backbone"] and not r["pretrained"]
                 and r["budget"] == rec["budget"] and r["preset"] == rec["preset"]), None)


def backbone_note(rec: dict) -> str:
    """Why a row does not compare with the paper's, or where its runs come from."""
    if rec["table"] == "noise":
        return "Table 2's 0 % runs (the same runs)"
    if rec["backbone"] in PAPER_BACKBONE and not rec["pretrained"]:
        seen = rec["train_pairs_per_epoch"] * rec["epochs"]
        text = "from scratch; the paper's value is ImageNet-pretrained"
        return (f"not run at a meaningful budget ({seen:,} training pairs); " + text
                if seen < MEANINGFUL_PAIRS else text)
    return ""


def backbone_table(records: list[dict]) -> pd.DataFrame:
    """Table 3: one row per setting (:func:`backbone_runs`), the paper's value beside each of
    the paper's backbones, and on a pretrained row its difference to the same backbone from
    scratch, paired over runs (Holm over the table's comparisons)."""
    rows = backbone_runs(records)
    diffs = [None if (twin := scratch_twin(r, rows)) is None else paired(r, twin) for r in rows]
    return pd.DataFrame([{"Backbone": BACKBONE_NAMES.get(r["backbone"], r["backbone"]),
                          "Initialisation": "ImageNet" if r["pretrained"] else "from scratch",
                          "Input": r.get("input") or r["preset"],
                          "Paper (%)": PAPER_BACKBONE.get(r["backbone"], float("nan")),
                          **_row(r), **_difference(d, p), "Note": backbone_note(r)}
                         for r, d, p in zip(rows, diffs, _adjusted(diffs))])


def pooled_sd(records: list[dict]) -> tuple[float, int]:
    """The runs' sd pooled over settings (each setting's own mean removed) and its df."""
    ss = sum((len(v) - 1) * float(np.var(v, ddof=1)) for v in map(accuracies, records)
             if len(v) > 1)
    df = sum(len(accuracies(r)) - 1 for r in records)
    return (math.sqrt(ss / df), df) if df > 0 else (float("nan"), 0)


def data_label(records: list[dict]) -> str:
    """The data source of the runs (each run's metrics name it)."""
    from i2pa_core.io.source import SIMULATED_LABEL

    return "; ".join(sorted({r.get("data_source", SIMULATED_LABEL) for r in records}))


def row_name(rec: dict) -> str:
    init = "" if rec["table"] == "noise" else (" (ImageNet)" if rec["pretrained"]
                                               else " (from scratch)")
    return BACKBONE_NAMES.get(rec["backbone"], rec["backbone"]) + init


def summary_rows(records: list[dict]) -> list[dict]:
    """One entry per Table 2 level and Table 3 setting for ``results/tables/metrics.json`` and
    the README results block: label, the paper's value, the mean of the runs with the t
    interval over them (``interval: runs``), runs and n test pairs per run."""
    rows = []
    for r in noise_runs(records):
        value = PAPER_NOISE.get(round(r["label_noise"], 4))
        rows.append((r, "-" if value is None else paper.pct(value),
                     f"Table 2: {100 * r['label_noise']:g} % label noise"))
    for r in backbone_runs(records):
        if r["table"] == "noise":
            continue
        value = PAPER_BACKBONE.get(r["backbone"])
        rows.append((r, "-" if value is None else f"{paper.pct(value)} (pretrained)",
                     f"Table 3: {row_name(r)} ({r['train_pairs_per_epoch']} pairs x "
                     f"{r['epochs']} epochs)"))
    return [{"run": r["run"], "label": label + f", mean of {r['runs']} runs, t interval over runs",
             "paper": value,
             "accuracy": r["mean_accuracy"], "ci_low": r["runs_ci_low"],
             "ci_high": r["runs_ci_high"], "n": r["test_n"], "runs": r["runs"],
             "interval": "runs"} for r, value, label in rows]


def paired_resolvable(sd_d: float, runs: int, confidence: float = 0.95,
                      power: float = 0.8) -> float:
    """Smallest true mean difference that a two-sided paired t test over ``runs`` pairs of runs
    (sd of the run-by-run differences ``sd_d``) detects with probability ``power``:
    ``(t_{1-a/2, runs-1} + t_{power, runs-1}) sd_d / sqrt(runs)``. NaN below two runs."""
    if runs < 2 or not np.isfinite(sd_d):
        return float("nan")
    t_sum = stats.t.ppf(0.5 + confidence / 2, runs - 1) + stats.t.ppf(power, runs - 1)
    return float(t_sum * sd_d / np.sqrt(runs))


def paired_runs_needed(sd_d: float, difference: float, most: int = 1000) -> int | None:
    """Fewest runs for which :func:`paired_resolvable` is at most ``difference``."""
    return next((n for n in range(2, most + 1)
                 if paired_resolvable(sd_d, n) <= difference), None)
