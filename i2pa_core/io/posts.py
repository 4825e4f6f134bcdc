"""The posts table: the one input format for synthetic and real crawls alike.

Required columns (one row per post):

==================  ==========================================================================
``post_id``         unique id (string; for Instagram the shortcode)
``user_id``         the poster (string)
``upload_time``     when the post was published (ISO 8601; naive times are taken as UTC)
``download_time``   when the post was crawled, so likes were counted (ISO 8601, >= upload_time)
``likes``           like count at download time (non-negative integer)
``caption``         caption text (may be empty); tokenised as in :mod:`i2pa_core.pdip.captions`
``media_type``      ``image``, ``carousel`` or ``video``
==================  ==========================================================================

Optional columns: ``comments``, ``followers``, ``followings``, ``user_posts`` (non-negative
integers) and ``image`` (path of the image file relative to an image root).

Readers accept CSV (``.csv``), Parquet (``.parquet``/``.pq``) and JSON Lines (``.jsonl``/
``.ndjson``). Validation fails with :class:`PostsFormatError`, whose message names the file,
the row (1-based data row, header excluded) and the column.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("post_id", "user_id", "upload_time", "download_time", "likes", "caption",
                    "media_type")
OPTIONAL_INT_COLUMNS = ("comments", "followers", "followings", "user_posts")
MEDIA_TYPES = ("image", "carousel", "video")


class PostsFormatError(ValueError):
    """A posts table that does not follow the documented format."""


def image_paths(posts: pd.DataFrame, image_root: str | os.PathLike, post_ids) -> list[str]:
    """Image file of each post id, in order: ``image_root`` joined with its ``image`` column."""
    rel = posts.set_index("post_id").loc[list(post_ids), "image"]
    return [os.path.join(image_root, r) for r in rel]


def read_posts(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a posts table from CSV, Parquet or JSON Lines.

    Returns the validated frame (see :func:`validate_posts`). Raises :class:`PostsFormatError`
    naming the file, row and column of the first problem.
    """
    path = Path(path)
    if not path.is_file():
        raise PostsFormatError(f"{path}: no such posts file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
        elif suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
        elif suffix in (".jsonl", ".ndjson"):
            raw = pd.read_json(path, lines=True, dtype=False)
        else:
            raise PostsFormatError(f"{path}: unknown posts format {suffix!r}; "
                                   "use .csv, .parquet or .jsonl")
    except PostsFormatError:
        raise
    except Exception as exc:  # pandas/pyarrow parse errors carry no row context we can add
        raise PostsFormatError(f"{path}: cannot be read as {suffix[1:]}: {exc}") from None
    return validate_posts(raw, source=str(path))


def validate_posts(raw: pd.DataFrame, source: str = "posts") -> pd.DataFrame:
    """Check a raw posts frame and return it with canonical dtypes.

    Canonical dtypes: ids and text as ``str``, times as UTC ``datetime64[ns, UTC]``, counts as
    ``int64``. Rows keep their order.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise PostsFormatError(f"{source}: missing column(s) {', '.join(missing)}; "
                               f"required: {', '.join(REQUIRED_COLUMNS)}")
    out = pd.DataFrame(index=raw.index)
    for col in ("post_id", "user_id"):
        out[col] = _text(raw, col, source, allow_empty=False)
    for col in ("upload_time", "download_time"):
        out[col] = _times(raw, col, source)
    out["likes"] = _counts(raw, "likes", source)
    out["caption"] = _text(raw, "caption", source, allow_empty=True)
    out["media_type"] = _media(raw, source)
    for col in OPTIONAL_INT_COLUMNS:
        if col in raw.columns:
            out[col] = _counts(raw, col, source)
    if "image" in raw.columns:
        out["image"] = _text(raw, "image", source, allow_empty=True)
    _check_unique(out, source)
    _check_order(out, source)
    return out.reset_index(drop=True)


def _row(raw: pd.DataFrame, mask: np.ndarray) -> int:
    """1-based data row number of the first True in ``mask``."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def _fail(source: str, row: int, col: str, what: str, value) -> PostsFormatError:
    return PostsFormatError(f"{source}: row {row}, column '{col}': {what} (got {value!r})")


def _text(raw, col, source, allow_empty):
    values = raw[col]
    isna = values.isna().to_numpy()
    if not allow_empty and isna.any():
        row = _row(raw, isna)
        raise _fail(source, row, col, "value is missing", None)
    text = values.where(~isna, "").astype(str)
    if not allow_empty:
        empty = (text.str.len() == 0).to_numpy()
        if empty.any():
            raise _fail(source, _row(raw, empty), col, "value is empty", "")
    return text


def _times(raw, col, source):
    values = raw[col]
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values, utc=True)
    else:
        parsed = pd.to_datetime(values.astype(str), errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = _row(raw, bad)
        raise _fail(source, row, col, "not a parseable time (use ISO 8601, e.g. "
                    "2018-05-01T12:00:00Z)", values.iloc[row - 1])
    return parsed.astype("datetime64[ns, UTC]")


def _counts(raw, col, source):
    values = raw[col]
    numbers = pd.to_numeric(values, errors="coerce")
    nonnum = numbers.isna().to_numpy()
    if nonnum.any():
        row = _row(raw, nonnum)
        raise _fail(source, row, col, "not a number", values.iloc[row - 1])
    as_float = numbers.to_numpy(dtype=float)
    fractional = as_float != np.floor(as_float)
    if fractional.any():
        row = _row(raw, fractional)
        raise _fail(source, row, col, "not an integer", values.iloc[row - 1])
    negative = as_float < 0
    if negative.any():
        row = _row(raw, negative)
        raise _fail(source, row, col, "negative count", values.iloc[row - 1])
    return numbers.astype("int64")


def _media(raw, source):
    values = raw["media_type"].astype(str).str.strip().str.lower()
    unknown = ~values.isin(MEDIA_TYPES).to_numpy()
    if unknown.any():
        row = _row(raw, unknown)
        raise _fail(source, row, "media_type", f"unknown media type; allowed: "
                    f"{', '.join(MEDIA_TYPES)}", raw["media_type"].iloc[row - 1])
    return values


def _check_unique(out, source):
    dup = out["post_id"].duplicated().to_numpy()
    if dup.any():
        row = _row(out, dup)
        first = int(np.flatnonzero((out["post_id"] == out["post_id"].iloc[row - 1]).to_numpy())[0]) + 1
        raise _fail(source, row, "post_id", f"duplicate post_id (first seen in row {first})",
                    out["post_id"].iloc[row - 1])


def _check_order(out, source):
    early = (out["download_time"] < out["upload_time"]).to_numpy()
    if early.any():
        row = _row(out, early)
        raise _fail(source, row, "download_time", "download_time is before upload_time "
                    f"({out['upload_time'].iloc[row - 1].isoformat()})",
                    out["download_time"].iloc[row - 1].isoformat())


def read_image_column(path: str | os.PathLike | None) -> dict[str, str] | None:
    """post_id -> image (path relative to the image root) from a posts table (Parquet or CSV),
    or None without a table. PostsFormatError names a missing file or column."""
    if path is None:
        return None
    path = Path(path)
    if not path.is_file():
        raise PostsFormatError(f"{path}: no such posts table")
    cols = ["post_id", "image"]
    try:
        frame = (pd.read_parquet(path, columns=cols) if path.suffix.lower() == ".parquet"
                 else pd.read_csv(path, usecols=cols, dtype=str, keep_default_na=False))
    except (KeyError, ValueError) as exc:
        raise PostsFormatError(f"{path}: needs columns post_id and image ({exc})") from None
    return dict(zip(frame["post_id"].astype(str), frame["image"].fillna("").astype(str)))
