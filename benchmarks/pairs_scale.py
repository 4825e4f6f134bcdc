"""Scale of the PDIP sampler: wall time and peak RSS on synthetic posts (prints, asserts none).

Run on one core:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/pairs_scale.py
Flags choose sizes, e.g. ``--sizes 1e5 1e6 --reference 2000 --pathological 20000`` for a quick
run. Each measurement runs in a fresh subprocess so its peak RSS is its own. Timings include
caption parsing (prepare_posts) and exclude generating the synthetic table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from i2pa_core import io  # noqa: E402
from i2pa_core.pairs import PDIPConfig, generate_pdips  # noqa: E402
from i2pa_core.pairs_stream import generate_pdips_parquet  # noqa: E402

END = pd.Timestamp("2019-01-01T00:00:00Z").value
DAY_NS = 86_400 * 10**9


def synthetic_posts(n: int, seed: int = 0, posts_per_user: int = 100) -> pd.DataFrame:
    """Many users; ~50 % without hashtags; 0-10 words; each user has 3 habitual tag sets."""
    rng = np.random.default_rng(seed)
    n_users = max(1, n // posts_per_user)
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
    frame = pd.DataFrame({
        "post_id": pd.array(pc.binary_join_element_wise(
            pa.scalar("p"), pc.cast(pa.array(np.arange(n)), pa.string()), pa.scalar("")),
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


def measure(kind: str, n: int) -> dict:
    """One measurement in this process (called in a subprocess by main)."""
    posts = pathological_posts(n) if kind == "pathological" else synthetic_posts(n)
    cfg = PDIPConfig()
    t0 = time.perf_counter()
    if kind == "reference":
        from pdip_reference import reference_candidates, reference_greedy
        ref = reference_greedy(reference_candidates(posts, cfg))
        n_pairs = len(ref)
    elif kind == "stream":
        with tempfile.TemporaryDirectory() as tmp:
            path = io.write_parquet(Path(tmp) / "posts.parquet", posts)
            del posts
            t0 = time.perf_counter()
            n_pairs = len(generate_pdips_parquet(path, cfg, seed=0, tmp_dir=tmp).pairs)
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
            "peak_rss_gib": round(rss, 3)}


def _run(kind: str, n: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               ARROW_NUM_THREADS="1", OMP_THREAD_LIMIT="1")
    out = subprocess.run([sys.executable, __file__, "--one", kind, str(n)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--reference", type=float, default=1e4, help="posts for the ratio; 0 skips")
    parser.add_argument("--pathological", type=float, default=1e5, help="0 skips")
    parser.add_argument("--stream", type=float, default=1e6, help="0 skips")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return
    for n in args.sizes:
        print(_run("sampler", int(n)), flush=True)
    if args.reference:
        fast, slow = _run("sampler", int(args.reference)), _run("reference", int(args.reference))
        print(fast, slow, f"speed-up vs brute force: {slow['wall_s'] / max(fast['wall_s'], 1e-3):.0f}x",
              flush=True)
    if args.pathological:
        print(_run("pathological", int(args.pathological)), flush=True)
    if args.stream:
        print(_run("stream", int(args.stream)), flush=True)


if __name__ == "__main__":
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    main()
