"""The PDIP sampler (paper Sec. 3.1): popularity-discriminable image pairs.

A pair (A more popular than B) is a PDIP when all of these hold (boundaries as written):

1. Eq. 6: ``P = Phi((S_A - S_B) / (sqrt(2) sigma)) >= T`` with ``S = ln(likes)`` (or log10),
   computed by :func:`pdip_probability` (``scipy.special.ndtr``); exactly T is accepted.
2. A and B have the same ``user_id``.
3. Both are older than ``min_age_days`` at download, strictly (``> 30`` days: exactly 30 is out),
   and ``|upload_A - upload_B| <= window_days`` (exactly 10 days is in), in integer ns.
4. Both captions have ``<= max_words`` descriptive words (6 in, 7 out) and identical hashtag
   and @ mention multisets (``#a #a`` differs from ``#a``; order is irrelevant), see captions.py.
5. ``media_type == "image"`` and ``likes >= min_likes`` (50 in, 49 out).
6. Each post is in at most one PDIP: see :mod:`i2pa_core.pdip.matching` for the matching policies.

Stages: :func:`prepare_posts` (post rules, grouping), :mod:`i2pa_core.pdip.candidates` (pair rules in
bounded blocks), :mod:`i2pa_core.pdip.matching` (matching), :func:`split_pairs`. :func:`generate_pdips` runs
them and returns the pairs, the funnel (what each rule removed) and the candidate count.

Rules 2-6 act within one user, so the sampler is a group-by-user: :func:`user_pdips` is the
engine-free kernel (the posts of any set of *whole* users in, their matched pairs and additive
funnel counts out), and :func:`combine_user_pdips` sums the counts of any partition of the users
and assigns the splits once, on the whole pairs table. The in-process path, the streaming path
and the Dask engine all run these two, so how the users were partitioned cannot change a byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from i2pa_core.io.pair_list import PAIR_COLUMNS, read_i2pa_list  # noqa: F401  (public API)
from i2pa_core.pdip.candidates import group_pair_counts, iter_candidate_blocks
from i2pa_core.pdip.candidates import pdip_probability  # noqa: F401  (public API)
from i2pa_core.pdip.config import NS_PER_DAY, PDIPConfig  # noqa: F401  (public API)
from i2pa_core.pdip.matching import match_dense, match_sparse
from i2pa_core.pdip.prepare import PreparedPosts, prepare_posts
from i2pa_core.pdip.split import split_pairs, split_warnings

FUNNEL_COLUMNS = ("level", "rule", "removed", "remaining")


@dataclass(frozen=True)
class PDIPResult:
    """Output of :func:`generate_pdips`."""

    pairs: pd.DataFrame      # PAIR_COLUMNS, sorted by (a_post_id, b_post_id)
    funnel: pd.DataFrame     # FUNNEL_COLUMNS, one row per rule in the order applied
    n_candidates: int        # ordered candidate pairs before one-image-one-pair matching
    warnings: tuple[str, ...] = ()   # split sizes shrunk to fit, empty splits (split_warnings)


@dataclass(frozen=True)
class MatchOutcome:
    """Matched pairs (unsplit) and the pair-level counts of one prepared posts table."""

    pairs: pd.DataFrame
    counts: dict


@dataclass(frozen=True)
class UserPDIPs:
    """Output of the kernel :func:`user_pdips` for one set of whole users (before the split)."""

    pairs: pd.DataFrame      # PAIR_COLUMNS less ``split``, sorted by (a_post_id, b_post_id)
    post_funnel: tuple       # (rule, removed, left) per post rule, as in PreparedPosts
    counts: dict             # pair counts: same_user, same_tags, window, threshold, matched


def generate_pdips(posts: pd.DataFrame, cfg: PDIPConfig, seed: int) -> PDIPResult:
    """Run the whole sampler on a validated posts table; same input and seed, same output."""
    return combine_user_pdips([user_pdips(posts, cfg)], cfg, seed)


def user_pdips(posts: pd.DataFrame, cfg: PDIPConfig) -> UserPDIPs:
    """The per-user kernel: matched PDIPs and funnel counts of a validated posts table.

    With ``same_user`` on, ``posts`` must hold every post of each of its users (any row order);
    then the results of disjoint sets of users add up (:func:`combine_user_pdips`) to the result
    of their union, because no rule and no matching decision looks across users (Sec. 3.1).
    Engine-free: pandas in, pandas out, so Dask, Spark's ``applyInPandas`` or a loop can run it.
    """
    prep = prepare_posts(posts, cfg)
    del posts  # a caller that passed its only reference frees the raw table before matching
    outcome = match_pairs(prep, cfg)
    return UserPDIPs(outcome.pairs, prep.post_funnel, outcome.counts)


def combine_user_pdips(parts: Iterable[UserPDIPs], cfg: PDIPConfig, seed: int) -> PDIPResult:
    """Sum the kernel outputs of disjoint user sets, then split the pairs once (one seed).

    ``parts`` may be a generator (each part is released after it is added); at least one part.
    The split sorts the pairs by id first (:func:`split_pairs`), so the order of parts is free.
    """
    pairs, post_funnel, counts = [], None, None
    for part in parts:
        pairs.append(part.pairs)
        post_funnel = part.post_funnel if post_funnel is None else tuple(
            (rule, r0 + r1, k0 + k1)
            for (rule, r0, k0), (_, r1, k1) in zip(post_funnel, part.post_funnel))
        counts = dict(part.counts) if counts is None else \
            {k: counts[k] + part.counts[k] for k in counts}
    if post_funnel is None:
        raise ValueError("combine_user_pdips needs at least one kernel output")
    merged = pairs[0] if len(pairs) == 1 else pd.concat(pairs, ignore_index=True)
    del pairs
    split = split_pairs(merged, cfg, np.random.default_rng(seed))
    return PDIPResult(split, build_funnel(post_funnel, counts, cfg), counts["threshold"],
                      split_warnings(split, cfg))


def candidate_pairs(prep: PreparedPosts, cfg: PDIPConfig) -> pd.DataFrame:
    """Every ordered candidate before matching, materialised (for small inputs and tests)."""
    blocks = list(iter_candidate_blocks(prep, cfg))
    cat = (lambda f: np.concatenate([getattr(b, f) for b in blocks])) if blocks else \
        (lambda f: np.zeros(0, np.int64))
    return pairs_frame(prep, cat("a"), cat("b"), cat("interval"), cfg)


def match_pairs(prep: PreparedPosts, cfg: PDIPConfig) -> MatchOutcome:
    """Candidates and matching, chunk by chunk of groups; returns pairs (no split) and counts."""
    counts = {"same_user": _same_run_pairs(prep.user_start), "window": 0, "threshold": 0,
              "same_tags": _same_run_pairs(prep.group_start)}
    found = []
    for start, stop, dense in _chunks(prep, cfg.block_pairs):
        if dense:
            for block in iter_candidate_blocks(prep, cfg, start, stop):
                _add(counts, block)
            found.append(match_dense(prep, start, stop, cfg))
            continue
        blocks = list(iter_candidate_blocks(prep, cfg, start, stop))
        for block in blocks:
            _add(counts, block)
        a, b, gap, interval = (np.concatenate([getattr(k, f) for k in blocks])
                               for f in ("a", "b", "gap", "interval"))
        keep = match_sparse(prep, a, b, gap, interval, cfg.matching, offset=start)
        found.append((a[keep], b[keep], gap[keep], interval[keep]))
    a, b, interval = (np.concatenate([f[k] for f in found]) if found else np.zeros(0, np.int64)
                      for k in (0, 1, 3))
    counts["matched"] = len(a)
    return MatchOutcome(pairs_frame(prep, a, b, interval, cfg), counts)


def pairs_frame(prep: PreparedPosts, a, b, interval, cfg: PDIPConfig) -> pd.DataFrame:
    """The pairs table of ordered index pairs (a more popular), sorted by the two ids."""
    s_a, s_b = prep.score[a], prep.score[b]
    frame = pd.DataFrame({
        "a_post_id": pd.array(prep.post_id[a], dtype="str"),
        "b_post_id": pd.array(prep.post_id[b], dtype="str"),
        "user_id": pd.array(prep.user_id[a], dtype="str"),
        "p": pdip_probability(s_a, s_b, cfg.sigma), "s_a": s_a, "s_b": s_b,
        "interval_days": np.asarray(interval, dtype=np.float64) / NS_PER_DAY})
    return frame.sort_values(["a_post_id", "b_post_id"], kind="stable").reset_index(drop=True)


def build_funnel(post_funnel, counts: dict, cfg: PDIPConfig) -> pd.DataFrame:
    """Funnel table: posts removed by each post rule, unordered pairs removed by each pair rule."""
    rows = [("posts", rule, removed, left) for rule, removed, left in post_funnel]
    n = post_funnel[-1][2]
    left = n * (n - 1) // 2
    rows.append(("pairs", "all_pairs", 0, left))
    steps = [("same_user", cfg.same_user), ("same_tags", cfg.same_tags),
             ("window", cfg.window_ns is not None), ("threshold", True), ("matched", True)]
    for rule, active in steps:
        if active:
            rows.append(("pairs", rule, left - counts[rule], counts[rule]))
            left = counts[rule]
    return pd.DataFrame(rows, columns=list(FUNNEL_COLUMNS))


def _add(counts: dict, block) -> None:
    counts["window"] += block.n_window
    counts["threshold"] += len(block.a)


def _same_run_pairs(starts: np.ndarray) -> int:
    sizes = np.diff(starts).astype(object)  # Python ints: no overflow at 10^8 posts
    return int(sum(sizes * (sizes - 1) // 2)) if len(sizes) else 0


def _chunks(prep: PreparedPosts, block: int):
    """Group-aligned post ranges: runs of sparse groups of about ``block`` pairs, dense alone."""
    counts = group_pair_counts(prep)
    dense = counts > block
    bucket = (np.cumsum(counts) - counts) // block
    key = np.where(dense, -1 - np.arange(len(counts)), bucket)
    cut = np.concatenate([[0], np.flatnonzero(key[1:] != key[:-1]) + 1, [len(counts)]])
    for g0, g1 in zip(cut[:-1].tolist(), cut[1:].tolist()):
        if g1 > g0 and counts[g0:g1].sum() > 0:
            yield int(prep.group_start[g0]), int(prep.group_start[g1]), bool(dense[g0])
