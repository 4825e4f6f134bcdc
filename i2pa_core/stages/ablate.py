"""Glue for the ``ablate`` stage: the runs of one setting (DVC ``foreach`` over ``ablate.runs``),
whose metrics the ``tables`` stage (:mod:`i2pa_core.stages.tables`) turns into the paper's
Tables 2 and 3 and the ``beyond`` stage reads as its reference.

Each setting is the ``train`` section with the run's own overrides (``label_noise``, or
``backbone``, ``pretrained`` and ``preset``) and a named pair budget (epochs, training pairs per
epoch, validation and test pairs). It is trained ``ablate.repeats`` times (repeat k: training
seed :func:`~i2pa_core.train.repeats.repeat_seed` (base seed, k), one torch thread,
``ablate.workers`` runs at once), every run on the same test pairs. The stage records each
run's accuracy (n, 95 % bootstrap interval over the test pairs) and their mean with the t
interval over the runs (:func:`i2pa_core.metrics.runs_summary`), which holds the training noise.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, replace
from typing import Literal

from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.metrics import runs_summary
from i2pa_core.model.presets import PRESETS
from i2pa_core.train.budget import Budget, budget_train_config, profile_settings
from i2pa_core.train.config import TrainConfig


@dataclass(frozen=True)
class AblateRun:
    """One setting: which table it belongs to, its budget's name and its ``train`` overrides."""

    table: Literal["noise", "backbone"]
    budget: str
    train: dict | None = None


@dataclass(frozen=True)
class AblateStage:
    """The ``ablate`` section: named budgets, named settings (the DVC foreach items), the runs
    per setting and how many train at once."""

    budgets: dict[str, Budget]
    runs: dict[str, AblateRun]
    repeats: int = 3
    workers: int = 2


def ablate_stage(section) -> AblateStage:
    """Parse the ``ablate`` section; unknown keys, budgets and train keys are named errors."""
    raw = dict(section or {})
    allowed = ("budgets", "runs", "repeats", "workers")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(f"ablate: unknown key(s) {', '.join(unknown)}; "
                          f"allowed: {', '.join(allowed)}")
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
    counts = {k: raw[k] for k in ("repeats", "workers") if k in raw}
    for key, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"ablate.{key}: must be an integer >= 1, got {value!r}")
    return AblateStage(budgets, runs, **counts)


def run_train_config(train_section, stage: AblateStage, name: str) -> TrainConfig:
    """The ``train`` section, then the run's budget, then the run's own overrides, one torch
    thread (results independent of ``workers``); an ablation run never resumes, so it does not
    write ``last.pt`` (1.6 GB with VGG-16's optimiser)."""
    if name not in stage.runs:
        raise ConfigError(f"ablate: no run {name!r}; runs: {', '.join(stage.runs)}")
    run = stage.runs[name]
    cfg = budget_train_config(train_section, stage.budgets[run.budget], run.train or {},
                              f"ablate.runs.{name} (train section + budget + overrides)")
    return replace(cfg, threads=1)


def input_text(preset: str, native: tuple[int, int] | None) -> str:
    """The network's input size in words, e.g. ``128 px, upsampled`` (``native``: (H, W) of the
    images the preset keeps at their size)."""
    spec = PRESETS[preset]
    if spec.crop is not None:
        return f"{spec.crop} px crop"
    if isinstance(spec.resize, tuple):
        return f"{spec.resize[0]} x {spec.resize[1]} px, resized"
    if spec.resize is not None:
        return f"short side {spec.resize} px"
    return "native size" if native is None else f"{native[0]} x {native[1]} px, native"


def setting_record(name: str, run: AblateRun, budget: Budget, cfg: TrainConfig, n_train: int,
                   runs: list[dict], base_seed: int, input_size: str = "") -> dict:
    """The metrics of one setting: its settings and compute (pairs, not seconds: the same
    params give the same file), the mean test accuracy over its runs with the t interval over
    them, their sd and range, n test pairs per run, the oracle on those pairs, and every run.

    Raises:
        ValueError: the runs were not all tested on the same pairs.
    """
    digests = {r["test_digest"] for r in runs}
    if len(digests) != 1:
        raise ValueError(f"ablate.runs.{name}: its runs were tested on different pairs")
    summary = runs_summary([r["test_accuracy"] for r in runs])
    per_epoch = min(n_train, cfg.max_train_pairs or n_train)
    first = runs[0]
    record = {"run": name, "table": run.table, "backbone": cfg.backbone,
              "pretrained": cfg.pretrained, "preset": cfg.preset, "input": input_size,
              "loss": cfg.loss,
              "label_noise": cfg.label_noise, "budget": run.budget, "epochs": cfg.epochs,
              "train_pairs_per_epoch": per_epoch, "train_pairs_available": n_train,
              "val_pairs": cfg.max_val_pairs, "test_pairs_budget": budget.test_pairs,
              "base_seed": int(base_seed), "runs": summary["runs"],
              "mean_accuracy": summary["mean"], "runs_ci_low": summary["ci_low"],
              "runs_ci_high": summary["ci_high"], "runs_sd": summary["sd"],
              "runs_min": summary["min"], "runs_max": summary["max"],
              "test_n": first["test_n"], "test_digest": first["test_digest"]}
    if "oracle_accuracy" in first:
        record["oracle_accuracy"] = first["oracle_accuracy"]
    return {**record, "run_records": runs, "config": asdict(cfg)}


def main(argv=None) -> None:
    """``python -m i2pa_core.stages.ablate --profile gpu``: the ``dvc exp run`` command that
    runs the studies at a profile of :data:`i2pa_core.train.budget.STUDY_PROFILES`."""
    parser = argparse.ArgumentParser(prog="python -m i2pa_core.stages.ablate",
                                     description=main.__doc__)
    parser.add_argument("--profile", required=True, help="a study profile, e.g. gpu")
    args = parser.parse_args(argv)
    try:
        settings = profile_settings(args.profile)
    except ConfigError as exc:
        parser.error(str(exc))
    print("dvc exp run " + " ".join(f"-S '{s}'" for s in settings))


if __name__ == "__main__":
    main()
