"""The parts of the ``evaluate`` stage that depend on what the input offers: the human row of
Fig. 4 (answers), the absolute-popularity ablation (the user columns of the posts table), the
oracle and the category figure (ground truth) and the generalisation runs (the platform).

Each returns its result, or writes "not available: <reason>" and says why, so that a crawl
without follower columns, ground truth or human answers runs the stage through.
"""

from __future__ import annotations

import os

import pandas as pd

from i2pa_core import paths
from i2pa_core.evaluate import baselines
from i2pa_core.evaluate.comparison import human_row
from i2pa_core.evaluate.popularity_mlp import FEATURES, MLPConfig, ablation_report, run_ablation
from i2pa_core.human.analysis import final_answers, pair_table
from i2pa_core.human.plan import read_plan
from i2pa_core.human.store import read_responses
from i2pa_core.config import ConfigError
from i2pa_core.io.source import DataConfig, DataSource
from i2pa_core.metrics import runs_summary
from i2pa_core.train.repeats import repeat_seed
from i2pa_core.plots.results import category_scores
from i2pa_core.plots.style import save_figure, write_not_available

ORACLE_LABEL = "Oracle (hidden intrinsic score)"


def training_runs(train_dir: str = paths.TRAIN_DIR) -> tuple[pd.DataFrame | None, list]:
    """Ours' training runs (``train.repeats``): the test scores of every run side by side
    (:func:`i2pa_core.train.repeats.runs_table`; None when the train stage wrote none) and the
    scorer of every run, run 0 (``best.pt``, the model of every figure) first."""
    from i2pa_core.model.scorer import load_scorer
    from i2pa_core.train.repeats import run_checkpoint, run_columns

    if not os.path.exists(paths.RUN_SCORES):
        return None, [load_scorer(run_checkpoint(train_dir, 0))[0]]
    table = pd.read_parquet(paths.RUN_SCORES)
    models = [load_scorer(run_checkpoint(train_dir, k))[0]
              for k in range(len(run_columns(table)))]
    return table, models


def frozen_baseline(posts: pd.DataFrame, pdips: pd.DataFrame, image_root: str, section: dict,
                    seed: int) -> tuple[str, pd.Series, dict]:
    """The frozen-encoder row of Fig. 4: its label, its test scores and its report (features
    cached in ``paths.FROZEN_FEATURES``, keyed by image md5, encoder and input size)."""
    from i2pa_core.config import from_mapping
    from i2pa_core.evaluate.frozen import FrozenConfig, frozen_scores

    scores, report = frozen_scores(posts, pdips, image_root,
                                   from_mapping(FrozenConfig, section, "evaluate.frozen"), seed,
                                   cache=paths.FROZEN_FEATURES, progress=False)
    return report["label"], scores, report
NO_PLATFORM = ("the generalisation runs score other variants of the platform and need a model "
               "trained on it (data.source: synthetic)")


def human_comparison(data: DataConfig, ours: pd.Series, seed: int) -> tuple[dict | None, str]:
    """The human majority row of Fig. 4 on the human stage's own test pairs, or None, and a
    line that says which answers it uses (or why there is none)."""
    answers_path = data.responses or paths.HUMAN_RESPONSES
    if not (os.path.exists(paths.HUMAN_PLAN) and os.path.exists(answers_path)):
        return None, ("Human row: not available (no human answers: set data.responses and "
                      "data.subjects)")
    kind = "real subjects" if data.responses else "simulated panel"
    answers = final_answers(read_responses(answers_path), read_plan(paths.HUMAN_PLAN))
    row = human_row(pair_table(answers), ours, seed, f"Human majority ({kind})")
    return row, f"Human row: {kind}, on its own {row['n']} test pairs."


