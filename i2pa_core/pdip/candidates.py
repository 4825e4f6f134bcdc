"""Pair-level PDIP rules, evaluated on window pairs in bounded blocks.

For a group of posts sorted by time, the partners of post ``i`` that can be within the window are
the contiguous range ``(i, hi[i])`` (see :mod:`i2pa_core.pdip.prepare`). Pairs are enumerated as a
flat index space over these ranges and cut into blocks of ``cfg.block_pairs``, so memory is
bounded however dense a group is. Each unordered pair is checked exactly:

* window: ``|t_A - t_B| <= window_days`` in integer ns (exactly 10 days is in);
* threshold: ``P = Phi((S_A - S_B) / (sqrt(2) sigma)) >= T`` (Eq. 6, :func:`pdip_probability`),
  where A is the post with the larger S. A gap pre-filter ``S_A - S_B >= gap_min - 1e-9`` with
  ``gap_min = sqrt(2) sigma Phi^-1(T)`` only skips pairs far below the threshold; Eq. 6 decides.
  Equal scores give P = 0.5 < T, so each unordered pair yields at most one ordered candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
from scipy.special import ndtr, ndtri

from i2pa_core.pdip.config import PDIPConfig
from i2pa_core.pdip.prepare import PreparedPosts

GAP_MARGIN = 1e-9


def pdip_probability(s_a, s_b, sigma: float):
    """Eq. 6: P(Q_A >= Q_B | S_A, S_B) = Phi((S_A - S_B) / (sqrt(2) sigma))."""
    return ndtr((np.asarray(s_a, dtype=float) - np.asarray(s_b, dtype=float))
                / (np.sqrt(2.0) * sigma))


def gap_floor(cfg: PDIPConfig) -> float:
    """A gap below which Eq. 6 cannot reach T (with a safety margin)."""
    return float(np.sqrt(2.0) * cfg.sigma * ndtri(cfg.threshold)) - GAP_MARGIN


@dataclass
class CandidateBlock:
    """Ordered candidates (A more popular) as indices into PreparedPosts, plus the block's
    counts."""

    a: np.ndarray
    b: np.ndarray
    gap: np.ndarray       # S_A - S_B
    interval: np.ndarray  # |t_A - t_B| in ns
    n_window: int         # pairs of the block within the window
    n_pairs: int          # pairs of the block enumerated (superset of the window)


def window_pair_blocks(hi: np.ndarray, start: int, stop: int, block: int
                       ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(i, j)`` index arrays, ``start <= i < j < hi[i]``, at most ``block`` pairs each."""
    counts = hi[start:stop] - np.arange(start + 1, stop + 1)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    for k0 in range(0, total, block):
        k = np.arange(k0, min(k0 + block, total), dtype=np.int64)
        row = np.searchsorted(ends, k, side="right")
        j = k - (ends[row] - counts[row]) + row + start + 1
        yield row + start, j


def evaluate_pairs(prep: PreparedPosts, i: np.ndarray, j: np.ndarray, cfg: PDIPConfig
                   ) -> CandidateBlock:
    """Apply the window and Eq. 6 rules to pairs ``i < j`` of one or more groups."""
    interval = np.abs(prep.time[j] - prep.time[i])
    n_pairs = len(i)
    if cfg.window_ns is not None:
        inside = interval <= cfg.window_ns
        i, j, interval = i[inside], j[inside], interval[inside]
    gap = np.abs(prep.score[i] - prep.score[j])
    near = gap >= gap_floor(cfg)
    i, j, interval, gap = i[near], j[near], interval[near], gap[near]
    a_first = prep.score[i] > prep.score[j]
    a, b = np.where(a_first, i, j), np.where(a_first, j, i)
    ok = pdip_probability(prep.score[a], prep.score[b], cfg.sigma) >= cfg.threshold
    return CandidateBlock(a[ok], b[ok], gap[ok], interval[ok], n_window=int(
        len(near)), n_pairs=n_pairs)


def iter_candidate_blocks(prep: PreparedPosts, cfg: PDIPConfig, start: int = 0,
                          stop: int | None = None) -> Iterator[CandidateBlock]:
    """All candidates of posts ``[start, stop)`` (group-aligned), block by block."""
    stop = len(prep) if stop is None else stop
    for i, j in window_pair_blocks(prep.hi, start, stop, cfg.block_pairs):
        yield evaluate_pairs(prep, i, j, cfg)


def group_pair_counts(prep: PreparedPosts) -> np.ndarray:
    """Window-superset pair count of every group (int64), used to plan blocks."""
    per_post = prep.hi - np.arange(1, len(prep) + 1)
    sums = np.concatenate([[0], np.cumsum(per_post)])
    return sums[prep.group_start[1:]] - sums[prep.group_start[:-1]]
