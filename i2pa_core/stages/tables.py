"""Glue for the ``tables`` stage: the ``ablate`` runs as the paper's Table 2 (label noise) and
Table 3 (backbones), the paper's value beside each of ours with n and a 95 % interval.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from i2pa_core import paper
from i2pa_core.config import ConfigError
from i2pa_core.io.files import read_metrics

# The paper's Tables 2 and 3: ImageNet-pretrained networks on 2.5 M Instagram PDIPs.
PAPER_NOISE = paper.TABLE2_NOISE


PAPER_BACKBONE = paper.TABLE3_BACKBONE


BACKBONE_NAMES = {"alexnet": "AlexNet", "vgg16": "VGGNet (VGG-16)", "resnet50": "ResNet-50",
                  "resnet101": "ResNet-101", "resnet18": "ResNet-18",
                  "smallcnn": "small CNN (CPU default)"}


def read_runs(root: str | os.PathLike, names) -> list[dict]:
    """The metrics of each named run, ``root/<name>/metrics.json`` with its ``details.json``
    (stale folders of removed runs ignored).

    Raises:
        ConfigError: a run without its metrics file (its ``ablate`` stage has not run).
    """
    records = []
    for name in names:
        path = Path(root) / name / "metrics.json"
        if not path.is_file():
            raise ConfigError(f"ablate.runs.{name}: {path} is missing; run "
                              f"'dvc repro ablate@{name}' first")
        records.append(read_metrics(path))
    return records


def _row(rec: dict) -> dict:
    return {"Ours (%)": rec["test_accuracy"], "CI low": rec["test_ci_low"],
            "CI high": rec["test_ci_high"], "n test pairs": rec["test_n"],
            "Train pairs x epochs": f"{rec['train_pairs_per_epoch']} x {rec['epochs']}",
            "Oracle (%)": rec.get("oracle_accuracy", float("nan"))}


def noise_runs(records: list[dict]) -> list[dict]:
    """The Table 2 runs, by ascending noise level."""
    return sorted((r for r in records if r["table"] == "noise"), key=lambda r: r["label_noise"])


def backbone_runs(records: list[dict]) -> list[dict]:
    """The Table 3 runs in the paper's order (others after, by name), then the noise-0 run of
    Table 2 as the reference row of the CPU default network."""
    order = {name: k for k, name in enumerate(PAPER_BACKBONE)}
    rows = sorted((r for r in records if r["table"] == "backbone"),
                  key=lambda r: (order.get(r["backbone"], len(order)), r["run"]))
    return rows + [r for r in noise_runs(records) if r["label_noise"] == 0.0][:1]


def noise_table(records: list[dict]) -> pd.DataFrame:
    """Table 2: one row per noise level, paper value next to ours."""
    return pd.DataFrame([{"Noise (%)": f"{100 * r['label_noise']:g}",
                          "Paper (%)": PAPER_NOISE.get(round(r["label_noise"], 4), float("nan")),
                          **_row(r)} for r in noise_runs(records)])


def backbone_table(records: list[dict]) -> pd.DataFrame:
    """Table 3: one row per backbone, paper value next to ours (:func:`backbone_runs`)."""
    return pd.DataFrame([{"Backbone": BACKBONE_NAMES.get(r["backbone"], r["backbone"])
                          + (" [Table 2, 0 % run]" if r["table"] == "noise" else ""),
                          "Paper (%)": PAPER_BACKBONE.get(r["backbone"], float("nan"))
                          if r["table"] == "backbone" else float("nan"),
                          **_row(r)} for r in backbone_runs(records)])


def budget_note(records: list[dict]) -> str:
    """How much each run trained, and whether any got a smaller budget than the rest."""
    spent = {(r["train_pairs_per_epoch"], r["epochs"]) for r in records}
    pretrained = any(r["pretrained"] for r in records)
    init = ("ImageNet-pretrained" if pretrained else
            "trained from scratch (no ImageNet weights offline)")
    text = f"Ours: {init}; budget per run (training pairs x epochs): " + ", ".join(
        f"{r['run']} {r['train_pairs_per_epoch']} x {r['epochs']}" for r in records) + "."
    if len(spent) > 1:
        small = min(spent, key=lambda s: s[0] * s[1])
        names = [r["run"] for r in records if (r["train_pairs_per_epoch"], r["epochs"]) == small]
        text += (f" The heavier runs ({', '.join(names)}) got a smaller budget on the CPU, so "
                 f"their accuracies are not comparable to the paper's.")
    return text


def data_label(records: list[dict]) -> str:
    """The data source of the runs (each run's metrics name it; older runs, the platform)."""
    from i2pa_core.io.source import SIMULATED_LABEL

    return "; ".join(sorted({r.get("data_source", SIMULATED_LABEL) for r in records}))


def data_note(records: list[dict]) -> str:
    """"Data: <source>." of the runs, for a caption."""
    return f"Data: {data_label(records)}."


def caption(table: str, records: list[dict], note: str | None = None) -> str:
    """Caption of Table 2 or 3: data source, initialisation, budgets, the interval and n."""
    chosen = noise_runs(records) if table == "noise" else backbone_runs(records)
    note = data_note(chosen or records) if note is None else note
    what = ("Table 2: test pairwise accuracy (%) with a share of the training labels flipped at "
            "random, model retrained per level (test labels untouched)" if table == "noise" else
            "Table 3: test pairwise accuracy (%) per backbone, model retrained per backbone")
    backbones = sorted({BACKBONE_NAMES.get(r["backbone"], r["backbone"]) for r in chosen})
    ours = f" Our backbone: {', '.join(backbones)}." if table == "noise" else ""
    oracle = ("; oracle: the hidden intrinsic score on the same pairs"
              if any("oracle_accuracy" in r for r in chosen) else "")
    return (f"{what}. Paper: ImageNet-pretrained networks on Instagram PDIPs. "
            f"{note}{ours} {budget_note(chosen)} "
            f"CI: 95 % bootstrap interval over the n test pairs{oracle}.")


def summary_rows(records: list[dict]) -> list[dict]:
    """One entry per run for ``results/tables/metrics.json`` and the README results block:
    label, the paper's value, accuracy, CI and n (percent)."""
    rows = []
    for r in noise_runs(records):
        value = PAPER_NOISE.get(round(r["label_noise"], 4))
        rows.append({"run": r["run"], "paper": "-" if value is None else paper.pct(value),
                     "label": f"Table 2: {100 * r['label_noise']:g} % label noise"})
    for r in backbone_runs(records):
        if r["table"] != "backbone":
            continue
        value = PAPER_BACKBONE.get(r["backbone"])
        name = BACKBONE_NAMES.get(r["backbone"], r["backbone"])
        rows.append({"run": r["run"], "paper": "-" if value is None else
                     f"{paper.pct(value)} (pretrained)", "label": f"Table 3: {name} "
                     f"({r['train_pairs_per_epoch']} pairs x {r['epochs']} epochs)"})
    by_run = {r["run"]: r for r in records}
    for row in rows:
        rec = by_run[row["run"]]
        row.update({"accuracy": rec["test_accuracy"], "ci_low": rec["test_ci_low"],
                    "ci_high": rec["test_ci_high"], "n": rec["test_n"]})
    return rows
