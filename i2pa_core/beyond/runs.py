"""Training the runs of the ``beyond`` stage (:mod:`i2pa_core.beyond.settings`), their paired
comparison with the reference, and the summary of each setting over its repeats.

Each run trains with one thread, so its numbers do not depend on the machine's core count or
on ``beyond.workers``, the number of runs trained at once in separate processes.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from i2pa_core.metrics import mcnemar_test, pair_outcomes
from i2pa_core.train.budget import Budget, budget_train_config
from i2pa_core.beyond.settings import BeyondRun, RunPairs, gap
from i2pa_core.train.results import split_scores, test_metrics
from i2pa_core.train.loop import train_model
from i2pa_core.train.config import TrainConfig, for_source

_WORKER: dict = {}  # what a worker process was given once: posts, truth, image root


def run_train_config(train_section, budget: Budget, run: BeyondRun) -> TrainConfig:
    """The ``train`` section with the stage's budget and the run's loss, one thread, never
    resumed (``preset: auto`` is the platform's: the stage runs on the platform only)."""
    return for_source(budget_train_config(train_section, budget,
                                          {"loss": run.loss, "threads": 1},
                                          f"beyond ({run.name}: train section + budget + loss)"),
                      synthetic=True)


def train_and_test(run: BeyondRun, data: RunPairs, posts: pd.DataFrame,
                   truth: pd.DataFrame | None, cfg: TrainConfig, image_root,
                   seed: int) -> tuple[dict, pd.DataFrame]:
    """Train one run (seed ``seed + run.repeat``) and score its test pairs: (its record, the
    test pairs with ``correct``)."""
    pairs = data.pairs
    with tempfile.TemporaryDirectory(prefix="i2pa-beyond-") as out_dir:
        result = train_model(cfg, pairs, posts, image_root, out_dir, seed + run.repeat,
                             progress=False, live=False)
    test = pairs[pairs["split"] == "test"]
    scores = split_scores(result.model, test, posts, image_root, cfg.preset, "test")
    lookup = scores.set_index("post_id")["score"]
    outcome = pair_outcomes(lookup.loc[test["a_post_id"]].to_numpy(),
                            lookup.loc[test["b_post_id"]].to_numpy())
    record = {"run": run.run_id, "setting": run.name, "repeat": run.repeat,
              "studies": list(run.studies), "threshold": run.threshold, "sigma": run.sigma,
              "gap": gap(run.threshold, run.sigma), "split": run.split, "loss": run.loss,
              "train_pairs_available": data.available,
              "train_pool": int((pairs["split"] == "train").sum()), "epochs": cfg.epochs,
              "best_val_accuracy": 100 * result.best_val_accuracy,
              **test_metrics(pairs, scores, truth)}
    if data.precision is not None:
        record.update({f"pool_{k}": v for k, v in data.precision.items()})
    return record, test[["a_post_id", "b_post_id"]].assign(correct=outcome == 1.0)


def _start_worker(posts, truth, image_root) -> None:
    _WORKER.update(posts=posts, truth=truth, image_root=image_root)


def _run_in_worker(task) -> tuple[dict, pd.DataFrame]:
    run, data, cfg, seed = task
    return train_and_test(run, data, _WORKER["posts"], _WORKER["truth"], cfg,
                          _WORKER["image_root"], seed)


def run_all(runs: list[BeyondRun], data: dict[str, RunPairs], posts: pd.DataFrame,
            truth: pd.DataFrame | None, train_section, budget: Budget, image_root, seed: int,
            workers: int = 1, progress: bool = True) -> list[dict]:
    """Train and test every run, ``workers`` at a time (fresh processes; 1: in this one),
    then :func:`compare_to_reference`. Records come back in the order of ``runs``."""
    tasks = [(run, data[run.run_id], run_train_config(train_section, budget, run), seed)
             for run in runs]
    bar = dict(total=len(tasks), desc="beyond runs", unit="run", disable=not progress)
    if workers == 1:
        _start_worker(posts, truth, image_root)
        results = [_run_in_worker(task) for task in tqdm(tasks, **bar)]
    else:
        context = multiprocessing.get_context("spawn")  # no fork of a process running torch
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=context,
                                 initializer=_start_worker,
                                 initargs=(posts, truth, image_root)) as pool:
            results = list(tqdm(pool.map(_run_in_worker, tasks), **bar))
    records = [record for record, _ in results]
    return compare_to_reference(records, {r["run"]: o for r, (_, o) in zip(records, results)})


def compare_to_reference(records: list[dict], outcomes: dict[str, pd.DataFrame]) -> list[dict]:
    """Mark the runs tested on the reference's test pairs (``common_test``) and add the exact
    McNemar test against the reference run of the same repeat (``mcnemar_b``: pairs only the
    run gets right, ``mcnemar_c``: only the reference; ``mcnemar_p_value``). The reference is
    the setting of the first record."""
    reference = records[0]["setting"]
    ref_of = {r["repeat"]: r["run"] for r in records if r["setting"] == reference}
    out = []
    for rec in records:
        ref = outcomes[ref_of[rec["repeat"]]].reset_index(drop=True)
        mine = outcomes[rec["run"]].reset_index(drop=True)
        keys = ["a_post_id", "b_post_id"]
        rec = dict(rec, common_test=bool(mine[keys].equals(ref[keys])))
        if rec["common_test"] and rec["setting"] != reference:
            test = mcnemar_test(mine["correct"].to_numpy(), ref["correct"].to_numpy())
            rec.update({f"mcnemar_{k}": v for k, v in test.items()})
        out.append(rec)
    return out


def summarise(records: list[dict], confidence: float = 0.95) -> list[dict]:
    """One entry per setting (in the order of ``records``): the mean test accuracy of its runs,
    a t interval of that mean over the runs (it holds the training noise: seed and training
    sample), the runs' min and max, and the per-run McNemar p-values against the reference."""
    settings: dict[str, list[dict]] = {}
    for rec in records:
        settings.setdefault(rec["setting"], []).append(rec)
    out = []
    for name, runs in settings.items():
        acc = np.array([r["test_accuracy"] for r in runs])
        low = high = float("nan")
        if len(acc) > 1:
            half = stats.t.ppf(0.5 + confidence / 2, len(acc) - 1) * acc.std(ddof=1) / np.sqrt(
                len(acc))
            low, high = acc.mean() - half, acc.mean() + half
        first = runs[0]
        keep = ("studies", "threshold", "sigma", "gap", "split", "loss", "train_pairs_available",
                "train_pool", "epochs", "test_n", "oracle_accuracy", "pool_precision",
                "pool_ci_low", "pool_ci_high")
        out.append({"setting": name, **{k: first[k] for k in keep if k in first},
                    "runs": len(acc), "accuracy": float(acc.mean()), "ci_low": float(low),
                    "ci_high": float(high), "sd": float(acc.std(ddof=1)) if len(acc) > 1
                    else float("nan"), "min": float(acc.min()), "max": float(acc.max()),
                    "run_accuracies": acc.tolist(),
                    "common_test": all(r["common_test"] for r in runs),
                    "mcnemar_p_values": [r["mcnemar_p_value"] for r in runs
                                         if "mcnemar_p_value" in r]})
    return out


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
