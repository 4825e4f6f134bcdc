"""Throughput of the synthetic platform on one core: posts/s with images and metadata-only.

Targets: 100,000 posts with images (simulate + write parquet + render/encode/write JPEGs) in at
most 2 minutes; 10^7 posts metadata-only (simulated in chunks, frames built, not written) in at
most 2 minutes. Prints the figures and the peak resident memory, and writes them with the
command and the machine to ``results/benchmarks/simulate_throughput.json`` (``--out``).

    .venv/bin/python benchmarks/simulate_throughput.py                     # full targets
    .venv/bin/python benchmarks/simulate_throughput.py --images 5000 --meta 200000   # quick
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "NUMEXPR_NUM_THREADS", "ARROW_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import BenchmarkRecord  # noqa: E402

from i2pa_core.simulate.platform import SimulateConfig, iter_platform, simulate_platform, write_platform  # noqa: E402,E501


def users_for(posts: int, cfg: SimulateConfig) -> int:
    """Users needed for about ``posts`` posts (log-normal posting rate, mean exp(sd^2/2))."""
    per_user = cfg.posts_per_day * math.exp(cfg.posts_per_day_sd**2 / 2) * cfg.days
    return max(1, math.ceil(posts / per_user))


def bench_images(n_posts: int, size: int, progress: bool) -> tuple[int, float]:
    cfg = SimulateConfig(image_size=size)
    cfg = SimulateConfig(n_users=users_for(n_posts, cfg), image_size=size)
    start = time.perf_counter()
    platform = simulate_platform(cfg, seed=0)
    with tempfile.TemporaryDirectory() as out:
        write_platform(platform, cfg, out, seed=0, progress=progress)
        elapsed = time.perf_counter() - start
    return len(platform.posts), elapsed


def bench_metadata(n_posts: int) -> tuple[int, float]:
    cfg = SimulateConfig(render_images=False)
    cfg = SimulateConfig(n_users=users_for(n_posts, cfg), render_images=False)
    start, total = time.perf_counter(), 0
    for chunk in iter_platform(cfg, seed=0, blocks_per_chunk=64):
        total += len(chunk.posts)
    return total, time.perf_counter() - start


def peak_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def figure(n: int, secs: float, **extra) -> dict:
    return {"posts": n, "seconds": round(secs, 2), "posts_per_s": round(n / secs, 1),
            "peak_rss_mib_so_far": round(peak_mb(), 1), **extra}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="posts with images (0: skip)")
    parser.add_argument("--meta", type=int, default=10_000_000, help="metadata-only posts (0: skip)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON record (default results/benchmarks/simulate_throughput.json)")
    args = parser.parse_args(argv)
    record = BenchmarkRecord.start("simulate_throughput", __file__, argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    pa.set_cpu_count(1)
    print(f"cores in use: {len(os.sched_getaffinity(0))}")
    figures = {"cores_in_use": len(os.sched_getaffinity(0))}
    if args.images:
        n, secs = bench_images(args.images, args.size, not args.quiet)
        figures["with_images"] = figure(n, secs, posts_asked=args.images, image_px=args.size)
        print(f"with {args.size}px images: {n:,} posts in {secs:.1f} s = {n / secs:,.0f} posts/s "
              f"(peak RSS so far {peak_mb():,.0f} MB)")
    if args.meta:
        n, secs = bench_metadata(args.meta)
        figures["metadata_only"] = figure(n, secs, posts_asked=args.meta)
        print(f"metadata only: {n:,} posts in {secs:.1f} s = {n / secs:,.0f} posts/s "
              f"(peak RSS {peak_mb():,.0f} MB)")
    record.write(figures, args.out)


if __name__ == "__main__":
    main()
