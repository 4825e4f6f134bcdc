"""The tables that the stages after ``pairs`` read: the PDIPs, the posts table, the ground truth
(on the simulated platform) and the data source, with the PDIPs whose image failed the check of
the ``images`` stage left out and counted."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from i2pa_core import paths
from i2pa_core.io.image_check import PROBLEM_COLUMNS, pairs_with_usable_images, with_image_column
from i2pa_core.io.posts import read_posts
from i2pa_core.io.source import DataConfig, DataSource, data_config


def read_truth(path: str | None) -> pd.DataFrame | None:
    """The ground-truth table of a simulated platform, or None (``path`` null: real data)."""
    return None if path is None else pd.read_parquet(path)


def read_problems(path: str = paths.IMAGE_PROBLEMS) -> pd.DataFrame:
    """The images stage's problem list (empty when the stage has not written one)."""
    if not os.path.exists(path):
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@dataclass
class Inputs:
    """What a stage after ``pairs`` works on (see :func:`load_inputs`)."""

    pdips: pd.DataFrame
    posts: pd.DataFrame
    truth: pd.DataFrame | None
    source: DataSource
    data: DataConfig
    n_dropped: int          # PDIPs left out: an image failed the images stage's check

    @property
    def image_root(self) -> str:
        return self.data.image_root

    def __iter__(self):  # pdips, posts, truth = load_inputs(...)
        return iter((self.pdips, self.posts, self.truth))


def load_inputs(data_section: Mapping | None, problems_path: str | None = paths.IMAGE_PROBLEMS
                ) -> Inputs:
    """The PDIPs of the pairs stage, the posts table and the truth named by ``data`` of
    params.yaml, and the data source. PDIPs with an image listed by the images stage are left
    out, with a warning that counts them (``problems_path`` None: before that stage ran)."""
    cfg = data_config(data_section)
    posts = with_image_column(read_posts(cfg.posts))
    pdips = pd.read_parquet(paths.PAIRS)
    problems = read_problems(problems_path) if problems_path else read_problems("")
    dropped = 0
    if len(problems):
        keep = pairs_with_usable_images(pdips, problems)
        dropped = int((~keep).sum())
        if dropped:
            warnings.warn(f"{dropped:,} of {len(pdips):,} PDIPs left out: an image is missing, "
                          f"unreadable or tiny ({len(problems):,} images listed in "
                          f"{problems_path})", stacklevel=2)
            pdips = pdips[keep.to_numpy()].reset_index(drop=True)
    return Inputs(pdips, posts, read_truth(cfg.truth_path), DataSource.of(cfg, len(posts)), cfg,
                  dropped)
