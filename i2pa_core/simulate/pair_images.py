"""The images of the posts that are in a PDIP, and only those (the ``render`` stage).

The pipeline reads images of PDIP posts only (training, baselines, the ablation, the human
study and the figures), about a fifth of all posts. Rendering just those keeps the default
``dvc repro`` short and keeps ``dvc status`` from walking 10^5 files that nothing reads. An
image is a pure function of its row of the truth table, so it equals the one a full render
(``i2pa simulate`` without ``--no-images``) writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from i2pa_core.io.pair_list import paired_post_ids
from i2pa_core.simulate.render import render_images


@dataclass(frozen=True)
class RenderConfig:
    """The ``render`` section of params.yaml: how the platform's images are drawn."""

    image_size: int = 64         # side length in pixels
    cast_strength: float = 0.12  # per sd of warmth/tint: relative R/B (G) channel gain


def pair_posts(posts: pd.DataFrame, truth: pd.DataFrame,
               pairs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of ``posts`` and ``truth`` (row-aligned, same post ids) whose post is in a pair.

    Raises ValueError naming a pair's post that the posts table lacks.
    """
    if not posts["post_id"].reset_index(drop=True).equals(truth["post_id"].reset_index(drop=True)):
        raise ValueError("posts and truth tables are not row-aligned by post_id")
    wanted = pd.Index(paired_post_ids(pairs))
    missing = wanted.difference(posts["post_id"])
    if len(missing):
        raise ValueError(f"{len(missing)} post ids of the pairs are not in the posts table, "
                         f"e.g. {missing[0]!r}")
    keep = posts["post_id"].isin(wanted).to_numpy()
    return posts[keep].reset_index(drop=True), truth[keep].reset_index(drop=True)


def render_pair_images(posts: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame,
                       out_dir: str | os.PathLike, image_size: int, cast_strength: float,
                       progress: bool = False, exclude=()) -> Path:
    """Render the images of every post in ``pairs`` but those in ``exclude`` under
    ``out_dir/images`` (with the ``images.md5`` manifest,
    :func:`i2pa_core.simulate.render.render_images`);
    returns the images folder."""
    chosen_posts, chosen_truth = pair_posts(posts, truth, pairs)
    keep = ~chosen_posts["post_id"].isin(pd.Index(exclude)).to_numpy()
    chosen_posts, chosen_truth = chosen_posts[keep], chosen_truth[keep]
    if (chosen_posts["image"] == "").any():
        first = chosen_posts.loc[chosen_posts["image"] == "", "post_id"].iloc[0]
        raise ValueError(f"post {first!r} is in a pair but has no image path in the posts table")
    return render_images(chosen_posts, chosen_truth, out_dir, image_size, cast_strength,
                         progress=progress)
