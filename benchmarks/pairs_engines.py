"""PDIP engines side by side: in-process vs streaming vs Dask with 1 and 2 workers (JSON out).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/pairs_engines.py --sizes 1e5 1e6

For each size N a synthetic posts Parquet is written first (``pairs_scale.synthetic_posts``,
chunk by chunk, users spread over every chunk, row groups of ``--row-group`` posts), then each
engine runs on that file in a fresh subprocess, so every peak RSS is its own:

* ``inprocess``: ``read_posts`` + ``generate_pdips`` (the whole table in memory);
* ``streaming``: ``generate_pdips_parquet`` (our hash partitioner, one process);
* ``dask1`` / ``dask2``: ``generate_pdips_dask`` on a LocalCluster of 1 or 2 worker processes
  (one thread each); ``wall_s`` is the run, the cluster start and close are timed apart. Peak RSS and CPU of the driver (which
  hosts the scheduler) and of each worker (``getrusage`` on the worker, read by
  ``client.run`` at the end), and the peak size of the workers' spill folder (P2P shuffle).

Every engine's pairs table is checked against the first engine's (same SHA-256 of the
written Parquet). Figures go to ``--out`` (default ``results/benchmarks/pairs_engines.json``,
the record of ``benchmarks/_record.py``) with the command, the machine and the engines' thread
settings: ``figures.sizes`` (one entry per N) and ``figures.extrapolation_2e8``, an
extrapolation to 2x10^8 posts
on 2 and 32 cores, which is labelled as such: it assumes time linear in N, measured from the
largest N, and Amdahl's law with the parallel share implied by the measured 2-over-1 speed-up.
``--skip-inprocess-above`` keeps the in-memory engine off sizes that would not fit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from _record import BenchmarkRecord  # noqa: E402
from pairs_scale import DiskPeak, synthetic_posts  # noqa: E402

from i2pa_core.io.files import atomic_path, write_parquet  # noqa: E402
from i2pa_core.pdip.sampler import PDIPConfig  # noqa: E402

ENGINES = ("inprocess", "streaming", "dask1", "dask2")
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "ARROW_NUM_THREADS": "1", "OMP_THREAD_LIMIT": "1"}
TARGET = 2 * 10**8   # the paper's crawl


def write_posts(path: Path, n: int, row_group: int, chunk_rows: int = 2_000_000) -> dict:
    """``n`` synthetic posts in chunks (memory: one chunk), users shared by all chunks."""
    t0 = time.perf_counter()
    n_users = max(1, n // 100)
    with atomic_path(path) as tmp:
        writer = None
        for first in range(0, n, chunk_rows):
            chunk = synthetic_posts(min(chunk_rows, n - first), seed=[0, first], n_users=n_users,
                                    first_id=first)
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            writer = writer or pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table, row_group_size=row_group)
        writer.close()
    return {"posts": n, "write_s": round(time.perf_counter() - t0, 2),
            "file_mib": round(path.stat().st_size / 2**20, 1)}


def _self_usage() -> dict:
    """Peak RSS (MiB) and CPU seconds of the calling process (a worker, via client.run)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mib": round(u.ru_maxrss / 1024, 1), "cpu_s": round(u.ru_utime + u.ru_stime, 2)}


