"""Glue for the ``ablate`` stage: one retrain per run (DVC ``foreach``), whose metrics the
``tables`` stage (:mod:`i2pa_core.stages.tables`) turns into the paper's Tables 2 and 3.

Each run is the ``train`` section with the run's own overrides (``label_noise`` or ``backbone``)
and a named pair budget (epochs, training pairs per epoch, validation and test pairs), because
the heavy ImageNet backbones cost 10-100x the small CPU network per pair. Test accuracy comes
with its n and a 95 % bootstrap interval (:mod:`i2pa_core.metrics`), so a small test subset says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal


from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.train.budget import Budget, budget_train_config
from i2pa_core.train.config import TrainConfig


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


