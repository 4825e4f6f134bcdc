"""The runs of the ``beyond`` stage (:mod:`i2pa_core.beyond.settings`): the reference's runs
taken from its ``ablate`` run, every other setting trained at the reference's budget and config
(:func:`run_all`, through the run pool of :mod:`i2pa_core.train.pool`), and the summary of each
setting over its runs with its paired difference to the reference.

Each run trains with one thread, so its numbers do not depend on the machine's core count or
on ``beyond.workers``, the number of runs trained at once in separate processes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from i2pa_core.beyond.settings import BeyondRun, RunPairs, gap
from i2pa_core.config import ConfigError, from_mapping
from i2pa_core.metrics import holm, paired_runs_difference, runs_summary
from i2pa_core.train.budget import sample_test_pairs
from i2pa_core.train.config import TrainConfig
from i2pa_core.train.pool import map_runs
from i2pa_core.train.repeats import RunTask, pairs_digest, train_and_test, used_training_pairs

PAIRED_STUDIES = ("grid", "loss")   # the studies tested on the reference's test pairs


def reference_config(reference: dict) -> TrainConfig:
    """The full train config of the reference's runs (as its ``ablate`` run recorded it)."""
    return from_mapping(TrainConfig, reference["config"], f"ablate run {reference['run']}")


def check_reference(reference: dict, base_seed: int, pairs: RunPairs, truth) -> None:
    """The reference's runs must be those of this data and seed: the same base seed, a 0 %
    label-noise run, tested on the very test pairs this stage samples (same digest).

    Raises:
        ConfigError: naming what differs and the run to redo.
    """
    name = reference["run"]
    test = sample_test_pairs(pairs.pairs, reference["test_pairs_budget"], base_seed)
    problems = []
    if reference["base_seed"] != base_seed:
        problems.append(f"base seed {reference['base_seed']} (here {base_seed})")
    if reference["label_noise"] != 0.0:
        problems.append(f"label noise {reference['label_noise']} (the reference has none)")
    if reference["test_digest"] != pairs_digest(test):
        problems.append("other test pairs than the current PDIPs give")
    if (truth is None) != ("oracle_accuracy" not in reference):
        problems.append("another data source")
    if problems:
        raise ConfigError(f"beyond.reference: the runs of ablate run {name!r} have "
                          f"{'; '.join(problems)}; run 'dvc repro ablate@{name}' first")


def _setting_fields(run: BeyondRun, data: RunPairs, cfg: TrainConfig) -> dict:
    record = {"run": run.run_id, "setting": run.name, "repeat": run.repeat,
              "studies": list(run.studies), "threshold": run.threshold, "sigma": run.sigma,
              "gap": gap(run.threshold, run.sigma), "split": run.split, "loss": run.loss,
              "train_pairs_available": data.available, "epochs": cfg.epochs,
              "train_pairs_per_epoch": min(data.available, cfg.max_train_pairs or data.available)}
    if data.precision is not None:
        record.update({f"pool_{k}": v for k, v in data.precision.items()})
    return record


def reference_records(reference: dict, runs: list[BeyondRun], data: RunPairs) -> list[dict]:
    """One record per reference run (``runs``: the reference's, by repeat), from its ``ablate``
    run's records."""
    by_repeat = {r["repeat"]: r for r in reference["run_records"]}
    cfg = reference_config(reference)
    return [{**_setting_fields(run, data, cfg),
             **{k: v for k, v in by_repeat[run.repeat].items() if k not in ("run_id", "repeat")}}
            for run in runs]


def seeds_of(reference: dict) -> dict[int, int]:
    """The training seed of each repeat of the reference's runs, by repeat."""
    return {r["repeat"]: r["seed"] for r in reference["run_records"]}


def training_reads(runs: list[BeyondRun], data: dict[str, RunPairs],
                   reference: dict) -> dict[str, pd.DataFrame]:
    """The training pairs that each run will read at the reference's budget, by run id
    (:func:`~i2pa_core.train.repeats.used_training_pairs`): the images that must exist."""
    cfg, seeds = reference_config(reference), seeds_of(reference)
    return {run.run_id: used_training_pairs(data[run.name].pairs, cfg, seeds[run.repeat])
            for run in runs}