def measure(engine: str, path: Path, out: Path, partitions: int | None,
            piece_rows: int) -> dict:
    """One engine on one file, in this (fresh) process; writes the pairs table to ``out``."""
    cfg = PDIPConfig()
    record, t_start = {"engine": engine}, None
    if engine == "inprocess":
        from i2pa_core.io.posts import read_posts
        from i2pa_core.pdip.sampler import generate_pdips
        t_start = time.perf_counter()
        result = generate_pdips(read_posts(path), cfg, seed=0)
    elif engine == "streaming":
        from i2pa_core.pdip.streaming import generate_pdips_parquet
        with tempfile.TemporaryDirectory(dir=path.parent, prefix="bench-stream-") as tmp:
            disk = DiskPeak(Path(tmp), every_s=0.25)
            disk.start()
            t_start = time.perf_counter()
            result = generate_pdips_parquet(path, cfg, seed=0, tmp_dir=tmp)
            record["tmp_disk_mib"] = round(disk.stop() / 2**20, 1)
    else:
        result = _measure_dask(int(engine.removeprefix("dask")), path, cfg, partitions,
                               piece_rows, record)
    if t_start is not None:
        record["wall_s"] = round(time.perf_counter() - t_start, 2)
    record["pairs_mib"] = round(result.pairs.memory_usage(deep=True).sum() / 2**20, 2)
    record["load_avg_after"] = round(os.getloadavg()[0], 2)
    write_parquet(out, result.pairs)
    record.update(pdips=len(result.pairs), sha256=hashlib.sha256(out.read_bytes()).hexdigest(),
                  driver=_self_usage())
    return record


def _measure_dask(workers: int, path: Path, cfg, partitions, piece_rows, record):
    from distributed import Client, LocalCluster

    from i2pa_core.pdip.config import EngineConfig
    from i2pa_core.pdip.dask_engine import generate_pdips_dask

    with tempfile.TemporaryDirectory(dir=path.parent, prefix="bench-dask-") as tmp:
        t0 = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", local_directory=tmp,
                          silence_logs=40) as cluster, Client(cluster) as client:
            record["cluster_start_s"] = round(time.perf_counter() - t0, 2)
            disk = DiskPeak(Path(tmp), every_s=0.25)
            disk.start()
            t_run = time.perf_counter()
            result = generate_pdips_dask(path, cfg, 0, EngineConfig("dask", partitions=partitions),
                                         client=client, progress=False, piece_rows=piece_rows)
            record["wall_s"] = round(time.perf_counter() - t_run, 2)  # cluster start/close apart
            record["spill_disk_mib"] = round(disk.stop() / 2**20, 1)
            record["workers"] = list(client.run(_self_usage).values())
            record["partitions"] = partitions or "default"
            t_close = time.perf_counter()
        record["cluster_close_s"] = round(time.perf_counter() - t_close, 2)
    return result


