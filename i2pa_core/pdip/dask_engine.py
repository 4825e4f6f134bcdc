"""The PDIP sampler on Dask: a crawl that outgrows one machine (paper Sec. 3.1 at 2x10^8 posts).

Every PDIP rule and the matching act within one user, so the job is a group-by-user:

1. the Parquet posts table (a file, a folder or a glob; :mod:`i2pa_core.io.posts_parquet`) is
   read lazily, piece by piece, and each piece validated where it is read (errors name the
   file and its rows);
2. ``dask.dataframe`` shuffles the rows by ``user_id`` (hash partitioning; the peer-to-peer
   shuffle of ``dask.distributed``, which spills to the workers' disks), so each partition
   holds whole users;
3. the engine-free kernel :func:`~i2pa_core.pdip.sampler.user_pdips` runs on every partition;
4. the driver gathers the matched pairs and the funnel counts (small: a few % of the posts)
   and :func:`~i2pa_core.pdip.sampler.combine_user_pdips` sums them and assigns the splits on
   the whole pairs table, with the one seed.

Step 4 is the same code as the in-process path, and the kernel's output does not depend on
which users share a partition or on the order of their rows, so the pairs table is identical
to :func:`~i2pa_core.pdip.sampler.generate_pdips` for any number of workers and partitions. A
failed run raises :class:`DaskEngineError` (one line) and writes nothing: the caller writes
the table only once this function has returned.
"""

from __future__ import annotations

import contextlib
import logging
import os

from i2pa_core.io.posts import PostsFormatError
from i2pa_core.io.posts_parquet import empty_posts, posts_pieces, read_posts_piece
from i2pa_core.pdip.config import EngineConfig, PDIPConfig
from i2pa_core.pdip.sampler import PDIPResult, combine_user_pdips, user_pdips

PARTITION_ROWS = 2_000_000   # default cap of posts per user partition (kernel: ~0.4 GiB / 10^6)
PIECE_ROWS = 500_000         # posts read (and validated) per input task (whole row groups)


class DaskEngineError(RuntimeError):
    """The Dask run failed (a worker died, the scheduler is unreachable...); nothing written."""


def generate_pdips_dask(source: str | os.PathLike, cfg: PDIPConfig, seed: int,
                        engine: EngineConfig = EngineConfig(engine="dask"), *, client=None,
                        progress: bool = True, piece_rows: int = PIECE_ROWS) -> PDIPResult:
    """PDIPs of a Parquet posts table on Dask; the same result as :func:`generate_pdips`.

    Args:
        source: a Parquet file, a folder of them or a glob, readable by every worker (shared
            storage at the same path).
        engine: ``scheduler`` / ``workers`` / ``partitions`` (:class:`EngineConfig`).
        client: an open ``distributed.Client`` to use instead (tests, notebooks); left open.
        piece_rows: rows per input task (whole row groups).
    """
    if not cfg.same_user:
        raise ValueError("the Dask engine partitions by user; it needs same_user: true")
    pieces = posts_pieces(source, piece_rows)
    n_rows = sum(p.num_rows for p in pieces)
    with _connect(engine, client) as dask_client:
        # default: partitions of at most PARTITION_ROWS posts, and two per worker thread so
        # every worker pairs while the slowest partition finishes (the table is the same)
        n_parts = engine.partitions or max(-(-n_rows // PARTITION_ROWS),
                                           2 * sum(dask_client.nthreads().values()), 1)
        parts = _run(dask_client, pieces, n_parts, cfg, progress)
    return combine_user_pdips(parts, cfg, seed)


def _run(client, pieces, n_parts: int, cfg: PDIPConfig, progress: bool) -> list:
    import dask
    import dask.dataframe as dd
    from distributed import as_completed
    from tqdm.auto import tqdm

    posts = dd.from_map(read_posts_piece, pieces, meta=empty_posts(), enforce_metadata=False)
    by_user = posts.shuffle("user_id", npartitions=n_parts, shuffle_method="p2p")
    tasks = [dask.delayed(_pair_partition)(part, cfg) for part in by_user.to_delayed()]
    futures = client.compute(tasks)
    index = {f.key: k for k, f in enumerate(futures)}
    results = [None] * len(futures)
    try:
        with _quiet_shuffle_logs(), tqdm(total=len(futures), desc="PDIPs per user partition",
                                         unit="part", disable=not progress) as bar:
            for future in as_completed(futures):
                results[index[future.key]] = future.result()
                future.release()
                bar.update()
    except PostsFormatError:
        raise
    except Exception as exc:
        raise DaskEngineError(_one_line(exc)) from None
    finally:
        client.cancel(futures)
    return results


@contextlib.contextmanager
def _quiet_shuffle_logs():
    """P2P logs every shuffle start and end as a warning; our progress bar says enough."""
    log = logging.getLogger("distributed.shuffle")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _pair_partition(frame, cfg: PDIPConfig):
    """Run on a worker: one shuffled partition (whole users, any row order) through the kernel."""
    return user_pdips(frame.reset_index(drop=True), cfg)


@contextlib.contextmanager
def _connect(engine: EngineConfig, client):
    """The given client; else a client of the cluster at ``engine.scheduler``; else of a new
    LocalCluster (processes of one thread each), closed on exit."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    try:
        if engine.scheduler is not None:
            cluster, dask_client = None, Client(engine.scheduler)
        else:
            cluster = LocalCluster(n_workers=engine.workers or os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
            dask_client = Client(cluster)
        if engine.scheduler is not None and engine.workers:
            dask_client.wait_for_workers(engine.workers, timeout=600)
    except (OSError, TimeoutError) as exc:
        where = engine.scheduler or "a local cluster"
        raise DaskEngineError(f"cannot start or reach the Dask scheduler ({where}): "
                              f"{_one_line(exc)}") from None
    try:
        yield dask_client
    finally:
        dask_client.close()
        if cluster is not None:
            cluster.close()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "no message"
    hint = ""
    if type(exc).__name__ == "KilledWorker":
        hint = " (a worker died on this task; if it ran out of memory, raise pairs.partitions)"
    return f"{type(exc).__name__}: {text[:400]}{hint}; no pairs table was written"
