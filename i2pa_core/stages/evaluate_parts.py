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
from i2pa_core.io.source import DataConfig, DataSource
from i2pa_core.plots.results import category_scores
from i2pa_core.plots.style import save_figure, write_not_available

ORACLE_LABEL = "Oracle (hidden intrinsic score)"
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
    predictions, _ = run_ablation(posts, pdips, image_root,
                                  from_mapping(MLPConfig, section, "evaluate.popularity_mlp"),
                                  seed)
    report = ablation_report(predictions, pdips, ours.rename("score").reset_index())
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
