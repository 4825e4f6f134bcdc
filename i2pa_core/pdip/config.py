"""``PDIPConfig``: every constant of the PDIP rules (paper Sec. 3.1), one frozen dataclass.

Re-exported by :mod:`i2pa_core.pdip.sampler`; parse a params section with
``config.from_mapping(PDIPConfig, params["pairs"], "pairs")``. Switches that disable one rule
(``same_user``, ``same_tags``, ``single_image``, ``window_days=None``, ``min_age_days=None``,
``max_words=None``, ``min_likes=1``) let an analysis drop one rule at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class PDIPConfig:
    """PDIP rules and split sizes; defaults are the paper's (Sec. 3.1, Sec. 4)."""

    threshold: float = 0.95          # T in Eq. 6; accept P >= T; must lie in (0.5, 1)
    sigma: float = 0.3               # Thurstone sigma of S | mu
    score: Literal["ln", "log10"] = "ln"  # S = log(likes)
    window_days: float | None = 10.0      # |upload_A - upload_B| <= window; None: no rule
    min_age_days: float | None = 30.0     # download - upload > min_age; None: no rule
    min_likes: int = 50                   # likes >= min_likes (>= 1, S needs likes > 0)
    max_words: int | None = 6             # descriptive words <= max_words; None: no rule
    same_user: bool = True
    same_tags: bool = True                # identical hashtag and mention multisets
    single_image: bool = True             # media_type == "image" only
    matching: Literal["greedy_gap", "chronological"] = "greedy_gap"
    split: Literal["random", "user"] = "random"
    # Split sizes: a count (>= 1) or a fraction of the PDIPs (0 < x < 1). Validation and test
    # together take at most max_eval_share of the PDIPs: on a small crawl larger sizes shrink in
    # proportion, with a warning (pdip.split.split_sizes), so training keeps the rest.
    val_size: int | float = 50_000
    test_size: int | float = 50_000
    max_eval_share: float = 0.4
    block_pairs: int = 4_000_000          # memory knob: window pairs evaluated per block

    def __post_init__(self):
        if not 0.5 < self.threshold < 1.0:
            raise ValueError(f"threshold must lie in (0.5, 1), got {self.threshold}")
        if not (self.sigma > 0 and math.isfinite(self.sigma)):
            raise ValueError(f"sigma must be a positive number, got {self.sigma}")
        for name in ("window_days", "min_age_days"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be >= 0 or null, got {value}")
        if self.min_likes < 1:
            raise ValueError(f"min_likes must be >= 1 (log of 0 likes), got {self.min_likes}")
        if self.max_words is not None and self.max_words < 0:
            raise ValueError(f"max_words must be >= 0 or null, got {self.max_words}")
        for name in ("val_size", "test_size"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)) or (isinstance(value, float)
                                                             and 1 <= value != int(value)):
                raise ValueError(f"{name} must be a count >= 0 or a fraction in (0, 1), "
                                 f"got {value}")
        if not 0 < self.max_eval_share <= 1:
            raise ValueError(f"max_eval_share must lie in (0, 1], got {self.max_eval_share}")
        if self.block_pairs < 1:
            raise ValueError("block_pairs must be >= 1")

    @property
    def window_ns(self) -> int | None:
        return None if self.window_days is None else round(self.window_days * NS_PER_DAY)

    @property
    def min_age_ns(self) -> int | None:
        return None if self.min_age_days is None else round(self.min_age_days * NS_PER_DAY)


Engine = Literal["inprocess", "streaming", "dask"]


@dataclass(frozen=True)
class EngineConfig:
    """Where the sampler runs; every engine gives the same pairs table, byte for byte.

    ``inprocess``: the whole posts table in this process (:func:`~i2pa_core.pdip.sampler.generate_pdips`).
    ``streaming``: the Parquet posts hash-partitioned by user to temporary files, then paired
    partition by partition, in this one process (:mod:`i2pa_core.pdip.streaming`).
    ``dask``: the Parquet posts shuffled by user over a Dask cluster and the per-user kernel
    mapped over the partitions (:mod:`i2pa_core.pdip.dask_engine`): a LocalCluster of
    ``workers`` processes (default: one per core) when ``scheduler`` is null, else the cluster
    at ``scheduler`` (``tcp://host:8786``), waiting for ``workers`` of its workers if given.
    ``partitions`` (streaming, dask): user partitions (default: at most 2x10^6 posts each; for
    dask also at least two per worker thread).
    """

    engine: Engine = "inprocess"
    scheduler: str | None = None
    workers: int | None = None
    partitions: int | None = None

    def __post_init__(self):
        for name in ("workers", "partitions"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or null, got {value}")
        allowed = {"inprocess": (), "streaming": ("partitions",),
                   "dask": ("scheduler", "workers", "partitions")}[self.engine]
        stray = [k for k in ("scheduler", "workers", "partitions")
                 if getattr(self, k) is not None and k not in allowed]
        if stray:
            raise ValueError(f"{', '.join(stray)} do(es) not apply to engine {self.engine!r} "
                             "(scheduler and workers: dask; partitions: streaming, dask); "
                             "leave them null")
        if self.scheduler is not None and not self.scheduler.strip():
            raise ValueError("scheduler must be an address such as tcp://host:8786, or null")
