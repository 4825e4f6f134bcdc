"""The tables that the stages after ``pairs`` read: the PDIPs, the posts table and, on the
simulated platform, the ground truth."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from i2pa_core import paths
from i2pa_core.io.posts import read_posts


def read_truth(path: str | None) -> pd.DataFrame | None:
    """The ground-truth table of a simulated platform, or None for real data (``path`` null)."""
    return None if path is None else pd.read_parquet(path)


def pipeline_tables(pairs_section: Mapping) -> tuple[pd.DataFrame, pd.DataFrame,
                                                     pd.DataFrame | None]:
    """What the stages after ``pairs`` read: (the PDIPs of the pairs stage, the posts table, the
    truth or None), the tables named by ``pairs.posts`` and ``pairs.truth`` of params.yaml."""
    posts = pairs_section.get("posts", paths.POSTS)
    truth = pairs_section.get("truth", paths.TRUTH)
    return pd.read_parquet(paths.PAIRS), read_posts(posts), read_truth(truth)
