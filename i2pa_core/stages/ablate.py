"""Glue for the ``ablate`` stage (one retrain per run, DVC ``foreach``) and the ``tables`` stage
that turns the runs into the paper's Table 2 (label noise) and Table 3 (backbones).

Each run is the ``train`` section with the run's own overrides (``label_noise`` or ``backbone``)
and a named pair budget (epochs, training pairs per epoch, validation and test pairs), because
the heavy ImageNet backbones cost 10-100x the small CPU network per pair. Test accuracy comes
with its n and a 95 % bootstrap interval (:mod:`.metrics`), so a small test subset says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.train.config import TrainConfig, train_config

# Paper values (PAPER.md §5): ImageNet-pretrained networks on 2.5 M Instagram PDIPs.
PAPER_NOISE = {0.0: 76.65, 0.1: 75.61, 0.2: 74.35, 0.3: 73.10, 0.4: 68.55}
PAPER_BACKBONE = {"alexnet": 73.22, "vgg16": 76.15, "resnet50": 76.65, "resnet101": 76.87}
BACKBONE_NAMES = {"alexnet": "AlexNet", "vgg16": "VGGNet (VGG-16)", "resnet50": "ResNet-50",
                  "resnet101": "ResNet-101", "resnet18": "ResNet-18",
                  "smallcnn": "small CNN (CPU default)"}
BUDGET_KEYS = ("epochs", "max_train_pairs", "max_val_pairs")


@dataclass(frozen=True)
class Budget:
    """Compute given to one run: the three training knobs and the test pairs scored."""

    epochs: int = 1
    max_train_pairs: int | None = None   # training pairs per epoch (None: all)
    max_val_pairs: int | None = None     # validation pairs per epoch (None: all)
    test_pairs: int | None = None        # random test subset, the same for every run (None: all)


@dataclass(frozen=True)
class AblateRun:
    """One retrain: which table it belongs to, its budget's name and its ``train`` overrides."""

    table: Literal["noise", "backbone"]
    budget: str
    train: dict | None = None


@dataclass(frozen=True)
class AblateStage:
    """The ``ablate`` section: named budgets and named runs (the DVC foreach items)."""

    budgets: dict[str, Budget]
    runs: dict[str, AblateRun]


def ablate_stage(section) -> AblateStage:
    """Parse the ``ablate`` section; unknown keys, budgets and train keys are named errors."""
    raw = dict(section or {})
    unknown = sorted(set(raw) - {"budgets", "runs"})
    if unknown:
        raise ConfigError(f"ablate: unknown key(s) {', '.join(unknown)}; allowed: budgets, runs")
    budgets = {name: from_mapping(Budget, value, f"ablate.budgets.{name}")
               for name, value in (raw.get("budgets") or {}).items()}
    runs = {}
    for name, value in (raw.get("runs") or {}).items():
        run = from_mapping(AblateRun, value, f"ablate.runs.{name}")
        if run.budget not in budgets:
            raise ConfigError(f"ablate.runs.{name}.budget: {run.budget!r} is not one of "
                              f"{', '.join(budgets) or '(no budgets)'}")
        from_mapping(TrainConfig, run.train, f"ablate.runs.{name}.train")  # names bad keys
        runs[name] = run
    return AblateStage(budgets, runs)


def run_train_config(train_section, stage: AblateStage, name: str) -> TrainConfig:
    """The ``train`` section, then the run's budget, then the run's own overrides; an ablation
    run never resumes, so it does not write ``last.pt`` (1.6 GB with VGG-16's optimiser)."""
    if name not in stage.runs:
        raise ConfigError(f"ablate: no run {name!r}; runs: {', '.join(stage.runs)}")
    run = stage.runs[name]
    return budget_train_config(train_section, stage.budgets[run.budget], run.train or {},
                               f"ablate.runs.{name} (train section + budget + overrides)")


