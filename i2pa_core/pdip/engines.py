"""The PDIP table on the engine a config names: ``inprocess``, ``streaming`` or ``dask``.

The one dispatch that the ``pairs`` stage and ``i2pa pairs`` share. The three engines run the
same per-user kernel (:func:`i2pa_core.pdip.sampler.user_pdips`) and write the same table.
"""

from __future__ import annotations

import os

import pandas as pd

from i2pa_core.io.posts import read_posts
from i2pa_core.pdip.config import EngineConfig, PDIPConfig
from i2pa_core.pdip.sampler import PDIPResult, generate_pdips


def generate_on_engine(posts_path: str | os.PathLike, cfg: PDIPConfig, seed: int,
                       engine: EngineConfig, posts: pd.DataFrame | None = None,
                       progress: bool = True, client=None) -> PDIPResult:
    """The PDIPs of the posts table at ``posts_path`` on ``engine``.

    ``inprocess`` uses ``posts`` (the validated table) when given, else reads ``posts_path``;
    ``streaming`` and ``dask`` read ``posts_path`` (Parquet: a file, a folder or a glob),
    ``dask`` on the engine's cluster or on ``client``, an open ``distributed.Client``.
    """
    if engine.engine == "streaming":
        from i2pa_core.pdip.streaming import generate_pdips_parquet

        return generate_pdips_parquet(posts_path, cfg, seed, partitions=engine.partitions)
    if engine.engine == "dask":
        from i2pa_core.pdip.dask_engine import generate_pdips_dask

        return generate_pdips_dask(posts_path, cfg, seed, engine, client=client,
                                   progress=progress)
    return generate_pdips(read_posts(posts_path) if posts is None else posts, cfg, seed)
