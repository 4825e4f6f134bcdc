"""The verbs of the ``i2pa`` command: each ``_register_*`` adds one sub-parser and its runner."""

from __future__ import annotations

import sys

from pathlib import Path

from i2pa_core.cli.common import (UserError, add_common, add_config_flags, config_section,
                                  resolve_seed)
from i2pa_core.config import from_mapping


def _run_simulate(args) -> int:
    from i2pa_core.simulate.platform import SimulateConfig, simulate_platform, write_platform

    cfg = from_mapping(SimulateConfig, config_section(args, "simulate"), "simulate")
    seed = resolve_seed(args)
    platform = simulate_platform(cfg, seed)
    paths = write_platform(platform, cfg, args.out, seed, progress=not args.quiet)
    print(f"simulated {len(platform.posts):,} posts of {len(platform.users):,} users "
          f"(variant {cfg.variant}, seed {seed}) -> {paths['posts']}")
    return 0


def _register_simulate(verbs) -> None:
    p = verbs.add_parser(
        "simulate", help="simulate the synthetic social platform (posts, truth, images)",
        description="Simulate the synthetic social platform with known ground truth and write "
        "posts.parquet (the posts-table format), truth.parquet, users.parquet, platform.json "
        "and images/ to --out. Same seed and options, byte-identical posts table.",
        epilog="example: i2pa simulate --out data/sim --seed 1 --users 200 --no-images")
    p.add_argument("--out", required=True, type=Path, help="output folder (created if missing)")
    add_common(p, "simulate")
    add_config_flags(p, [("--users", int, "n_users", "number of users (default 1200)"),
               ("--days", float, "days", "length of the posting span in days (default 180)"),
               ("--variant", str, "variant", "platform taste: instagram, flickr or reddit"),
               ("--image-size", int, "image_size", "rendered image side in pixels (default 64)")])
    p.add_argument("--no-images", dest="render_images", action="store_const", const=False,
                   help="metadata only: write no JPEG files")
    p.set_defaults(run=_run_simulate)
    p.set_defaults(_flag_keys={**p.get_default("_flag_keys"), "render_images": "render_images"})


ENGINE_KEYS = ("engine", "scheduler", "workers", "partitions")


def _run_pairs(args) -> int:
    from i2pa_core.io.pair_list import write_pairs_table
    from i2pa_core.pdip.config import EngineConfig
    from i2pa_core.pdip.dask_engine import DaskEngineError
    from i2pa_core.pdip.engines import generate_on_engine
    from i2pa_core.pdip.sampler import PDIPConfig, read_i2pa_list

    if args.from_i2pa:
        if args.posts:
            raise UserError("give either POSTS or --from-i2pa, not both")
        pairs = read_i2pa_list(args.from_i2pa)
        write_pairs_table(args.out, pairs)
        print(f"read {len(pairs):,} released pairs -> {args.out}")
        return 0
    if not args.posts:
        raise UserError("give a posts table (POSTS) or --from-i2pa LIST.csv")
    cfg = from_mapping(PDIPConfig, config_section(args, "pairs.rules", skip=ENGINE_KEYS),
                       "pairs.rules")
    engine = from_mapping(EngineConfig, config_section(args, "pairs", only=ENGINE_KEYS), "pairs")
    try:
        result = generate_on_engine(args.posts, cfg, resolve_seed(args), engine,
                                    progress=not args.quiet)
    except (DaskEngineError, ValueError) as exc:
        if engine.engine == "inprocess":  # its errors are named by main, as before
            raise
        raise UserError(str(exc)) from None
    write_pairs_table(args.out, result.pairs)  # atomic: a failed run above leaves no table
    if args.funnel:
        from i2pa_core.io.files import write_text
        write_text(args.funnel, result.funnel.to_csv(index=False))
    for note in result.warnings:   # split sizes shrunk to fit a small crawl, empty splits
        print(f"warning: {note}", file=sys.stderr)
    if not len(result.pairs):
        from i2pa_core.pdip.report import diagnose_funnel
        print(f"warning: no PDIPs; {diagnose_funnel(result.funnel)}", file=sys.stderr)
    counts = result.pairs["split"].value_counts().to_dict()
    print(f"{len(result.pairs):,} PDIPs from {result.n_candidates:,} candidates "
          f"(train {counts.get('train', 0):,}, val {counts.get('val', 0):,}, "
          f"test {counts.get('test', 0):,}) -> {args.out}")
    return 0


