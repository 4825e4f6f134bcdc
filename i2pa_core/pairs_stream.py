"""Streaming PDIP generation from a Parquet posts table with bounded memory.

Toward the paper's 2x10^8 posts: the file is read in record batches, each batch validated
(:func:`posts.validate_posts`; errors name the file and the batch's row range) and its rows
hash-partitioned by ``user_id`` into temporary Parquet files. Every PDIP lies within one user,
so each partition is then run through the in-memory sampler on its own; the matched pairs and
the funnel counts are summed, sorted and split exactly as :func:`pairs.generate_pdips` does, so
both paths give the same table. Needs ``same_user`` on. Memory: one batch plus one partition.
Duplicate post ids are only detected within a batch or a partition.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .pairs import PDIPResult, build_funnel, match_pairs
from .pairs_config import PDIPConfig
from .pairs_prepare import prepare_posts
from .pairs_split import split_pairs
from .posts import REQUIRED_COLUMNS, validate_posts


def generate_pdips_parquet(path: str | os.PathLike, cfg: PDIPConfig, seed: int,
                           partitions: int = 16, batch_rows: int = 1_000_000,
                           tmp_dir: str | os.PathLike | None = None) -> PDIPResult:
    """PDIPs of a Parquet posts table, partition by partition (same result as in memory)."""
    if not cfg.same_user:
        raise ValueError("generate_pdips_parquet partitions by user; it needs same_user: true")
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="pdip-parts-") as tmp:
        parts = _partition(Path(path), Path(tmp), partitions, batch_rows)
        outcomes, post_counts = [], None
        for part in parts:
            posts = validate_posts(pq.read_table(part).to_pandas(), source=str(part))
            prep = prepare_posts(posts, cfg)
            outcomes.append(match_pairs(prep, cfg))
            post_counts = _sum_post_funnel(post_counts, prep.post_funnel)
    counts = {k: sum(o.counts[k] for o in outcomes) for k in outcomes[0].counts}
    pairs = pd.concat([o.pairs for o in outcomes], ignore_index=True)
    pairs = split_pairs(pairs, cfg, np.random.default_rng(seed))
    return PDIPResult(pairs, build_funnel(post_counts, counts, cfg), counts["threshold"])


def _partition(path: Path, tmp: Path, partitions: int, batch_rows: int) -> list[Path]:
    source = pq.ParquetFile(path)
    columns = [c for c in source.schema_arrow.names if c in REQUIRED_COLUMNS]
    files = [tmp / f"part-{k:04d}.parquet" for k in range(partitions)]
    writers, offset = {}, 0
    try:
        for batch in source.iter_batches(batch_size=batch_rows, columns=columns):
            frame = batch.to_pandas()
            label = f"{path} (rows {offset + 1}-{offset + len(frame)})"
            posts = validate_posts(frame, source=label)
            offset += len(frame)
            bucket = pd.util.hash_array(posts["user_id"].to_numpy(dtype=object)) % partitions
            for k in np.unique(bucket).tolist():
                table = pa.Table.from_pandas(posts.loc[bucket == k], preserve_index=False)
                if k not in writers:
                    writers[k] = pq.ParquetWriter(files[k], table.schema)
                writers[k].write_table(table)
    finally:
        for writer in writers.values():
            writer.close()
    return [files[k] for k in sorted(writers)] or []


def _sum_post_funnel(total, funnel):
    if total is None:
        return tuple(funnel)
    return tuple((rule, r0 + r1, k0 + k1) for (rule, r0, k0), (_, r1, k1) in zip(total, funnel))
