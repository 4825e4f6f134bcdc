"""The authors' released PDIP test list (published beside their inference script): CSV
``Low_popularity,High_popularity``.

Each row is one test pair of Instagram shortcodes, the *less* popular first. It is read into the
pairs-table layout of :mod:`i2pa_core.pdip.sampler` with ``a_post_id = High_popularity``; fields the
list does not carry are missing (NaN / empty) and ``split`` is ``"test"``. Shortcodes may contain
only letters, digits, ``-`` and ``_`` (they become file names); anything else is rejected.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

HEADER = ["Low_popularity", "High_popularity"]
SHORTCODE_RE = re.compile(r"[A-Za-z0-9_-]+")
PAIR_COLUMNS = ("a_post_id", "b_post_id", "user_id", "p", "s_a", "s_b", "interval_days", "split")


def paired_post_ids(pairs: pd.DataFrame) -> np.ndarray:
    """Distinct post ids of a pairs table, A then B, first appearance first."""
    return pd.unique(pd.concat([pairs["a_post_id"], pairs["b_post_id"]], ignore_index=True))


class PairListError(ValueError):
    """A released pair list that does not follow the documented format."""


def read_i2pa_list(path: str | os.PathLike) -> pd.DataFrame:
    """Read the authors' CSV into a pairs table; errors name the file and 1-based data row."""
    path = Path(path)
    if not path.is_file():
        raise PairListError(f"{path}: no such pair list")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip() for c in rows[0]] != HEADER:
        got = rows[0] if rows else "nothing"
        raise PairListError(f"{path}: header must be {','.join(HEADER)} (got {got!r})")
    low, high = [], []
    for number, row in enumerate(rows[1:], start=1):
        if len(row) != 2:
            raise PairListError(f"{path}: row {number}: expected 2 fields, got {len(row)}")
        for column, code in zip(HEADER, row):
            if not SHORTCODE_RE.fullmatch(code):
                raise PairListError(f"{path}: row {number}, column '{column}': not a shortcode "
                                    f"(letters, digits, '-', '_' only; got {code!r})")
        low.append(row[0])
        high.append(row[1])
    n = len(low)
    nan = np.full(n, np.nan)
    return pd.DataFrame({"a_post_id": pd.array(high, dtype="str"),
                         "b_post_id": pd.array(low, dtype="str"),
                         "user_id": pd.array([""] * n, dtype="str"), "p": nan, "s_a": nan,
                         "s_b": nan.copy(), "interval_days": nan.copy(),
                         "split": pd.array(["test"] * n, dtype="str")})[list(PAIR_COLUMNS)]


def read_pairs(path: Path, split: str | None = None) -> pd.DataFrame:
    """A pairs table (Parquet or CSV) or the authors' Low_popularity,High_popularity list,
    optionally only the rows of one ``split``.

    Raises:
        PairListError: a missing file, another format, a missing column or split, named.
    """
    path = Path(path)
    if not path.is_file():
        raise PairListError(f"{path}: no such pairs file")
    if path.suffix.lower() == ".parquet":
        pairs = pd.read_parquet(path)
    elif path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig") as handle:
            released = [c.strip() for c in handle.readline().split(",")] == HEADER
        pairs = read_i2pa_list(path) if released else pd.read_csv(path, dtype=str,
                                                                    keep_default_na=False)
    else:
        raise PairListError(f"{path}: pairs must be .parquet or .csv")
    missing = {"a_post_id", "b_post_id"} - set(pairs.columns)
    if missing:
        raise PairListError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    if split is not None:
        if "split" not in pairs.columns:
            raise PairListError(f"{path}: --split {split} given but the table has no split column")
        pairs = pairs[pairs["split"] == split]
    return pairs


PAIR_TABLE_SUFFIXES = (".parquet", ".csv")


def write_pairs_table(path: str | os.PathLike, pairs: pd.DataFrame) -> Path:
    """Write a pairs table in the format its extension names (.parquet or .csv), atomically.

    Raises:
        PairListError: another extension (nothing is written).
    """
    from i2pa_core.io.files import write_parquet, write_text

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PAIR_TABLE_SUFFIXES:
        raise PairListError(f"{path}: a pairs table is written as .parquet or .csv, not "
                            f"{suffix or 'a file without extension'!r}")
    if suffix == ".csv":
        return write_text(path, pairs.to_csv(index=False))
    return write_parquet(path, pairs)
