"""A posts table stored as Parquet -- one file, a folder of files or a glob -- read in pieces.

A crawl too large for one machine is usually many Parquet files on shared storage. This module
lists them (sorted, so every run sees the same order), cuts each into *pieces* of whole row
groups of about ``piece_rows`` rows, and reads and validates one piece at a time
(:func:`i2pa_core.io.posts.validate_posts`). A piece names its file and its row range, so a bad
value is reported as ``FILE (rows 1000001-2000000): row 17, column 'likes': ...`` wherever it
is read, on this machine or on a cluster worker. Only footers are read to plan the pieces.
Duplicate post ids are detected within a piece only (a global check needs all ids at once).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from i2pa_core.io.posts import REQUIRED_COLUMNS, PostsFormatError, validate_posts

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class PostsPiece:
    """Whole row groups of one Parquet file: rows ``first_row .. first_row + num_rows - 1``."""

    path: str
    row_groups: tuple[int, ...]
    first_row: int   # 0-based offset of the piece's first row in its file
    num_rows: int

    @property
    def label(self) -> str:
        return f"{self.path} (rows {self.first_row + 1}-{self.first_row + self.num_rows})"


def posts_parquet_files(source: str | os.PathLike) -> list[str]:
    """The Parquet files of ``source``: a file, a folder (searched recursively) or a glob."""
    text = os.fspath(source)
    path = Path(text)
    if path.is_file():
        if path.suffix.lower() not in PARQUET_SUFFIXES:
            raise PostsFormatError(f"{text}: not a Parquet posts table (.parquet or .pq); "
                                   "convert it first, e.g. pandas.read_csv(...).to_parquet(...)")
        files = [text]
    elif path.is_dir():
        files = sorted(str(p) for p in path.rglob("*")
                       if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES)
    else:
        files = sorted(p for p in glob.glob(text, recursive=True) if Path(p).is_file())
    if not files:
        raise PostsFormatError(f"{text}: no Parquet posts file (give a .parquet file, a folder "
                               "of them or a glob such as 'crawl/part-*.parquet')")
    return files


def posts_pieces(source: str | os.PathLike, piece_rows: int = 1_000_000) -> list[PostsPiece]:
    """Plan the pieces of every file of ``source`` (footers only); an empty table gives one."""
    if piece_rows < 1:
        raise ValueError(f"piece_rows must be >= 1, got {piece_rows}")
    pieces = []
    for name in posts_parquet_files(source):
        try:
            meta = pq.ParquetFile(name).metadata
        except Exception as exc:  # pyarrow's error names no file
            raise PostsFormatError(f"{name}: cannot be read as parquet: {exc}") from None
        groups, first, rows = [], 0, 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= piece_rows:
                pieces.append(PostsPiece(name, tuple(groups), first, rows))
                groups, first, rows = [], first + rows, 0
        if groups and (rows or not pieces):
            pieces.append(PostsPiece(name, tuple(groups), first, rows))
    return pieces or [PostsPiece(posts_parquet_files(source)[0], (), 0, 0)]


def read_posts_piece(piece: PostsPiece) -> pd.DataFrame:
    """Read one piece's required columns and validate them (errors name the file and rows)."""
    source = pq.ParquetFile(piece.path)
    columns = [c for c in source.schema_arrow.names if c in REQUIRED_COLUMNS]
    table = (source.read_row_groups(list(piece.row_groups), columns=columns) if piece.row_groups
             else source.schema_arrow.empty_table().select(columns))
    return validate_posts(table.to_pandas(), source=piece.label)


def empty_posts() -> pd.DataFrame:
    """A validated posts table of the required columns and no rows (dtypes as validated)."""
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in REQUIRED_COLUMNS})
    return validate_posts(frame.assign(likes=pd.Series([], dtype="int64")), source="empty")
