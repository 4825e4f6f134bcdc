"""Glue for the ``pairs`` stage: its params section, its engine, metrics and the policy yields.

The posts table and the ground truth come from the ``data`` section (:mod:`i2pa_core.io.source`).
"""

from __future__ import annotations

import typing
import warnings
from dataclasses import dataclass, field, replace

import pandas as pd

from i2pa_core.config import NoPairsError
from i2pa_core.pdip.config import Engine, EngineConfig
from i2pa_core.pdip.engines import generate_on_engine
from i2pa_core.pdip.report import diagnose_funnel
from i2pa_core.pdip.sampler import PDIPConfig, PDIPResult, generate_pdips


@dataclass(frozen=True)
class PairsStage:
    """The ``pairs`` section of params.yaml: the PDIP rules plus the stage's analysis knobs.

    Attributes:
        rules: the PDIP rules and split sizes (:class:`~i2pa_core.pdip.config.PDIPConfig`).
        sweep_thresholds, sweep_sigmas: the T x sigma grid of the beyond-the-paper sweep.
        ablation_threshold: the relaxed T of the "relaxed threshold" ablation.
        cross_user_sample: users sampled for the expensive no-same-user ablation.
        engine, scheduler, workers, partitions: where the PDIP table is generated
            (:class:`~i2pa_core.pdip.config.EngineConfig`): ``inprocess``, ``streaming`` or
            ``dask``; the table is the same each way. The sweeps and ablations run in process.
    """

    rules: PDIPConfig = field(default_factory=PDIPConfig)
    sweep_thresholds: tuple[float, ...] = (0.8, 0.9, 0.95, 0.975, 0.99)
    sweep_sigmas: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5)
    ablation_threshold: float = 0.75
    cross_user_sample: int = 240
    engine: Engine = "inprocess"
    scheduler: str | None = None
    workers: int | None = None
    partitions: int | None = None

    def __post_init__(self):
        self.engine_config  # noqa: B018  (validates the engine keys: a named error)

    @property
    def engine_config(self) -> EngineConfig:
        return EngineConfig(self.engine, self.scheduler, self.workers, self.partitions)


def stage_pdips(stage: PairsStage, posts_path: str, posts: pd.DataFrame, seed: int,
                progress: bool = True, client=None) -> PDIPResult:
    """The stage's PDIP table on its engine (``posts`` is the validated ``posts_path``).

    ``streaming`` and ``dask`` read ``posts_path`` again (it must be Parquet), ``dask`` on the
    cluster or on ``client``, an open ``distributed.Client``, when one is given. Split sizes
    shrunk to fit and empty splits are warnings; no PDIP at all is a :class:`NoPairsError` that
    names the rule that removed most candidates and the param to relax.
    """
    result = generate_on_engine(posts_path, stage.rules, seed, stage.engine_config, posts,
                                progress, client)
    if not len(result.pairs):
        raise NoPairsError(f"{posts_path}: the PDIP funnel ends at 0 pairs; "
                           f"{diagnose_funnel(result.funnel)}")
    for note in result.warnings:
        warnings.warn(note, stacklevel=2)
    return result


def matching_policy_counts(posts: pd.DataFrame, cfg: PDIPConfig, seed: int) -> pd.DataFrame:
    """How many PDIPs each one-image-one-pair matching policy yields on the same posts."""
    rows = []
    for policy in typing.get_args(typing.get_type_hints(PDIPConfig)["matching"]):
        result = generate_pdips(posts, replace(cfg, matching=policy), seed)
        rows.append({"matching": policy, "n_candidates": result.n_candidates,
                     "n_pdips": len(result.pairs), "default": policy == cfg.matching})
    return pd.DataFrame(rows)


def pairs_metrics(result, precision: dict | None) -> dict:
    """Headline numbers of the PDIP database, for ``results/pairs/metrics.json``."""
    pairs = result.pairs
    out = {"n_pdips": int(len(pairs)), "n_candidates": int(result.n_candidates),
           "n_users": int(pairs["user_id"].nunique()),
           "mean_p": float(pairs["p"].mean()) if len(pairs) else float("nan"),
           "mean_interval_days": float(pairs["interval_days"].mean()) if len(pairs) else float("nan")}
    out.update({f"n_{split}": int((pairs["split"] == split).sum())
                for split in ("train", "val", "test")})
    if precision is not None:
        out.update({f"label_precision_{k}": v for k, v in precision.items()})
    return out




NO_TRUTH = "no ground truth (label precision needs the hidden intrinsic score of each post)"


def write_label_precision(posts: pd.DataFrame, truth: pd.DataFrame | None, stage: PairsStage,
                          seed: int, note: str) -> pd.DataFrame | None:
    """``figures/label_precision.*``: label precision of the PDIPs, the one-rule ablations and
    naive pairings, or "not available: no ground truth" (a crawl). Returns the table or None."""
    from i2pa_core.io.files import write_table
    from i2pa_core.pdip.sweep import label_precision_table, plot_label_precision
    from i2pa_core.plots.style import save_figure, write_not_available

    stem = "figures/label_precision"
    if truth is None:
        write_not_available(stem, NO_TRUTH, note)
        return None
    table = label_precision_table(posts, truth, stage.rules, seed, stage.cross_user_sample,
                                  stage.ablation_threshold)
    write_table(stem, table, f"Label precision of PDIPs, one-rule ablations and naive pairings. "
                             f"{note}")
    save_figure(plot_label_precision(table), stem, caption=note)
    return table