def budget_train_config(train_section, budget: Budget, overrides: dict,
                        where: str) -> TrainConfig:
    """The ``train`` section, then ``budget``'s training knobs, then ``overrides``, without
    ``last.pt`` (a retrain of a study never resumes); a bad value is an error naming ``where``."""
    merged = {**(train_section or {}), **{k: getattr(budget, k) for k in BUDGET_KEYS},
              **overrides, "save_last": False}
    try:
        return train_config(merged)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def sample_test_pairs(pairs: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    """The test pairs, or a seeded random ``n`` of them (the same subset for every run)."""
    test = pairs[pairs["split"] == "test"]
    if n is None or n >= len(test):
        return test
    rng = np.random.default_rng([seed, 0xAB1A7E])
    return test.iloc[np.sort(rng.choice(len(test), size=n, replace=False))]


def run_record(name: str, run: AblateRun, budget: Budget, cfg: TrainConfig, n_train: int,
               accuracy: dict, best_epoch: int, best_val_accuracy: float) -> dict:
    """The metrics.json of one run: accuracy (n, CI), its settings and the compute it got (pairs,
    not seconds: the same params give the same file)."""
    per_epoch = min(n_train, cfg.max_train_pairs or n_train)
    return {"run": name, "table": run.table, **accuracy,
            "backbone": cfg.backbone, "pretrained": cfg.pretrained,
            "label_noise": cfg.label_noise, "budget": run.budget,
            "epochs": cfg.epochs, "train_pairs_per_epoch": per_epoch,
            "train_pairs_available": n_train, "val_pairs": cfg.max_val_pairs,
            "test_pairs_budget": budget.test_pairs, "best_epoch": best_epoch + 1,
            "best_val_accuracy": 100 * best_val_accuracy,
            "config": asdict(cfg)}


def read_runs(root: str | os.PathLike, names) -> list[dict]:
    """``root/<name>/metrics.json`` of each named run (stale folders of removed runs ignored).

    Raises:
        ConfigError: a run without its metrics file (its ``ablate`` stage has not run).
    """
    records = []
    for name in names:
        path = Path(root) / name / "metrics.json"
        if not path.is_file():
            raise ConfigError(f"ablate.runs.{name}: {path} is missing; run "
                              f"'dvc repro ablate@{name}' first")
        records.append(json.loads(path.read_text(encoding="utf-8")))
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


def caption(table: str, records: list[dict], simulated_note: str) -> str:
    """Caption of Table 2 or 3: data source, initialisation, budgets, the interval and n."""
    chosen = noise_runs(records) if table == "noise" else backbone_runs(records)
    what = ("Table 2: test pairwise accuracy (%) with a share of the training labels flipped at "
            "random, model retrained per level (test labels untouched)" if table == "noise" else
            "Table 3: test pairwise accuracy (%) per backbone, model retrained per backbone")
    backbones = sorted({BACKBONE_NAMES.get(r["backbone"], r["backbone"]) for r in chosen})
    ours = f" Our backbone: {', '.join(backbones)}." if table == "noise" else ""
    return (f"{what}. Paper: ImageNet-pretrained networks on Instagram PDIPs. "
            f"{simulated_note}{ours} {budget_note(chosen)} "
            f"CI: 95 % bootstrap interval over the n test pairs; oracle: the hidden intrinsic "
            f"score on the same pairs.")



def summary_rows(records: list[dict]) -> list[dict]:
    """One entry per run for ``results/tables/metrics.json`` and the README results block:
    label, the paper's value, accuracy, CI and n (percent)."""
    rows = []
    for r in noise_runs(records):
        paper = PAPER_NOISE.get(round(r["label_noise"], 4))
        rows.append({"run": r["run"], "paper": "-" if paper is None else f"{paper:.2f} %",
                     "label": f"Table 2: {100 * r['label_noise']:g} % label noise"})
    for r in backbone_runs(records):
        if r["table"] != "backbone":
            continue
        paper = PAPER_BACKBONE.get(r["backbone"])
        name = BACKBONE_NAMES.get(r["backbone"], r["backbone"])
        rows.append({"run": r["run"], "paper": "-" if paper is None else
                     f"{paper:.2f} % (pretrained)", "label": f"Table 3: {name} "
                     f"({r['train_pairs_per_epoch']} pairs x {r['epochs']} epochs)"})
    by_run = {r["run"]: r for r in records}
    for row in rows:
        rec = by_run[row["run"]]
        row.update({"accuracy": rec["test_accuracy"], "ci_low": rec["test_ci_low"],
                    "ci_high": rec["test_ci_high"], "n": rec["test_n"]})
    return rows