def popularity_ablation(posts: pd.DataFrame, pdips: pd.DataFrame, image_root: str,
                        section, seed: int, ours: pd.Series
                        ) -> tuple[pd.Series | None, dict]:
    """The paper's absolute-popularity MLP: its predictions per post (None when skipped) and
    its report, which says why it was skipped when the posts lack a user column it needs."""
    from i2pa_core.config import from_mapping

    missing = [c for c in FEATURES[:3] if c not in posts.columns]
    if missing:
        return None, {"skipped": f"the posts table has no {', '.join(missing)} column (the "
                                 "MLP's non-visual features)"}
    section = dict(section or {})
    repeats = int(section.pop("repeats", 1))
    if repeats < 1:
        raise ConfigError(f"evaluate.popularity_mlp.repeats must be >= 1, got {repeats}")
    cfg = from_mapping(MLPConfig, section, "evaluate.popularity_mlp")
    predictions, _ = run_ablation(posts, pdips, image_root, cfg, seed)
    report = ablation_report(predictions, pdips, ours.rename("score").reset_index())
    # Further training runs (seeds of i2pa_core.train.repeats): the MLP's training noise. Run 0
    # is the row of Fig. 4; the others give the interval over runs of its accuracy.
    accuracies = [report["accuracy"]] + [
        ablation_report(run_ablation(posts, pdips, image_root, cfg, repeat_seed(seed, k))[0],
                        pdips)["accuracy"] for k in range(1, repeats)]
    report["runs"] = {**runs_summary(accuracies), "n": report["n_pairs"],
                      "interval": "t over training runs" if repeats > 1 else "none (one run)"}
    return predictions.set_index("post_id")["prediction"], report


def oracle_scores(truth: pd.DataFrame | None) -> dict[str, pd.Series]:
    """``{ORACLE_LABEL: q}`` on the simulated platform, ``{}`` without ground truth."""
    return {} if truth is None else {ORACLE_LABEL: baselines.oracle_scores(truth)}


def write_category_scores(test_scores: pd.Series, truth: pd.DataFrame | None,
                          source: DataSource) -> None:
    """``figures/category_scores.*``: test scores by hidden image category, or not available."""
    stem = "figures/category_scores"
    if truth is None:
        write_not_available(stem, "no ground truth (image categories are known on the platform only)",
                            source.note, table=False)
        return
    category = truth.set_index("post_id")["category"]
    save_figure(category_scores(test_scores, category), stem, caption=source.note)


def generalisation(models, preset: str, stage, seed: int, simulate: dict, render: dict,
                   rules: dict, source: DataSource) -> tuple[pd.DataFrame | None, list[dict]]:
    """``figures/generalisation.*`` (paper Sec. 4.3 on other simulated platforms) and its
    metrics entries (schema: :mod:`i2pa_core.evaluate.generalise_report`); on a crawl the table
    says "not available" and the entries are empty.

    Args:
        models: the trained model, or the models of the training runs (one per repeat): each
            row gives the mean over runs with its t interval and range, and the oracle.
    """
    from i2pa_core.config import from_mapping
    from i2pa_core.evaluate.generalise import GeneraliseConfig
    from i2pa_core.evaluate.generalise_report import caption, metric_entries, percent_rows
    from i2pa_core.io.files import write_table
    from i2pa_core.pdip.config import PDIPConfig
    from i2pa_core.simulate.platform import SimulateConfig
    from i2pa_core.stages.evaluate import PAPER_GENERALISATION, generalise_in_scratch

    stem = "figures/generalisation"
    if not source.synthetic:
        write_not_available(stem, NO_PLATFORM, source.note, figure=False)
        return None, []
    table = generalise_in_scratch(
        models, preset, from_mapping(GeneraliseConfig, stage.generalise, "evaluate.generalise"),
        seed, from_mapping(SimulateConfig, {**simulate, **render}, "simulate"),
        from_mapping(PDIPConfig, rules, "pairs.rules"))
    write_table(stem, percent_rows(table, PAPER_GENERALISATION), caption(table, source.note),
                float_format="{:.2f}")
    return table, metric_entries(table, PAPER_GENERALISATION)