def split_size(text: str) -> int | float:
    """``--val-size``/``--test-size``: ``2000`` is a count, ``0.1`` a fraction of the PDIPs."""
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() else value


def _register_pairs(verbs) -> None:
    p = verbs.add_parser(
        "pairs", help="generate popularity-discriminable image pairs (paper Sec. 3.1)",
        description="Generate PDIPs from a posts table (CSV, Parquet or JSON Lines) with the "
        "paper's rules, or convert the authors' released Low_popularity,High_popularity list. "
        "Writes a Parquet pairs table: a_post_id (more popular), b_post_id, user_id, p, s_a, "
        "s_b, interval_days, split.",
        epilog="examples: i2pa pairs data/simulate/posts.parquet --out pairs.parquet "
        "--threshold 0.9\n          i2pa pairs 'crawl/*.parquet' --out pairs.parquet --engine dask "
        "--scheduler tcp://head:8786\n          i2pa pairs --from-i2pa test_pairs.csv --out "
        "i2pa.parquet")
    p.add_argument("posts", nargs="?", type=Path, help="posts table (README: posts-table format)")
    p.add_argument("--out", required=True, type=Path, help="output pairs table (.parquet)")
    p.add_argument("--from-i2pa", type=Path, metavar="LIST.csv",
                   help="read the authors' released pair list instead of generating pairs")
    p.add_argument("--funnel", type=Path, metavar="CSV", help="also write the filter funnel")
    add_common(p, "pairs.rules")
    add_config_flags(p, [("--threshold", float, "threshold", "T: minimum P of Eq. 6 (default 0.95)"),
               ("--sigma", float, "sigma", "Thurstone sigma of Eq. 6 (default 0.3)"),
               ("--window-days", float, "window_days", "max upload interval (default 10)"),
               ("--min-age-days", float, "min_age_days", "posts must be older (default 30)"),
               ("--min-likes", int, "min_likes", "minimum likes (default 50)"),
               ("--max-words", int, "max_words", "max descriptive words (default 6)"),
               ("--matching", str, "matching", "greedy_gap (default) or chronological"),
               ("--split", str, "split", "random (default) or user (user-disjoint)"),
               ("--val-size", split_size, "val_size", "validation pairs: a count, or a fraction "
                "below 1 (default 50000; with the test pairs at most 40 %% of the PDIPs)"),
               ("--test-size", split_size, "test_size", "test pairs: a count, or a fraction "
                "below 1 (default 50000)"),
               ("--engine", str, "engine", "inprocess (default); streaming: Parquet posts (file, "
                "folder or glob) partitioned by user on disk, one process; dask: shuffled by "
                "user over a Dask cluster. The same pairs table from each"),
               ("--scheduler", str, "scheduler", "dask: address of a running scheduler "
                "(tcp://host:8786); default: start a local cluster and close it"),
               ("--workers", int, "workers", "dask: local worker processes (default: one per "
                "core); with --scheduler, wait for this many workers"),
               ("--partitions", int, "partitions", "streaming, dask: user partitions (default: "
                "<= 2x10^6 posts each; dask: >= 2 per worker)")])
    p.set_defaults(run=_run_pairs)


def _run_validate(args) -> int:
    from i2pa_core.io.posts import read_posts

    posts = read_posts(args.posts)
    print(f"{args.posts}: {len(posts):,} valid posts of {posts['user_id'].nunique():,} users")
    return 0


def _register_validate(verbs) -> None:
    p = verbs.add_parser(
        "validate", help="check a posts table against the documented format",
        description="Read a posts table (CSV, Parquet or JSON Lines) and report the first "
        "problem with its row and column, or the number of valid posts.",
        epilog="example: i2pa validate my_crawl.csv")
    p.add_argument("posts", type=Path, help="posts table to check")
    p.set_defaults(run=_run_validate)


from i2pa_core.cli.human import register_human  # noqa: E402
from i2pa_core.cli.score import register_score  # noqa: E402

REGISTER = [_register_simulate, _register_pairs, _register_validate, register_score,
            register_human]
