"""Streaming PDIP generation from a Parquet posts table with bounded memory, in one process.

Toward the paper's 2x10^8 posts on one machine: the table (a file, a folder or a glob;
:mod:`i2pa_core.io.posts_parquet`) is read in pieces of whole row groups of about ``batch_rows``
posts, each piece validated (errors name the file and the piece's row range) and its rows
hash-partitioned by ``user_id`` into temporary Parquet files, appended piece by piece (a user's
posts may be spread over any number of row groups and files; they all land in one partition).
Every PDIP lies within one user, so each partition is then run through the per-user kernel
(:func:`i2pa_core.pdip.sampler.user_pdips`) on its own; the matched pairs and the funnel counts
are summed, sorted and split by :func:`~i2pa_core.pdip.sampler.combine_user_pdips`, exactly as
:func:`~i2pa_core.pdip.sampler.generate_pdips` does, so both paths give the same table. Needs
``same_user`` on. The number of partitions follows the input size (``partition_rows`` posts
each), so memory is one piece plus one partition (plus the matched pairs), whatever the input
size; temporary disk is about the size of the input. Duplicate post ids are only detected
within a piece or a partition.

The same job on many cores or machines is :mod:`i2pa_core.pdip.dask_engine` (Dask's shuffle in
place of :func:`_partition`); on one core this path needs less CPU and memory (README,
"Performance").
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from i2pa_core.io.posts import validate_posts
from i2pa_core.io.posts_parquet import empty_posts, posts_pieces, read_posts_piece
from i2pa_core.pdip.config import PDIPConfig
from i2pa_core.pdip.sampler import PDIPResult, combine_user_pdips, user_pdips

PARTITION_ROWS = 2_000_000  # the in-memory sampler peaks at ~0.4 GiB per 10^6 posts


def generate_pdips_parquet(path: str | os.PathLike, cfg: PDIPConfig, seed: int,
                           partitions: int | None = None, batch_rows: int = 1_000_000,
                           tmp_dir: str | os.PathLike | None = None,
                           partition_rows: int = PARTITION_ROWS) -> PDIPResult:
    """PDIPs of a Parquet posts table, partition by partition (same result as in memory).

    Args:
        path: a Parquet file, a folder of them or a glob.
        partitions: number of user partitions; default ``ceil(rows / partition_rows)``.
        batch_rows: rows read (and validated) at a time in the partitioning pass (whole row
            groups, so a piece holds at least one row group).
        tmp_dir: where the temporary partition files go (about the input's size in all).
    """
    if not cfg.same_user:
        raise ValueError("generate_pdips_parquet partitions by user; it needs same_user: true")
    pieces = posts_pieces(path, batch_rows)
    if partitions is None:
        partitions = max(1, -(-sum(p.num_rows for p in pieces) // partition_rows))
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="pdip-parts-") as tmp:
        parts = _partition(pieces, Path(tmp), partitions)
        outputs = (user_pdips(_read_part(part), cfg) for part in parts or [None])
        return combine_user_pdips(outputs, cfg, seed)  # one partition in memory at a time


def _read_part(part: Path | None) -> pd.DataFrame:
    if part is None:
        return empty_posts()
    return validate_posts(pq.read_table(part).to_pandas(), source=str(part))


def _partition(pieces, tmp: Path, partitions: int) -> list[Path]:
    """Append each piece's rows to ``part-K.parquet``, K = hash(user_id) mod partitions."""
    files = [tmp / f"part-{k:04d}.parquet" for k in range(partitions)]
    writers = {}
    try:
        for source in pieces:
            posts = read_posts_piece(source)
            bucket = pd.util.hash_array(posts["user_id"].to_numpy(dtype=object)) % partitions
            order = np.argsort(bucket, kind="stable")  # rows keep their order in a partition
            table = pa.Table.from_pandas(posts, preserve_index=False).take(order)
            del posts
            bounds = np.searchsorted(bucket[order], np.arange(partitions + 1))
            for k in np.flatnonzero(np.diff(bounds)).tolist():
                piece = table.slice(int(bounds[k]), int(bounds[k + 1] - bounds[k]))
                if k not in writers:
                    writers[k] = pq.ParquetWriter(files[k], piece.schema)
                writers[k].write_table(piece)
            del table
    finally:
        for writer in writers.values():
            writer.close()
    return [files[k] for k in sorted(writers)]
