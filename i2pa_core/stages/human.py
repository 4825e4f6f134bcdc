"""Glue for the ``human`` stage: its params section and where the answers come from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from i2pa_core.config import ConfigError
from i2pa_core.human.panel import SIMULATED_PANEL, PanelConfig, simulate_panel, write_panel
from i2pa_core.human.plan import HumanConfig
from i2pa_core.human.store import read_responses, read_subjects
from i2pa_core.io.source import DataConfig, DataSource


@dataclass(frozen=True)
class HumanStage:
    """The ``human`` section: the 2AFC plan and the simulated panel.

    Real answers are named by ``data.responses``/``data.subjects`` (the files written by ``i2pa
    human serve``); without them the platform gets the simulated observer panel, labelled
    "simulated panel" in every output, and a crawl gets no human study (the stage is skipped).
    """

    plan: HumanConfig = field(default_factory=HumanConfig)
    panel: PanelConfig = field(default_factory=PanelConfig)
    p_edges: tuple[float, ...] = (0.95, 0.99, 0.999, 0.9999, 1.0)


def collect_answers(stage: HumanStage, data: DataConfig, source: DataSource, plan: dict,
                    truth: pd.DataFrame | None, seed: int, out_dir: str
                    ) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Real answers when ``data.responses`` is set, else a simulated panel written to
    ``out_dir`` in the web page's format. Returns (responses, subjects, caption note)."""
    if data.responses is not None:
        return (read_responses(data.responses), read_subjects(data.subjects),
                f"Answers of real subjects ({data.responses}). {source.note}")
    if truth is None:
        raise ConfigError("data.responses: a simulated panel needs the platform's ground truth "
                          "(data.truth); set data.responses/subjects to real answers instead")
    responses, subjects = simulate_panel(plan, truth, stage.panel, seed)
    paths = f"{out_dir}/responses.csv", f"{out_dir}/subjects.csv"
    write_panel(responses, subjects, *paths)
    # Read back through the web page's reader, so both paths analyse exactly the same frames.
    return read_responses(paths[0]), read_subjects(paths[1]), f"{SIMULATED_PANEL} {source.note}"


def human_metrics(table: pd.DataFrame, versus: pd.DataFrame, single: pd.Series,
                  simulated_panel: bool) -> dict:
    """``results/human/metrics.json``: the pairs and subjects, the majority vote against the model
    on the same pairs (accuracies in %, exact McNemar p) and the single-subject mean and std (%).

    Args:
        table: one row per pair (:func:`i2pa_core.human.analysis.pair_table`).
        versus: :func:`i2pa_core.human.analysis.human_vs_model` of that table.
        single: accuracy (fraction) per subject.
    """
    return {"simulated_panel": simulated_panel, "n_pairs": int(len(table)),
            "n_subjects": int(len(single)),
            "majority_accuracy": float(versus.loc[0, "human_majority (%)"]),
            "model_accuracy_same_pairs": float(versus.loc[0, "model (%)"]),
            "mcnemar_p": float(versus.loc[0, "mcnemar_p"]),
            "single_mean_pct": float(100 * single.mean()),
            "single_std_pct": float(100 * single.std())}