def _run(*args) -> dict:
    env = dict(os.environ, **THREAD_ENV)
    out = subprocess.run([sys.executable, __file__, "--one", *map(str, args)], env=env,
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{args}: exit {out.returncode}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions() -> dict:
    """What the engine processes run with, beyond the record's machine block."""
    import dask
    import numpy
    return {"dask": dask.__version__, "numpy": numpy.__version__,
            "engine_thread_env": THREAD_ENV}


def cpu_speedup(one: dict, two: dict) -> float:
    """2-over-1 speed-up from worker CPU seconds (the busiest of the two workers): what the wall
    clock would show if both cores were free; a busy machine distorts the wall-clock figure."""
    return sum(w["cpu_s"] for w in one["workers"]) / max(w["cpu_s"] for w in two["workers"])


def _amdahl(speedup2: float, cores: int) -> tuple[float, float]:
    parallel = min(1.0, max(0.0, 2 * (1 - 1 / speedup2)))   # S2 = 1 / (1 - p + p / 2)
    return parallel, 1 / ((1 - parallel) + parallel / cores)


def extrapolate(rows: list[dict]) -> dict:
    """2x10^8 posts from the largest N: linear in N, Amdahl from the 2-over-1 speed-up."""
    by = {r["engine"]: r for r in rows}
    if not {"dask1", "dask2"} <= set(by):
        return {}
    n = by["dask1"]["posts"]
    scale = TARGET / n
    out = {"note": "EXTRAPOLATION, not a measurement: time linear in posts from N = "
                   f"{n:.0e}; 32 cores by Amdahl's law with the parallel share implied by the "
                   "2-over-1 speed-up (from the wall clock, and from worker CPU seconds, which "
                   "a busy machine distorts less); a real cluster adds network shuffle time",
           "from_posts": n,
           "streaming_1_core_s": round(by["streaming"]["wall_s"] * scale) if "streaming" in by else None,
           "pairs_table_mib": round(by["dask2"]["pairs_mib"] * scale),
           "driver_note": "the driver gathers the whole pairs table (pairs_table_mib, linear in "
                          "the PDIPs) and holds it a few times over while sorting and "
                          "splitting, on top of its measured baseline "
                          f"({by['dask2']['driver']['peak_rss_mib']} MiB at {n:.0e})",
           "worker_peak_note": "bounded by the partition size (measured "
                               f"{max(w['peak_rss_mib'] for w in by['dask1']['workers'])} MiB at "
                               f"{n:.0e} posts); keep partitions at <= 2x10^6 posts"}
    for basis, speedup in (("wall", by["dask1"]["wall_s"] / by["dask2"]["wall_s"]),
                           ("cpu", cpu_speedup(by["dask1"], by["dask2"]))):
        parallel, s32 = _amdahl(speedup, 32)
        out[basis] = {"speedup_2_over_1": round(speedup, 2), "parallel_share": round(parallel, 3),
                      "dask_2_cores_s": round(by["dask1"]["wall_s"] * scale / min(speedup, 2)
                                              if speedup > 1 else by["dask2"]["wall_s"] * scale),
                      "dask_32_cores_s": round(by["dask1"]["wall_s"] * scale / s32)}
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--partitions", type=int, default=None, help="Dask user partitions")
    parser.add_argument("--row-group", type=int, default=250_000)
    parser.add_argument("--piece-rows", type=int, default=500_000)
    parser.add_argument("--skip-inprocess-above", type=float, default=2e7)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep/reuse the inputs here")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/pairs_engines.json)")
    parser.add_argument("--one", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        kind, *rest = args.one
        if kind == "write":
            print(json.dumps(write_posts(Path(rest[0]), int(rest[1]), int(rest[2]))))
        else:
            part = None if rest[2] == "None" else int(rest[2])
            print(json.dumps(measure(kind, Path(rest[0]), Path(rest[1]), part, int(rest[3]))))
        return
    record = BenchmarkRecord.start("pairs_engines", __file__, argv)
    report = {"sizes": [], "versions": versions()}
    with tempfile.TemporaryDirectory() as scratch:
        data = args.data_dir or Path(scratch)
        data.mkdir(parents=True, exist_ok=True)
        for n in map(int, args.sizes):
            path = data / f"posts-{n}-rg{args.row_group}.parquet"
            entry = {"posts": n, "input": _run("write", path, n, args.row_group)
                     if not path.exists() else {"posts": n, "reused": str(path)}, "engines": []}
            for engine in args.engines:
                if engine == "inprocess" and n > args.skip_inprocess_above:
                    continue
                row = _run(engine, path, data / f"pairs-{n}-{engine}.parquet", args.partitions,
                           args.piece_rows)
                row["posts"] = n
                entry["engines"].append(row)
                print(json.dumps(row), flush=True)
            digests = {r["sha256"] for r in entry["engines"]}
            entry["identical_tables"] = len(digests) == 1
            assert entry["identical_tables"], f"engines disagree at N = {n}: {entry['engines']}"
            by = {r["engine"]: r for r in entry["engines"]}
            if {"dask1", "dask2"} <= set(by):
                entry["speedup_dask2_over_dask1"] = {
                    "wall": round(by["dask1"]["wall_s"] / by["dask2"]["wall_s"], 2),
                    "worker_cpu": round(cpu_speedup(by["dask1"], by["dask2"]), 2)}
            report["sizes"].append(entry)
    report["extrapolation_2e8"] = extrapolate(report["sizes"][-1]["engines"])
    print(json.dumps(report["extrapolation_2e8"], indent=1))
    record.write(report, args.out)


if __name__ == "__main__":
    main()
