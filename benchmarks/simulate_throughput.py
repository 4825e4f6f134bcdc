"""Throughput of the synthetic platform on one core: posts/s with images and metadata-only.

Targets: 100,000 posts with images (simulate + write parquet + render/encode/write JPEGs) in at
most 2 minutes; 10^7 posts metadata-only (simulated in chunks, frames built, not written) in at
most 2 minutes. Prints the figures and the peak resident memory.

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
import tempfile  # noqa: E402
import time  # noqa: E402

import pyarrow as pa  # noqa: E402

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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="posts with images (0: skip)")
    parser.add_argument("--meta", type=int, default=10_000_000, help="metadata-only posts (0: skip)")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    pa.set_cpu_count(1)
    print(f"cores in use: {len(os.sched_getaffinity(0))}")
    if args.images:
        n, secs = bench_images(args.images, args.size, not args.quiet)
        print(f"with {args.size}px images: {n:,} posts in {secs:.1f} s = {n / secs:,.0f} posts/s "
              f"(peak RSS so far {peak_mb():,.0f} MB)")
    if args.meta:
        n, secs = bench_metadata(args.meta)
        print(f"metadata only: {n:,} posts in {secs:.1f} s = {n / secs:,.0f} posts/s "
              f"(peak RSS {peak_mb():,.0f} MB)")


if __name__ == "__main__":
    main()