def run_all(runs: list[BeyondRun], data: dict[str, RunPairs], posts: pd.DataFrame,
            truth: pd.DataFrame | None, reference: dict, image_root, base_seed: int,
            workers: int = 1, progress: bool = True) -> list[dict]:
    """Train and test every run (not the reference's, which :func:`reference_records` gives)
    at the reference's config with the run's loss, repeat k with the reference's seed of repeat
    k, ``workers`` at a time; records in the order of ``runs``."""
    cfg, seeds = reference_config(reference), seeds_of(reference)
    tasks = [RunTask(run.run_id, run.repeat, replace(cfg, loss=run.loss, threads=1),
                     data[run.name].pairs, seeds[run.repeat], reference["test_pairs_budget"],
                     base_seed) for run in runs]
    results = map_runs(train_and_test, tasks, {"posts": posts, "truth": truth,
                                               "image_root": image_root},
                       workers=workers, progress=progress, desc="beyond runs")
    return [{**_setting_fields(run, data[run.name], cfg),
             **{k: v for k, v in result.items() if k not in ("run_id", "repeat")}}
            for run, result in zip(runs, results)]


def summarise(records: list[dict], confidence: float = 0.95) -> list[dict]:
    """One entry per setting (in the order of ``records``, the reference's first): the mean
    test accuracy of its runs with the t interval over them (training noise: seed and training
    sample), their sd and range; and, for a setting tested on the reference's test pairs with
    the reference's seeds, the difference to the reference paired run by run
    (:func:`~i2pa_core.metrics.paired_runs_difference`: mean, t interval, paired t p) with
    that p Holm-adjusted over the other settings of its study (``diff_p_holm``)."""
    settings: dict[str, list[dict]] = {}
    for rec in records:
        settings.setdefault(rec["setting"], []).append(rec)
    reference = next(iter(settings.values()))
    out = []
    for name, runs in settings.items():
        summary = runs_summary([r["test_accuracy"] for r in runs], confidence)
        first = runs[0]
        keep = ("studies", "threshold", "sigma", "gap", "split", "loss", "train_pairs_available",
                "train_pairs_per_epoch", "epochs", "test_n", "oracle_accuracy", "pool_precision", "pool_ci_low",
                "pool_ci_high")
        entry = {"setting": name, **{k: first[k] for k in keep if k in first},
                 "runs": summary["runs"], "accuracy": summary["mean"],
                 "ci_low": summary["ci_low"], "ci_high": summary["ci_high"], "sd": summary["sd"],
                 "min": summary["min"], "max": summary["max"], "run_accuracies": summary["values"],
                 "common_test": {r["test_digest"] for r in runs} ==
                                {r["test_digest"] for r in reference}}
        if runs is not reference:
            entry.update(_paired(runs, reference, entry["common_test"], confidence))
        out.append(entry)
    for study in PAIRED_STUDIES:
        family = [e for e in out[1:] if study in e["studies"] and "diff_p" in e]
        for entry, p in zip(family, holm([e["diff_p"] for e in family])):
            entry["diff_p_holm"] = float(p)
    return out


def _paired(runs: list[dict], reference: list[dict], common_test: bool,
            confidence: float) -> dict:
    """The paired difference to the reference, when run k of both shares the seed and the test
    pairs; else nothing."""
    mine = sorted(runs, key=lambda r: r["repeat"])
    ref = sorted(reference, key=lambda r: r["repeat"])
    if not common_test or [r["seed"] for r in mine] != [r["seed"] for r in ref]:
        return {}
    diff = paired_runs_difference([r["test_accuracy"] for r in mine],
                                  [r["test_accuracy"] for r in ref], confidence)
    return {"diff": diff["mean"], "diff_ci_low": diff["ci_low"], "diff_ci_high": diff["ci_high"],
            "diff_p": diff["p_value"]}


def gap_trend(records: list[dict], confidence: float = 0.95) -> dict | None:
    """Least-squares slope of the grid runs' test accuracy (%) on their gap (ln likes), with
    its t interval and two-sided p-value: does a larger gap help, pooling every run of every
    cell? None with fewer than three grid runs or a single gap."""
    runs = [r for r in records if "grid" in r["studies"]]
    gaps = np.array([r["gap"] for r in runs])
    if len(runs) < 3 or np.ptp(gaps) == 0:
        return None
    fit = stats.linregress(gaps, [r["test_accuracy"] for r in runs])
    half = stats.t.ppf(0.5 + confidence / 2, len(runs) - 2) * fit.stderr
    return {"slope": float(fit.slope), "ci_low": float(fit.slope - half),
            "ci_high": float(fit.slope + half), "p_value": float(fit.pvalue),
            "intercept": float(fit.intercept), "n_runs": len(runs)}
