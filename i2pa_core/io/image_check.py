"""The image check of the ``images`` stage: every PDIP post's image decoded once, problems listed.

On a crawl some images are missing, truncated, corrupt, tiny or point outside the image root.
Each is reported with its kind and reason in ``data/images/problems.csv``, and the PDIPs that
need one are left out of training and evaluation by :func:`i2pa_core.io.tables.load_inputs`,
which counts them: nothing is silently dropped and nothing crashes a run later.

Kinds: ``missing`` (no image path, or no such file), ``unsafe`` (a path that leaves the image
root), ``unreadable`` (empty, not an image, truncated or corrupt: :class:`~i2pa_core.io.images.
ImageError`), ``tiny`` (shorter side under ``min_side`` pixels).
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable

import pandas as pd

from i2pa_core.io.images import ImageError, UnsafePathError, contained_path, open_rgb

PROBLEM_KINDS = ("missing", "unsafe", "unreadable", "tiny")
PROBLEM_COLUMNS = ["post_id", "image", "kind", "reason"]
MIN_SIDE = 16   # the smallest image the presets can crop (cf. i2pa score)


def with_image_column(posts: pd.DataFrame) -> pd.DataFrame:
    """``posts`` with an ``image`` column: as given, else ``<post_id>.jpg`` (README format)."""
    if "image" in posts.columns:
        return posts
    return posts.assign(image=posts["post_id"].astype(str) + ".jpg")


def check_one(image_root: str | os.PathLike, relative: str, min_side: int = MIN_SIDE
              ) -> tuple[str | None, str]:
    """``(kind, reason)`` of one image, kind None when it is usable (then reason is its md5)."""
    if not relative:
        return "missing", "no image path for this post"
    try:
        path = contained_path(image_root, relative)
    except UnsafePathError as exc:
        return "unsafe", str(exc)
    if not path.is_file():
        return "missing", f"no such file: {path}"
    try:
        image = open_rgb(path)
    except ImageError as exc:
        return "unreadable", str(exc)
    if min(image.size) < min_side:
        return "tiny", f"{image.size[0]}x{image.size[1]} px, under {min_side} px"
    return None, hashlib.md5(path.read_bytes()).hexdigest()


def check_images(posts: pd.DataFrame, image_root: str | os.PathLike, post_ids: Iterable[str],
                 min_side: int = MIN_SIDE, progress=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check the images of ``post_ids`` (each once, in order).

    Returns ``(manifest, problems)``: ``post_id, image, md5`` of the usable images and
    ``post_id, image, kind, reason`` of the others (:data:`PROBLEM_KINDS`).
    """
    image_of = with_image_column(posts).set_index("post_id")["image"]
    ids = list(dict.fromkeys(map(str, post_ids)))
    good, bad = [], []
    for post_id in (progress(ids) if progress else ids):
        relative = image_of.get(post_id, "")
        relative = "" if pd.isna(relative) else str(relative)
        kind, reason = check_one(image_root, relative, min_side)
        (bad.append((post_id, relative, kind, reason)) if kind
         else good.append((post_id, relative, reason)))
    return (pd.DataFrame(good, columns=["post_id", "image", "md5"]),
            pd.DataFrame(bad, columns=PROBLEM_COLUMNS))


def problem_counts(problems: pd.DataFrame) -> dict[str, int]:
    """``{kind: count}`` for every kind (zeros included)."""
    counts = problems["kind"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in PROBLEM_KINDS}


def pairs_with_usable_images(pdips: pd.DataFrame, problems: pd.DataFrame) -> pd.Series:
    """Boolean mask of the PDIPs both of whose images passed the check."""
    bad = set(problems["post_id"].astype(str))
    return ~(pdips["a_post_id"].astype(str).isin(bad) | pdips["b_post_id"].astype(str).isin(bad))
