"""Glue for the ``pairs`` stage: its params section, its engine, metrics and the policy yields.

The ``pairs`` section also names the posts table and ground truth that later stages read.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, replace

import pandas as pd

from i2pa_core import paths
from i2pa_core.pdip.config import Engine, EngineConfig
from i2pa_core.pdip.engines import generate_on_engine
from i2pa_core.pdip.sampler import PDIPConfig, PDIPResult, generate_pdips



@dataclass(frozen=True)
class PairsStage:
    """The ``pairs`` section of params.yaml: the PDIP rules plus the stage's analysis knobs.

    Attributes:
        posts: the posts table to pair (CSV, Parquet or JSON Lines; README "Bring your own
            data"). The default is the simulated platform.
        truth: the ground-truth table of a simulated platform, for label precision; ``null``
            for real data (the precision analysis is then skipped).
        rules: the PDIP rules and split sizes (:class:`~i2pa_core.pdip.config.PDIPConfig`).
        sweep_thresholds, sweep_sigmas: the T x sigma grid of the beyond-the-paper sweep.
        ablation_threshold: the relaxed T of the "relaxed threshold" ablation.
        cross_user_sample: users sampled for the expensive no-same-user ablation.
        engine, scheduler, workers, partitions: where the PDIP table is generated
            (:class:`~i2pa_core.pdip.config.EngineConfig`): ``inprocess``, ``streaming`` or
            ``dask``; the table is the same each way. The sweeps and ablations run in process.
    """

    posts: str = paths.POSTS
    truth: str | None = paths.TRUTH
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


def stage_pdips(stage: PairsStage, posts: pd.DataFrame, seed: int, progress: bool = True,
                client=None) -> PDIPResult:
    """The stage's PDIP table on its engine (``posts`` is the validated ``stage.posts``).

    ``streaming`` and ``dask`` read ``stage.posts`` again (it must be Parquet), ``dask`` on the
    cluster or on ``client``, an open ``distributed.Client``, when one is given.
    """
    return generate_on_engine(stage.posts, stage.rules, seed, stage.engine_config, posts,
                              progress, client)


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


