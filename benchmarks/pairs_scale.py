"""Scale of the PDIP sampler: wall time and peak RSS on synthetic posts (asserts none).

Run on one core:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/pairs_scale.py
Flags choose sizes, e.g. ``--sizes 1e5 1e6 --reference 2000 --pathological 20000`` for a quick
run. Each measurement runs in a fresh subprocess so its peak RSS is its own. Timings include
caption parsing (prepare_posts) and exclude generating the synthetic table.

``--stream 1e7 5e7 1e8`` measures the bounded-memory path: one subprocess writes the synthetic
posts Parquet chunk by chunk (``CHUNK_ROWS`` posts generated and written at a time; users are
drawn from the whole user range in every chunk, so each user is spread over many row groups),
then a fresh subprocess runs only ``generate_pdips_parquet`` on it and reports wall time, peak
RSS and the peak size of its temporary partition files. ``--data-dir`` keeps the generated
files for re-runs (default: a temporary directory, removed afterwards).

Every measurement is printed as it comes and all of them are written with the command and the
machine to ``results/benchmarks/pairs_scale.json`` (``--out``; figures: ``sampler`` per size,
``reference``, ``pathological``, ``stream``; times in ``*_s``, memory in ``*_gib``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from _record import BenchmarkRecord  # noqa: E402

from i2pa_core.io.files import atomic_path  # noqa: E402
from i2pa_core.pdip.sampler import PDIPConfig, generate_pdips  # noqa: E402
from i2pa_core.pdip.streaming import generate_pdips_parquet  # noqa: E402

END = pd.Timestamp("2019-01-01T00:00:00Z").value
DAY_NS = 86_400 * 10**9


CHUNK_ROWS = 2_000_000


def synthetic_posts(n: int, seed=0, posts_per_user: int = 100, n_users: int | None = None,
                    first_id: int = 0) -> pd.DataFrame:
    """Many users; ~50 % without hashtags; 0-10 words; each user has 3 habitual tag sets.

    ``n_users`` and ``first_id`` let chunks of one large table share users and keep ids unique.
    """
    rng = np.random.default_rng(seed)
    n_users = max(1, n // posts_per_user) if n_users is None else n_users
    user = rng.integers(0, n_users, n)
    vocab = pa.array([f"w{k}" for k in range(2000)] + ["caf\u00e9", "\U0001F600"])
    words = [vocab.take(pa.array(rng.integers(0, len(vocab) - 2 + (k == 0) * 2, n)))
             for k in range(10)]
    n_words = rng.integers(0, 11, n)
    words = [pc.if_else(pa.array(n_words > k), w, pa.scalar(None, pa.string()))
             for k, w in enumerate(words)]
    text = pc.binary_join_element_wise(*words, " ", null_handling="replace", null_replacement="")
    habits = pa.array(["", "#love #instagood", "#food @chef", "#travel #sun #sun", "@friend",
                       "#ootd #style @brand", "#dog", "#art #sketch"])
    habit = np.where(rng.random(n) < 0.5, 0, (user * 3 + rng.integers(0, 3, n)) % 7 + 1)
    caption = pc.binary_join_element_wise(text, habits.take(pa.array(habit)), " ")
    upload = END - rng.integers(40 * DAY_NS, 800 * DAY_NS, n)
    ids = pc.cast(pa.array(np.arange(first_id, first_id + n)), pa.string())
    frame = pd.DataFrame({
        "post_id": pd.array(pc.binary_join_element_wise(pa.scalar("p"), ids, pa.scalar("")),
                            dtype="str"),
        "user_id": pd.array(pc.cast(pa.array(user), pa.string()), dtype="str"),
        "upload_time": pd.to_datetime(upload, utc=True).as_unit("ns"),
        "download_time": pd.to_datetime(np.full(n, END), utc=True).as_unit("ns"),
        "likes": (rng.lognormal(5.5, 1.3, n)).astype(np.int64),
        "caption": pd.array(caption, dtype="str"),
        "media_type": np.where(rng.random(n) < 0.8, "image",
                               np.where(rng.random(n) < 0.5, "carousel", "video"))})
    return frame


def pathological_posts(n: int) -> pd.DataFrame:
    """One user, n posts within 100 days, all with the same caption."""
    frame = synthetic_posts(n, seed=1, posts_per_user=n)
    rng = np.random.default_rng(2)
    frame["upload_time"] = pd.to_datetime(END - 60 * DAY_NS - rng.integers(0, 100 * DAY_NS, n),
                                          utc=True).as_unit("ns")
    frame["caption"] = "sunset #sun @me"
    frame["media_type"] = "image"
    frame["user_id"] = "heavy"
    return frame


def write_synthetic_parquet(path: Path, n: int, seed: int = 0, posts_per_user: int = 100,
                            chunk_rows: int = CHUNK_ROWS) -> Path:
    """``n`` synthetic posts written chunk by chunk (memory: one chunk), users shared by chunks."""
    n_users = max(1, n // posts_per_user)
    with atomic_path(path) as tmp, _Writer(tmp) as writer:
        for first in range(0, n, chunk_rows):
            chunk = synthetic_posts(min(chunk_rows, n - first), seed=[seed, first],
                                    n_users=n_users, first_id=first)
            writer.write(pa.Table.from_pandas(chunk, preserve_index=False))
    return path


class _Writer:
    """A ParquetWriter opened on the first table (its schema) and closed on exit."""

    def __init__(self, path):
        self.path, self.writer = path, None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self.writer.write_table(table, row_group_size=1_000_000)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.writer is not None:
            self.writer.close()


class DiskPeak(threading.Thread):
    """Polls the total size of the files under a folder; ``peak`` is the largest seen (bytes)."""

    def __init__(self, folder: Path, every_s: float = 0.5):
        super().__init__(daemon=True)
        self.folder, self.every_s, self.peak, self.done = folder, every_s, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            self.peak = max(self.peak, _du(self.folder))

    def stop(self) -> int:
        self.done.set()
        self.join()
        return self.peak


def _du(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def measure_stream(path: Path) -> dict:
    """``generate_pdips_parquet`` alone on an existing posts file (called in a fresh process)."""
    n = pq.ParquetFile(path).metadata.num_rows
    with tempfile.TemporaryDirectory(dir=path.parent, prefix="pdip-bench-") as tmp:
        disk = DiskPeak(Path(tmp))
        disk.start()
        t0, cpu0 = time.perf_counter(), _cpu_s()
        n_pairs = len(generate_pdips_parquet(path, PDIPConfig(), seed=0, tmp_dir=tmp).pairs)
        wall = time.perf_counter() - t0
        tmp_peak = disk.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {"kind": "stream", "posts": n, "pdips": n_pairs, "wall_s": round(wall, 2),
            "cpu_s": round(_cpu_s() - cpu0, 2), "peak_rss_gib": round(rss, 3),
            "input_gib": round(path.stat().st_size / 2**30, 2),
            "tmp_disk_gib": round(tmp_peak / 2**30, 2)}


def measure(kind: str, n: int) -> dict:
    """One measurement in this process (called in a subprocess by main)."""
    posts = pathological_posts(n) if kind == "pathological" else synthetic_posts(n)
    cfg = PDIPConfig()
    t0, cpu0 = time.perf_counter(), _cpu_s()
    if kind == "reference":
        from pdip_reference import reference_candidates, reference_greedy
        ref = reference_greedy(reference_candidates(posts, cfg))
        n_pairs = len(ref)
    else:
        result = generate_pdips(posts, cfg, seed=0)
        n_pairs = len(result.pairs)
        if kind == "reference_twin":
            from pdip_reference import reference_candidates, reference_greedy
            assert sorted(zip(result.pairs.a_post_id, result.pairs.b_post_id)) == \
                reference_greedy(reference_candidates(posts, cfg))
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return {"kind": kind, "posts": n, "pdips": n_pairs, "wall_s": round(wall, 2),
            "cpu_s": round(_cpu_s() - cpu0, 2), "peak_rss_gib": round(rss, 3)}


def _cpu_s() -> float:
    """CPU seconds of this process (less sensitive than wall time to other jobs' load)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(kind: str, *args) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               ARROW_NUM_THREADS="1", OMP_THREAD_LIMIT="1")
    out = subprocess.run([sys.executable, __file__, "--one", kind, *map(str, args)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _stream(sizes, data_dir: Path) -> list[dict]:
    rows = []
    for n in map(int, sizes):
        path = data_dir / f"synthetic-posts-{n}.parquet"
        if not path.exists():
            rows.append(_shown(_run("write", n, path)))
        rows.append(_shown(_run("stream", path)))
    return rows


def _shown(row: dict) -> dict:
    print(row, flush=True)
    return row


def _one(kind: str, arg: str, extra: list) -> dict:
    if kind == "write":
        t0 = time.perf_counter()
        path = write_synthetic_parquet(Path(extra[0]), int(arg))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        return {"kind": "write", "posts": int(arg), "wall_s": round(time.perf_counter() - t0, 2),
                "peak_rss_gib": round(rss, 3), "file_gib": round(path.stat().st_size / 2**30, 2)}
    if kind == "stream":
        return measure_stream(Path(arg))
    return measure(kind, int(arg))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--reference", type=float, default=1e4, help="posts for the ratio; 0 skips")
    parser.add_argument("--pathological", type=float, default=1e5, help="0 skips")
    parser.add_argument("--stream", nargs="*", type=float, default=[1e7],
                        help="posts written to Parquet in chunks, then streamed; none skips")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep (and reuse) the generated Parquet files here")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/pairs_scale.json)")
    parser.add_argument("--one", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.one[2:])))
        return
    record = BenchmarkRecord.start("pairs_scale", __file__, argv)
    figures = {"sampler": [_shown(_run("sampler", int(n))) for n in args.sizes]}
    if args.reference:
        fast, slow = _run("sampler", int(args.reference)), _run("reference", int(args.reference))
        speedup = slow["wall_s"] / max(fast["wall_s"], 1e-3)
        figures["reference"] = {"posts": int(args.reference), "sampler": fast,
                                "brute_force": slow, "speedup_vs_brute_force": round(speedup, 1)}
        print(fast, slow, f"speed-up vs brute force: {speedup:.0f}x", flush=True)
    if args.pathological:
        figures["pathological"] = _shown(_run("pathological", int(args.pathological)))
    if args.stream and args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        figures["stream"] = _stream(args.stream, args.data_dir)
    elif args.stream:
        with tempfile.TemporaryDirectory() as tmp:
            figures["stream"] = _stream(args.stream, Path(tmp))
    record.write(figures, args.out)


if __name__ == "__main__":
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    main()
