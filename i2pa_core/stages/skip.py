"""Stages that have nothing to do on this input, and the honest outputs they leave.

On a crawl (``data.source: posts``) there is no platform to simulate (``simulate``) and no image
to render (``render``); without real answers there is no human study (``human``: a simulated
panel needs the platform's ground truth); and the beyond-the-paper retrains (``beyond``) are
built on the platform's ground truth and its renderer. Such a stage is skipped by the notebook
runner before any notebook runs: it writes every output that ``dvc.yaml`` declares for it, each
saying "not available: <reason>" and naming the data source, and the executed notebook is one
cell that says the same. DVC sees a stage that succeeded, and the next stages find every file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from i2pa_core import paths
from i2pa_core.io.files import write_json, write_parquet, write_text
from i2pa_core.io.source import DataConfig, DataSource, data_config
from i2pa_core.plots.style import write_not_available
from i2pa_core.stages.declared import stage_outputs

FIGURE_EXTS, TABLE_EXTS = (".png", ".pdf"), (".csv", ".md", ".tex")


def skip_reason(stage: str, data: DataConfig) -> str | None:
    """Why ``stage`` (a dvc.yaml name, ``name@item`` for a foreach) does not run on ``data``."""
    name = stage.partition("@")[0]
    if name == "human" and data.responses is None and not data.synthetic:
        return ("no human answers (set data.responses and data.subjects to the files of "
                "'i2pa human serve')")
    if data.synthetic:
        return None
    return {"simulate": "the input is a posts table (data.source: posts); there is no platform "
                        "to simulate",
            "render": "the images are your own (data.image_root); there is nothing to render",
            "beyond": "the beyond-the-paper retrains need the platform's ground truth and its "
                      "image renderer (data.source: synthetic)"
            }.get(name)


def skip_if_nothing_to_do(dvc_yaml: str | Path, stage: str, params: dict) -> str | None:
    """Write ``stage``'s outputs as "not available" when it has nothing to do; return the reason
    (None: run the notebook)."""
    data = data_config(params.get("data"))
    reason = skip_reason(stage, data)
    if reason is None:
        return None
    source = DataSource.of(data)
    outs = stage_outputs(dvc_yaml, stage, params)
    for stem, exts in _group(outs).items():
        figure, table = bool(exts & set(FIGURE_EXTS)), bool(exts & set(TABLE_EXTS))
        if figure or table:
            write_not_available(stem, reason, source.note, figure=figure, table=table)
    for out in outs:
        path = Path(out)
        if path.suffix == ".json":
            write_json(path, {"skipped": True, "reason": reason, **source.as_metrics()})
        elif path.suffix == ".ipynb":
            write_text(path, _notebook(stage, reason, source))
        elif not path.suffix:
            write_text(path / "SKIPPED.txt", f"stage {stage} skipped: {reason}\n{source.note}\n")
    if stage == "simulate":
        # The later stages' dvc.yaml deps name data.truth, by default the platform's table: an
        # empty one stands for "no ground truth" (DataConfig.truth_path is None for a crawl).
        write_parquet(paths.TRUTH, pd.DataFrame({"post_id": pd.Series(dtype=str)}))
    return reason


def _group(outs: list[str]) -> dict[str, set[str]]:
    stems: dict[str, set[str]] = {}
    for out in outs:
        path = Path(out)
        if path.suffix in FIGURE_EXTS + TABLE_EXTS:
            stems.setdefault(str(path.with_suffix("")), set()).add(path.suffix)
    return stems


def _notebook(stage: str, reason: str, source: DataSource) -> str:
    text = f"# Stage `{stage}`: skipped\n\nNot available: {reason}.\n\n{source.note}\n"
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": text}],
                       "metadata": {"i2pa": {"skipped": True, "reason": reason}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"
